"""Reads for the schedules page: each schedule with its crontab in words and its next fire times."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from training.models import RetrainSchedule
from training.services.crontabs import crontab_describe, crontab_next_fires


def schedule_rows() -> list[RetrainSchedule]:
    schedules = list(RetrainSchedule.objects.select_related("profile", "last_run").order_by("id"))
    for schedule in schedules:
        schedule.description = crontab_describe(schedule.crontab)
        try:
            schedule.next_fires = crontab_next_fires(schedule.crontab) if schedule.enabled else []
        except ValidationError:
            schedule.next_fires = []
    return schedules
