"""MQL target: the MQLs marketing produced each calendar month against the month's target."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncMonth

from ..models import MonthlyTarget
from .episodes import mql_episodes
from .period import Ratio


@dataclass(frozen=True)
class MonthTarget:
    month: date
    mqls: int
    target: int | None

    @property
    def attainment(self):
        return Ratio(self.mqls, self.target or 0)


@dataclass(frozen=True)
class MqlTarget:
    formula = "MQLs produced per month ÷ the month's target × 100"
    months: tuple


def mql_target(period, filters, *, as_of=None):
    """Return MQLs per calendar month of ``period`` against each month's target; raises nothing."""
    produced = {
        (row["month"].date() if isinstance(row["month"], datetime) else row["month"]): row["count"]
        for row in mql_episodes(period, filters, as_of=as_of)
        .annotate(month=TruncMonth("mql_at", tzinfo=period.zone))
        .values("month")
        # COUNT(*), not COUNT(id): nothing else is read, so an index-only scan of the mql_at index answers it.
        .annotate(count=Count("*"))
    }
    first = period.start.replace(day=1)
    months = []
    while first <= period.end:
        months.append(first)
        first = (first + timedelta(days=32)).replace(day=1)
    targets = dict(
        MonthlyTarget.objects.filter(month__in=months, team_id=filters.team).values_list("month", "mql_target")
    )
    return MqlTarget(months=tuple(MonthTarget(month=m, mqls=produced.get(m, 0), target=targets.get(m)) for m in months))
