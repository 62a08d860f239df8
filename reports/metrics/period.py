"""What every metric is asked: the period, the filters and the view, and the ``Ratio`` it answers with.

A bad period, view or filter raises ``ReportInputError`` naming the offending
field, which the forms turn into a field error (a 400 in the API).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

MAX_PERIOD_DAYS = 731
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100

PERIOD_VIEW = "period"
COHORT_VIEW = "cohort"
VIEWS = (PERIOD_VIEW, COHORT_VIEW)


class ReportInputError(ValueError):
    """A period, view or filter a report cannot answer for; the message says why."""

    def __init__(self, message, *, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Period:
    """Whole local days from ``start`` to ``end`` inclusive, in the time zone ``tz``."""

    start: date
    end: date
    tz: str = "UTC"

    def __post_init__(self):
        if not isinstance(self.start, date) or not isinstance(self.end, date):
            raise ReportInputError(gettext("Give the period as dates (YYYY-MM-DD)."), field="from")
        if self.end < self.start:
            raise ReportInputError(
                gettext("The period ends before it starts: 'to' must be on or after 'from'."), field="to"
            )
        out_of_range = {
            "from": gettext_lazy("'from' must be between %(earliest)s and %(latest)s, got %(value)s."),
            "to": gettext_lazy("'to' must be between %(earliest)s and %(latest)s, got %(value)s."),
        }
        for name, value in (("from", self.start), ("to", self.end)):
            if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
                raise ReportInputError(
                    out_of_range[name] % {"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR, "value": value.isoformat()},
                    field=name,
                )
        days = (self.end - self.start).days + 1
        if days > MAX_PERIOD_DAYS:
            raise ReportInputError(
                gettext("The period is %(days)s days long; reports cover at most %(most)s days (two years).")
                % {"days": days, "most": MAX_PERIOD_DAYS},
                field="to",
            )
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
            raise ReportInputError(
                gettext("Unknown time zone %(zone)s.") % {"zone": repr(self.tz)}, field="tz"
            ) from None

    @property
    def zone(self):
        return ZoneInfo(self.tz)

    @property
    def start_at(self):
        return datetime.combine(self.start, time.min, tzinfo=self.zone).astimezone(UTC)

    @property
    def end_at(self):
        """The first instant after the period (local midnight after ``end``)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=self.zone).astimezone(UTC)

    @property
    def days(self):
        return (self.end - self.start).days + 1

    @classmethod
    def last_days(cls, days, *, today=None, tz="UTC"):
        today = today or timezone.now().astimezone(ZoneInfo(tz)).date()
        return cls(today - timedelta(days=days - 1), today, tz)


def month_part(period, month):
    """Return the part of ``period`` inside the calendar month that starts on ``month``, for a month's drill-down; raises ReportInputError when they do not overlap."""
    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return Period(max(month, period.start), min(last, period.end), period.tz)


@dataclass(frozen=True)
class Filters:
    source: str = ""
    campaign: str = ""
    team: int | None = None
    rep: int | None = None

    def apply(self, episodes, *, prefix=""):
        # Leads have the same field names, so contacted_leads() narrows leads with this too,
        # and activities with prefix="lead__".
        if self.source:
            episodes = episodes.filter(**{f"{prefix}source": self.source})
        if self.campaign:
            episodes = episodes.filter(**{f"{prefix}campaign": self.campaign})
        if self.team is not None:
            episodes = episodes.filter(**{f"{prefix}team_id": self.team})
        if self.rep is not None:
            episodes = episodes.filter(**{f"{prefix}owner_id": self.rep})
        return episodes


@dataclass(frozen=True)
class Ratio:
    """``numerator`` of ``denominator``; ``percent`` is None when there is nothing to divide by."""

    numerator: int
    denominator: int

    @property
    def percent(self):
        if not self.denominator:
            return None
        return 100.0 * self.numerator / self.denominator


def slicing(periods):
    """The sorted boundaries of ``periods`` and each period's slices between them, (first, last), numbered as PostgreSQL's ``width_bucket`` over those boundaries numbers them: slice k starts at boundary k - 1."""
    bounds = sorted({p.start_at for p in periods} | {p.end_at for p in periods})
    return bounds, [(bounds.index(p.start_at) + 1, bounds.index(p.end_at)) for p in periods]


def _as_of(as_of):
    return as_of or timezone.now()


def _check_view(view):
    if view not in VIEWS:
        raise ReportInputError(
            gettext("Unknown view %(view)s; choose 'period' or 'cohort'.") % {"view": repr(view)}, field="view"
        )


def _in(period, name):
    return Q(**{f"{name}__gte": period.start_at, f"{name}__lt": period.end_at})
