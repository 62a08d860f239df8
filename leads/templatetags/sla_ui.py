"""What the pages show about an MQL's response SLA: the clock, and the words for it.

The views build one ``SlaClock`` per lead with ``SlaClocks`` (one calendar per
policy and one list of working-time changes per calendar for the whole
request, so a list page costs no query per row). Templates format the clock
with the filters below, and ``static/js/funnel.js`` keeps it running: it
counts business time down only while working time runs, using the instants at
which working time next starts or stops (``SlaClock.changes``).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django import template
from django.conf import settings

from leads import business_hours, sla
from leads.models import WEEKDAYS, Stage

register = template.Library()

# How many working-time starts and stops a page carries for a business-hours
# clock: two a working day, so a queue left open for a working week stays
# right; past the last one the page keeps the last state it knows.
MAX_CLOCK_CHANGES = 12

_INSTANT = timedelta(microseconds=1)
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class SlaClock:
    """One lead's response window as seen at ``now``."""

    now: datetime
    due_at: datetime | None
    calendar: business_hours.BusinessCalendar | None
    # Running: business time left (round the clock: wall-clock time); negative once overdue.
    left: timedelta | None
    working_now: bool
    # Instants before the due time at which working time starts or stops, soonest first.
    changes: tuple[datetime, ...]
    breached: bool
    window: timedelta | None
    answered_in: timedelta | None
    answered_late_by: timedelta | None

    @property
    def is_running(self):
        return self.left is not None

    @property
    def is_overdue(self):
        return self.due_at is not None and self.due_at <= self.now

    @property
    def counts_business_time(self):
        return self.calendar is not None

    @property
    def is_paused(self):
        return self.is_running and self.counts_business_time and not self.is_overdue and not self.working_now

    @property
    def next_change(self):
        return self.changes[0] if self.changes else None

    @property
    def left_seconds(self):
        return int(self.left.total_seconds()) if self.left is not None else None

    @property
    def overdue_by(self):
        return self.now - self.due_at if self.is_overdue else None


class SlaClocks:
    """Builds the clocks of one request: calendars cached per policy, working-time changes per calendar."""

    def __init__(self, now):
        self.now = now
        self._calendars = {}
        self._changes = {}

    def attach(self, leads):
        """Set ``lead.sla_clock`` on each of ``leads`` (fetched with ``sla_policy__business_hours``)."""
        for lead in leads:
            lead.sla_clock = self.clock(lead)
        return leads

    def clock(self, lead):
        now, due = self.now, lead.sla_due_at
        awaiting = lead.stage == Stage.MQL and lead.first_follow_up_at is None
        breached = lead.stage == Stage.MQL and (
            lead.sla_breached_at is not None or (awaiting and due is not None and due <= now)
        )
        calendar, left, working_now, changes = None, None, True, ()
        if awaiting and due is not None:
            left = due - now
            # Only a running clock needs its calendar: past due, overdue time is plain wall-clock time.
            calendar = self.calendar(lead.sla_policy) if due > now else None
            if calendar is not None:
                try:
                    left = sla.business_time_left(lead, now, calendar)
                    working_now = business_hours.is_working_moment(now, calendar)
                except ValueError:
                    calendar, left = None, due - now
                else:
                    changes = tuple(change for change in self.changes(calendar) if change < due)
        answered_in = answered_late_by = None
        follow_up = lead.first_follow_up_at
        if follow_up is not None and lead.mql_at is not None:
            answered_in = follow_up - lead.mql_at
            if due is not None and follow_up > due:
                answered_late_by = follow_up - due
        return SlaClock(
            now=now,
            due_at=due,
            calendar=calendar,
            left=left,
            working_now=working_now,
            changes=changes,
            breached=breached,
            window=self.window(lead.sla_policy) if due is not None else None,
            answered_in=answered_in,
            answered_late_by=answered_late_by,
        )

    def calendar(self, policy):
        if policy is None or policy.business_hours_id is None:
            return None
        if policy.pk not in self._calendars:
            try:
                self._calendars[policy.pk] = sla.calendar_of(policy)
            except ValueError:
                # A calendar the database holds but the arithmetic refuses: show wall-clock time, not a 500.
                self._calendars[policy.pk] = None
        return self._calendars[policy.pk]

    def changes(self, calendar):
        if calendar not in self._changes:
            self._changes[calendar] = working_time_changes(self.now, calendar, limit=MAX_CLOCK_CHANGES)
        return self._changes[calendar]

    @staticmethod
    def window(policy):
        return policy.window if policy is not None else timedelta(minutes=settings.FUNNEL_DEFAULT_SLA_MINUTES)


def working_time_changes(start, calendar, *, limit):
    """The first ``limit`` instants after ``start`` at which working time starts or stops under ``calendar``."""
    changes = []
    at = start.astimezone(UTC)
    working = business_hours.is_working_moment(at, calendar)
    while len(changes) < limit:
        try:
            if working:
                # Working time runs to today's closing, or less where a clock change cuts it short.
                change = at + business_hours.working_time_between(at, _closing_after(at, calendar), calendar)
            else:
                # The window of one microsecond is used up one microsecond after the next opening.
                change = business_hours.due_at(at, _INSTANT, calendar) - _INSTANT
        except ValueError:
            break
        if change <= at:
            break
        changes.append(change)
        at, working = change, not working
    return tuple(changes)


def _closing_after(at, calendar):
    local = at.astimezone(calendar.zone)
    closing = datetime.combine(local.date(), calendar.closes, tzinfo=calendar.zone)
    # When clocks fall back across closing time the day closes twice; take the next one.
    for fold in (0, 1):
        if closing.replace(fold=fold) > at:
            return closing.replace(fold=fold)
    return closing


# ---------- words ----------


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
