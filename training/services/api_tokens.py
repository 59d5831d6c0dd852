"""API tokens (DRF authtoken): one per user; creating one replaces the old key."""

from __future__ import annotations

from django.db import transaction
from rest_framework.authtoken.models import Token


@transaction.atomic
def api_token_rotate(*, user) -> Token:
    """A new token for ``user`` (any previous one stops working)."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)
