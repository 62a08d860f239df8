"""Formatting for the report pages and their CSV: percentages, durations, outcomes.

A rate whose denominator is zero has no value: it shows as "—", never as 0%.
"""

from datetime import timedelta

from django import template
from django.utils import formats
from django.utils.translation import gettext

from reports.metrics import Outcome, Ratio

register = template.Library()

NO_VALUE = "—"


def number(value, decimals=None):
    """``value`` in the language's digits: 1,234.5 in English, 1.234,5 in German."""
    if decimals is not None:
        # number_format cuts digits off; round half to even first, as f"{value:.1f}" did.
        value = round(value, decimals)
    return formats.number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


@register.filter
def percent(value):
    """25 → '25%', 66.666 → '66.7%' ('66,7 %' in German), None (or a Ratio with nothing to divide by) → '—'."""
    if isinstance(value, Ratio):
        value = value.percent
    if value is None:
        return NO_VALUE
    rounded = round(value, 1)
    shown = number(rounded, 0) if rounded == int(rounded) else number(rounded, 1)
    # Translators: a percentage; German puts a space before the sign ("25 %").
    return gettext("%(number)s%%") % {"number": shown}


@register.filter
def duration(value):
    """A response time, short: '42s', '25m', '1h 33m', '3d 4h' (German '1 Std. 33 Min.'); None → '—'."""
    if value is None:
        return NO_VALUE
    if not isinstance(value, timedelta):
        value = timedelta(seconds=value)
    seconds = max(0, round(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        if hours:
            return gettext("%(days)sd %(hours)sh") % {"days": number(days), "hours": hours}
        return gettext("%(days)sd") % {"days": number(days)}
    if hours:
        return gettext("%(hours)sh %(minutes)sm") % {"hours": hours, "minutes": f"{minutes:02d}"}
    if minutes:
        if not secs or minutes >= 10:
            return gettext("%(minutes)sm") % {"minutes": minutes}
        return gettext("%(minutes)sm %(seconds)ss") % {"minutes": minutes, "seconds": f"{secs:02d}"}
    return gettext("%(seconds)ss") % {"seconds": secs}


@register.filter
def outcome_label(value):
    """An episode's ``outcome`` (``metrics.with_outcomes``) in words: 'SQL (qualified)', 'Ignored (window expired)' ..."""
    return Outcome(value).label


@register.filter
def outcome_tone(value):
    """A badge class for an episode's ``outcome``: good, bad or waiting."""
    return f"badge-{Outcome(value).tone}"


@register.filter
def cell(value, kind):
    """One table cell as text, by its column kind."""
    if kind == "percent":
        return percent(value)
    if kind == "duration":
        return duration(value)
    if value is None or value == "":
        return NO_VALUE
    if kind == "month":
        return formats.date_format(value, "YEAR_MONTH_FORMAT")
    if kind == "week":
        return formats.date_format(value, "DATE_FORMAT")
    if kind == "int":
        return number(value)
    if kind == "target":
        # A pro-rated target keeps one decimal: 26.7 of a month's 80.
        return number(value, 0) if value == int(value) else number(value, 1)
    return str(value)


@register.filter
def invalid(bound_field):
    """The field's widget marked invalid and pointing at its error message."""
    return bound_field.as_widget(attrs={"aria-invalid": "true", "aria-describedby": f"{bound_field.auto_id}-error"})
