"""django-celery-beat's own admins (schedules, periodic tasks), each with the app's shared lookup guard: a filter
value no column can hold (``?crontab=99…9``) is a bad filter, not a server error. Registered by replacing
django-celery-beat's registrations with subclasses of its own classes."""

from django.contrib import admin
from django_celery_beat import admin as beat_admin
from django_celery_beat import models as beat_models

from training.admin.lookups import OutOfRangeLookupsAreIncorrect

BEAT_ADMINS = {
    beat_models.PeriodicTask: beat_admin.PeriodicTaskAdmin,
    beat_models.ClockedSchedule: beat_admin.ClockedScheduleAdmin,
    beat_models.CrontabSchedule: beat_admin.CrontabScheduleAdmin,
    beat_models.SolarSchedule: beat_admin.SolarScheduleAdmin,
    beat_models.IntervalSchedule: beat_admin.IntervalScheduleAdmin,
}

for model, admin_class in BEAT_ADMINS.items():
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, type(admin_class.__name__, (OutOfRangeLookupsAreIncorrect, admin_class), {}))
