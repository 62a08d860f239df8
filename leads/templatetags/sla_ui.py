"""The words for an MQL's response SLA: durations, countdowns, business hours and escalation.

The clocks themselves are computed by ``leads.sla`` (``SlaClocks`` builds one
``SlaClock`` per lead for a page); these filters only put them into words.
``static/js/funnel.js`` writes the same countdown words while the page is open.
"""

from datetime import UTC, datetime, timedelta

from django import template

from leads.models import WEEKDAYS

register = template.Library()

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def duration(seconds, *, days=True):
    """'1d 3h', '3h 05m', '42m 05s', '9s': the countdown format funnel.js writes too."""
    seconds = max(0, int(seconds))
    day_count, rest = divmod(seconds, 86400) if days else (0, seconds)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if day_count:
        return f"{day_count}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


@register.filter
def span(value):
    """A timedelta for people: 'less than a minute', '12 min', '3h', '2h 5m', '2d 4h'."""
    if value is None:
        return ""
    minutes = int(value.total_seconds()) // 60
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} min"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    return f"{hours}h {minutes}m" if minutes else f"{hours}h"


@register.filter
def clock_countdown(clock):
    """'due in 42m 05s', 'due in 3h 10m of business time' or 'overdue by 1h 03m'."""
    if clock is None or clock.due_at is None:
        return ""
    if clock.is_overdue:
        return f"overdue by {duration((clock.now - clock.due_at).total_seconds())}"
    if clock.counts_business_time:
        return f"due in {duration(clock.left.total_seconds(), days=False)} of business time"
    return f"due in {duration((clock.due_at - clock.now).total_seconds())}"


@register.filter
def isos(values):
    """Instants as space-separated ISO 8601 timestamps, for a data attribute."""
    return " ".join(value.astimezone(UTC).replace(microsecond=0).isoformat() for value in values)


@register.filter
def parse_iso(value):
    """A timestamp stored as ISO 8601 text (event payloads) as a datetime; None when it is not one."""
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@register.filter
def working_days(hours):
    """A BusinessHours' working days as ranges: 'Mon–Fri', 'Mon, Wed, Fri', 'Mon–Thu, Sat'."""
    days = sorted(hours.working_days)
    runs = []
    for day in days:
        if runs and runs[-1][1] == day - 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    parts = []
    for first, last in runs:
        if last - first >= 2:
            parts.append(f"{_DAY_NAMES[first]}–{_DAY_NAMES[last]}")
        else:
            parts.extend(_DAY_NAMES[day] for day in range(first, last + 1))
    return ", ".join(parts) if len(days) < len(WEEKDAYS) else "Every day"


@register.filter
def escalation(policy):
    """What happens when ``policy``'s window is missed, in one line."""
    steps = []
    if policy.notify_owner and policy.notify_managers:
        steps.append("e-mail the owner and the team's managers")
    elif policy.notify_owner:
        steps.append("e-mail the owner")
    elif policy.notify_managers:
        steps.append("e-mail the team's managers")
    if policy.reassign_on_breach:
        after = policy.reassign_after_minutes
        steps.append(f"reassign after {span(timedelta(minutes=after))}" if after else "reassign at once")
    return "; ".join(steps).capitalize() if steps else "Flag it in the history only"
