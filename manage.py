#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ares_site.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:  # a missing SECRET_KEY, a broken DATABASE_URL: one line, no traceback
        sys.exit(f"manage.py: {exc}")


if __name__ == "__main__":
    main()
