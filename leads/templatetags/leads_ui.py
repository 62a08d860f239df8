"""Template helpers for the lead pages: which buttons to show, names, times. The words for SLA clocks are in ``sla_ui``."""

from datetime import timedelta

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.timesince import timesince
from django.utils.translation import gettext

from leads import access, transitions
from leads.models import Lead

register = template.Library()

ROLE_LABELS = {
    access.REP: "Sales rep",
    access.MANAGER: "Sales manager",
    access.MARKETER: "Marketer",
    access.ADMIN: "Admin",
}


@register.simple_tag(takes_context=True)
def allowed_actions(context, lead):
    """The verbs the current user may perform on ``lead`` in its stage; the transition still enforces them."""
    return transitions.available_actions(lead, context["request"].user)


@register.filter
def person(user, fallback="—"):
    """A user's full name, else username; ``fallback`` when there is no user."""
    if user is None:
        return fallback
    return user.get_full_name() or user.get_username()


@register.filter
def role_labels(roles):
    return ", ".join(ROLE_LABELS[role] for role in access.ROLES if role in roles)


@register.filter
def iso(value):
    """An ISO 8601 timestamp without microseconds, which every browser's Date.parse reads."""
    if value is None:
        return ""
    return value.replace(microsecond=0).isoformat()


@register.filter
def ago(value):
    """'5 minutes ago', or 'just now' within the first minute."""
    if value is None:
        return ""
    if timezone.now() - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value, depth=1)} ago"


@register.filter
def field_label(name):
    """The label of a lead field, for the history of changed details ('job_title' -> 'Job title')."""
    try:
        return capfirst(Lead._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


@register.filter
def translated(value):
    """Reference data kept in the database in English (the standard rejection reasons of
    ``leads.reference_data``): the user's language where the catalogue has it, else as stored."""
    return gettext(value) if value else value
