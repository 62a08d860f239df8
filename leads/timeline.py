"""A lead's page as one timeline: its history (score changes among it) and its activities, newest first.

Integrations may record thousands of website visits for one lead, so the
timeline comes a page at a time, by keyset: each page reads at most one page
plus one row from each table (two queries, no count) and merges them. Entries at
the same instant list history before activities, each newest id first; the
cursor (``before=``) names the last entry shown as ``<at>~<e|a><id>``.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, Func, OuterRef, Q

from .models import Activity, EventKind, LeadEvent

HISTORY, ACTIVITY = "e", "a"
# History sorts before activities at the same instant (newest first, so the higher rank first).
_RANK = {HISTORY: 1, ACTIVITY: 0}


@dataclass(frozen=True)
class Entry:
    """One line of the timeline: a history row (``event``) or an activity (``activity``)."""

    at: datetime
    source: str
    id: int
    event: LeadEvent | None = None
    activity: Activity | None = None
    # For a score change: the points it added (negative: took away).
    points: int | None = None

    @property
    def key(self):
        return (self.at, _RANK[self.source], self.id)

    @property
    def cursor(self):
        return f"{self.at.isoformat()}~{self.source}{self.id}"


@dataclass(frozen=True)
class Page:
    entries: list
    events: list
    next_cursor: str
    is_first: bool


def parse_cursor(value):
    """The ``(at, source, id)`` that ``value`` names, or None for a missing or malformed cursor; raises nothing."""
    if not value or "~" not in value:
        return None
    at, _, rest = value.rpartition("~")
    try:
        parsed = datetime.fromisoformat(at)
        number = int(rest[1:])
    except ValueError:
        return None
    if rest[:1] not in _RANK or parsed.tzinfo is None:
        return None
    return parsed, rest[:1], number


def _before(field, cursor, source):
    """The rows of ``source`` that come after ``cursor`` in newest-first order."""
    if cursor is None:
        return Q()
    at, cursor_source, number = cursor
    older = Q(**{f"{field}__lt": at})
    if _RANK[source] < _RANK[cursor_source]:
        return older | Q(**{field: at})
    if _RANK[source] > _RANK[cursor_source]:
        return older
    return older | Q(**{field: at, "id__lt": number})


def page(lead, *, cursor, size):
    """The timeline entries of ``lead`` after ``cursor`` (None: the newest), at most ``size``; raises nothing."""
    events = list(
        LeadEvent.objects.filter(_before("at", cursor, HISTORY), lead_id=lead.pk)
        .select_related("actor", "reason", "owner")
        .order_by("-at", "-id")[: size + 1]
    )
    # A sales activity logged on the page also has its history row ("Sales activity", who recorded it and
    # whether it was the first follow-up): the timeline shows that row alone.
    logged = LeadEvent.objects.filter(
        lead_id=lead.pk, kind=EventKind.ACTIVITY, payload__activity=Func(OuterRef("pk"), function="to_jsonb")
    )
    activities = list(
        Activity.objects.filter(_before("occurred_at", cursor, ACTIVITY), lead_id=lead.pk)
        .exclude(Exists(logged))
        .select_related("actor")
        .order_by("-occurred_at", "-id")[: size + 1]
    )
    entries = [Entry(event.at, HISTORY, event.pk, event=event, points=_points(event)) for event in events]
    entries += [Entry(activity.occurred_at, ACTIVITY, activity.pk, activity=activity) for activity in activities]
    entries.sort(key=lambda entry: entry.key, reverse=True)
    shown = entries[:size]
    return Page(
        entries=shown,
        events=[entry.event for entry in shown if entry.event is not None],
        next_cursor=shown[-1].cursor if len(entries) > size else "",
        is_first=cursor is None,
    )


def _points(event):
    if event.kind != EventKind.SCORE_CHANGED:
        return None
    try:
        return int(event.payload["to"]) - int(event.payload["from"])
    except (KeyError, TypeError, ValueError):
        return None
