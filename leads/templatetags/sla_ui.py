"""The words for an MQL's response SLA: durations, countdowns, business hours and escalation.

The clocks themselves are computed by ``leads.sla`` (``SlaClocks`` builds one
``SlaClock`` per lead for a page); these filters only put them into words.
``static/js/funnel.js`` writes the same countdown words while the page is open.
"""

from datetime import UTC, datetime, timedelta

from django import template
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.text import capfirst
from django.utils.translation import gettext

from leads.models import WEEKDAYS

register = template.Library()


def _day_name(day):
    """Monday is 0: 'Mon' / 'Mo' (Django's own catalogue)."""
    return str(WEEKDAYS_ABBR[day])


def duration(seconds, *, days=True):
    """'1d 3h', '3h 05m', '42m 05s', '9s' ('1 T 3 Std.', '3 Std. 05 Min.'): the countdown format funnel.js writes too."""
    seconds = max(0, int(seconds))
    day_count, rest = divmod(seconds, 86400) if days else (0, seconds)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if day_count:
        return gettext("%(days)sd %(hours)sh") % {"days": day_count, "hours": hours}
    if hours:
        return gettext("%(hours)sh %(minutes)sm") % {"hours": hours, "minutes": f"{minutes:02d}"}
    if minutes:
        return gettext("%(minutes)sm %(seconds)ss") % {"minutes": minutes, "seconds": f"{secs:02d}"}
    return gettext("%(seconds)ss") % {"seconds": secs}


@register.filter
def span(value):
    """A timedelta for people: 'less than a minute', '12 min', '3h', '2h 5m', '2d 4h'."""
    if value is None:
        return ""
    minutes = int(value.total_seconds()) // 60
    if minutes < 1:
        return gettext("less than a minute")
    if minutes < 60:
        return gettext("%(minutes)s min") % {"minutes": minutes}
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        if hours:
            return gettext("%(days)sd %(hours)sh") % {"days": days, "hours": hours}
        return gettext("%(days)sd") % {"days": days}
    if minutes:
        return gettext("%(hours)sh %(minutes)sm") % {"hours": hours, "minutes": minutes}
    return gettext("%(hours)sh") % {"hours": hours}


@register.filter
def clock_countdown(clock):
    """'due in 42m 05s', 'due in 3h 10m of business time' or 'overdue by 1h 03m'."""
    if clock is None or clock.due_at is None:
        return ""
    if clock.is_overdue:
        return gettext("overdue by %(duration)s") % {"duration": duration((clock.now - clock.due_at).total_seconds())}
    if clock.counts_business_time:
        left = duration(clock.left.total_seconds(), days=False)
        return gettext("due in %(duration)s of business time") % {"duration": left}
    return gettext("due in %(duration)s") % {"duration": duration((clock.due_at - clock.now).total_seconds())}


@register.filter
def breached_ago(since):
    """'breached 2h 5m ago' ('seit 2 Std. 5 Min. überfällig'), as funnel.js writes it too."""
    return gettext("breached %(span)s ago") % {"span": span(since)}


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
            parts.append(f"{_day_name(first)}–{_day_name(last)}")
        else:
            parts.extend(_day_name(day) for day in range(first, last + 1))
    return ", ".join(parts) if len(days) < len(WEEKDAYS) else gettext("Every day")


@register.filter
def escalation(policy):
    """What happens when ``policy``'s window is missed, in one line."""
    steps = []
    if policy.notify_owner and policy.notify_managers:
        steps.append(gettext("e-mail the owner and the team's managers"))
    elif policy.notify_owner:
        steps.append(gettext("e-mail the owner"))
    elif policy.notify_managers:
        steps.append(gettext("e-mail the team's managers"))
    if policy.reassign_on_breach:
        after = policy.reassign_after_minutes
        if after:
            steps.append(gettext("reassign after %(span)s") % {"span": span(timedelta(minutes=after))})
        else:
            steps.append(gettext("reassign at once"))
    return capfirst("; ".join(steps)) if steps else gettext("Flag it in the history only")
