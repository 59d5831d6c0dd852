"""The user's admin page shows its API token; an action creates (or replaces) tokens."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from training.admin.lookups import OutOfRangeLookupsAreIncorrect
from training.services.api_tokens import api_token_rotate

MSG_TOKENS_CREATED = "New API token for {users}; each replaces the user's previous token."
MSG_NO_TOKEN = "none — use the action “Create or replace API token” (or manage.py drf_create_token)"

User = get_user_model()


@admin.action(description="Create or replace API token", permissions=["change"])
def create_api_token(modeladmin, request, queryset):
    users = list(queryset)
    for user in users:
        api_token_rotate(user=user)
    modeladmin.message_user(
        request, MSG_TOKENS_CREATED.format(users=", ".join(u.username for u in users)), messages.SUCCESS
    )


# django.contrib.auth registered its UserAdmin when its admin module was imported (above): replace it with the
# same admin plus the token field and action.
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class AresUserAdmin(OutOfRangeLookupsAreIncorrect, UserAdmin):
    readonly_fields = (*UserAdmin.readonly_fields, "api_token")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("API", {"fields": ("api_token",)}))
    actions = [*(UserAdmin.actions or []), create_api_token]

    @admin.display(description="API token")
    def api_token(self, obj) -> str:
        token = getattr(obj, "auth_token", None) if obj is not None and obj.pk else None
        return token.key if token else MSG_NO_TOKEN
