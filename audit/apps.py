from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Configuration audit log"
    default_auto_field = "django.db.models.BigAutoField"
