"""SLA due times for MQLs."""

from datetime import timedelta

from django.conf import settings


def response_due_at(start, *, lead=None):
    """Return when the response window of an MQL routed at ``start`` closes; raises nothing."""
    return start + timedelta(minutes=settings.FUNNEL_DEFAULT_SLA_MINUTES)
