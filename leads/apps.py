from django.apps import AppConfig


class LeadsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "leads"

    def ready(self):
        # Registers the Celery tasks in every process (web included), since the code
        # below tasks.py starts them by name through leads.background.
        from . import tasks  # noqa: F401
