"""Formatting for the report pages and their CSV: percentages, durations, outcomes.

A rate whose denominator is zero has no value: it shows as "—", never as 0%.
"""

from datetime import timedelta

from django import template

from reports.metrics import Outcome, Ratio

register = template.Library()

NO_VALUE = "—"


@register.filter
def percent(value):
    """25 → '25%', 66.666 → '66.7%', None (or a Ratio with nothing to divide by) → '—'."""
    if isinstance(value, Ratio):
        value = value.percent
    if value is None:
        return NO_VALUE
    rounded = round(value, 1)
    return f"{rounded:.0f}%" if rounded == int(rounded) else f"{rounded:.1f}%"


@register.filter
def duration(value):
    """A response time, short: '42s', '25m', '1h 33m', '3d 4h'; None → '—'."""
    if value is None:
        return NO_VALUE
    if not isinstance(value, timedelta):
        value = timedelta(seconds=value)
    seconds = max(0, round(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m" if not secs or minutes >= 10 else f"{minutes}m {secs:02d}s"
    return f"{secs}s"


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
        return f"{value:%b %Y}"
    if kind == "week":
        return f"{value:%d %b %Y}"
    if kind == "int":
        return f"{value:,}"
    if kind == "target":
        # A pro-rated target keeps one decimal: 26.7 of a month's 80.
        return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
    return str(value)


@register.filter
def invalid(bound_field):
    """The field's widget marked invalid and pointing at its error message."""
    return bound_field.as_widget(attrs={"aria-invalid": "true", "aria-describedby": f"{bound_field.auto_id}-error"})
