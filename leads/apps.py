from django.apps import AppConfig


class LeadsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "leads"

    def ready(self):
        # Registers the Celery tasks in every process (web included), since the code
        # below tasks.py starts them by name through leads.background.
        from django.contrib.auth.signals import user_logged_in

        from . import tasks  # noqa: F401
        from .profile_views import remember_browser_time_zone

        user_logged_in.connect(remember_browser_time_zone, dispatch_uid="leads.remember_browser_time_zone")
