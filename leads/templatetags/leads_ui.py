"""Template helpers for the lead pages: which buttons to show, names, times. The words for SLA clocks are in ``sla_ui``."""

import re
from datetime import timedelta

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.timesince import timesince
from django.utils.translation import gettext, gettext_lazy, npgettext_lazy, pgettext, pgettext_lazy

from leads import access, transitions
from leads.models import Lead
from leads.models.leads import FIELD_LABELS

register = template.Library()

ROLE_LABELS = {
    access.REP: gettext_lazy("Sales rep"),
    access.MANAGER: gettext_lazy("Sales manager"),
    access.MARKETER: gettext_lazy("Marketer"),
    access.ADMIN: gettext_lazy("Admin"),
}

# timesince's units as they follow "ago"/"for" ("vor 3 Tagen", "seit 2 Stunden": German wants the dative).
SINCE_STRINGS = {
    "year": npgettext_lazy("time since", "%(num)d year", "%(num)d years", "num"),
    "month": npgettext_lazy("time since", "%(num)d month", "%(num)d months", "num"),
    "week": npgettext_lazy("time since", "%(num)d week", "%(num)d weeks", "num"),
    "day": npgettext_lazy("time since", "%(num)d day", "%(num)d days", "num"),
    "hour": npgettext_lazy("time since", "%(num)d hour", "%(num)d hours", "num"),
    "minute": npgettext_lazy("time since", "%(num)d minute", "%(num)d minutes", "num"),
}

# What made a score change (the ``cause`` of a score_changed event's payload, a code): its words.
SCORE_CAUSES = {
    "activity": pgettext_lazy("score change cause", "activity"),
    "created": pgettext_lazy("score change cause", "created"),
    "updated": pgettext_lazy("score change cause", "updated"),
    "decay": pgettext_lazy("score change cause", "decay"),
    "rescore": pgettext_lazy("score change cause", "rescore"),
}


def time_since(value, now=None, *, depth=2):
    """The time from ``value`` to now as "ago"/"for" take it: '3 days, 4 hours' ('3 Tagen, 4 Stunden')."""
    return timesince(value, now, time_strings=SINCE_STRINGS, depth=depth)


def time_ago(value, now=None, *, depth=1):
    """'5 minutes ago' ('vor 5 Minuten')."""
    return gettext("%(time)s ago") % {"time": time_since(value, now, depth=depth)}


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
    return ", ".join(str(ROLE_LABELS[role]) for role in access.ROLES if role in roles)


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
        return gettext("just now")
    return time_ago(value)


@register.filter
def since(value):
    """'3 days, 4 hours' after "for": 'MQL for 3 days' ('seit 3 Tagen MQL')."""
    if value is None:
        return ""
    return time_since(value)


@register.filter
def ago_exactly(value):
    """'3 days, 4 hours ago' ('vor 3 Tagen, 4 Stunden'), with no 'just now'."""
    if value is None:
        return ""
    return time_ago(value, depth=2)


@register.filter
def field_label(name):
    """The label of a lead field, for the history of changed details ('job_title' -> 'Job title')."""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    try:
        return capfirst(Lead._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


@register.filter
def translated(value):
    """Reference data kept in the database in English (the standard rejection reasons of
    ``leads.reference_data``): the user's language where the catalogue has it, else as stored."""
    return gettext(value) if value else value


@register.filter
def score_cause(code):
    """The words for what changed a score ('activity' / 'Aktivität'); an unknown code as stored."""
    return str(SCORE_CAUSES.get(code, code)) if code else code


# A routing decision as the history keeps it (leads.routing.Decision.as_payload): English words,
# put into the user's language here. The rule by its code; a skipped rep's reason by its pattern.
ROUTING_RULES = {
    "account_owner": gettext_lazy("owner of an open lead of the account"),
    "round_robin": gettext_lazy("weighted round-robin"),
    "nobody": gettext_lazy("nobody could take it"),
}
ROUTING_REASONS = {
    "deactivated": gettext_lazy("deactivated"),
    "marked unavailable": gettext_lazy("marked unavailable"),
    "out of office": gettext_lazy("out of office"),
    "the current owner": gettext_lazy("the current owner"),
}
_AT_CAPACITY = re.compile(r"at capacity \((\d+) of (\d+) open MQLs\)")
_NOT_A_REP = re.compile(r"owns a lead of the account but is not a rep of (.+)")
_OWNS_BUT = re.compile(r"owns a lead of the account but is (.+)")


@register.filter
def routing_rule(decision):
    """The rule that chose the owner ('weighted round-robin'), from its code; the stored label if unknown."""
    label = ROUTING_RULES.get(decision.get("rule"))
    return str(label) if label else decision.get("rule_label", "")


@register.filter
def routing_reason(reason):
    """Why routing skipped a rep ('out of office', 'at capacity (3 of 3 open MQLs)'); an unknown one as stored."""
    reason = reason or ""
    if reason in ROUTING_REASONS:
        return str(ROUTING_REASONS[reason])
    if match := _AT_CAPACITY.fullmatch(reason):
        return gettext("at capacity (%(open)s of %(capacity)s open MQLs)") % {
            "open": match[1],
            "capacity": match[2],
        }
    if match := _NOT_A_REP.fullmatch(reason):
        return gettext("owns a lead of the account but is not a rep of %(team)s") % {"team": match[1]}
    if match := _OWNS_BUT.fullmatch(reason):
        return gettext("owns a lead of the account but is %(why)s") % {"why": routing_reason(match[1])}
    return reason


@register.filter
def shown_value(value):
    """A value of the audit log's before and after: yes or no for a flag, in the reader's language."""
    if isinstance(value, bool):
        return pgettext("audit value", "yes") if value else pgettext("audit value", "no")
    return value


@register.simple_tag
def javascript_catalogue_url():
    """Where the page's language's JavaScript catalogue is (an address a browser may keep for a year)."""
    from funnelapp import jsi18n

    return jsi18n.url()
