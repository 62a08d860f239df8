#!/usr/bin/env python
import contextlib
import os
import sys

# Commands whose changes the audit log should not group under one context: a server
# (each request has its own), and the schema commands (pghistory's advice).
UNATTRIBUTED = {"runserver", "migrate", "test", "makemigrations"}

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "funnelapp.settings")
    from django.core.management import execute_from_command_line

    command = sys.argv[1] if len(sys.argv) > 1 else ""
    context = contextlib.nullcontext()
    if command and command not in UNATTRIBUTED:
        import django
        import pghistory

        django.setup()
        # The audit log says which command changed a setting (createsuperuser, a shell ...).
        context = pghistory.context(url=f"manage.py {command}")
    with context:
        execute_from_command_line(sys.argv)
