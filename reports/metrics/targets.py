"""MQL target: the MQLs marketing produced each calendar month against the month's target.

The target is the one of the report's scope: a rep's own when the report is
narrowed to a rep (a rep never sees the company's), else the team's, else the
overall one. A month the period covers only in part is compared with its
target pro-rated by business days: the working weekdays of the default SLA
policy's calendar (Monday to Friday without one), less its holidays.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection

from leads.models import Holiday, SLAPolicy

from .episodes import mql_episodes
from .period import Ratio

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class BusinessDays:
    """Which days count as business days: working weekdays (0 = Monday) and holidays."""

    weekdays: frozenset
    holidays: frozenset

    def count(self, start, end):
        """The business days from ``start`` to ``end`` inclusive."""
        days, day = 0, start
        while day <= end:
            if day.weekday() in self.weekdays and day not in self.holidays:
                days += 1
            day += timedelta(days=1)
        return days


def business_days(start, end):
    """Return the ``BusinessDays`` of the default SLA policy's calendar between ``start`` and ``end`` (Monday to Friday without one); raises nothing."""
    calendar = (
        SLAPolicy.objects.filter(is_default=True, business_hours__isnull=False).select_related("business_hours").first()
    )
    if calendar is None:
        return BusinessDays(frozenset(range(5)), frozenset())
    hours = calendar.business_hours
    weekdays = frozenset(index for index, name in enumerate(_WEEKDAYS) if getattr(hours, name))
    holidays = frozenset(
        Holiday.objects.filter(business_hours=hours, date__gte=start, date__lte=end).values_list("date", flat=True)
    )
    return BusinessDays(weekdays, holidays)


def month_last_day(month):
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


@dataclass(frozen=True)
class MonthTarget:
    month: date
    mqls: int
    target: float | None  # pro-rated to the business days the period covers
    full_target: int | None = None
    covered_days: int = 0  # business days of the month inside the period
    month_days: int = 0  # business days of the whole month

    @property
    def partial(self):
        return self.covered_days < self.month_days

    @property
    def attainment(self):
        return Ratio(self.mqls, self.target or 0)


@dataclass(frozen=True)
class MqlTarget:
    formula = "MQLs produced per month ÷ the month's target (pro-rated by business days for part of a month) × 100"
    months: tuple
    scope: str = "overall"  # "rep", "team" or "overall": whose target

    @property
    def partial_months(self):
        return tuple(month for month in self.months if month.partial and month.full_target is not None)


# Every month of the period, its MQLs and its target, in one statement. {episodes} is the ORM's
# query for the period's MQL times (filters and all): counting them reads only the mql_at index.
_MONTHS_SQL = """
SELECT m.month, coalesce(produced.count, 0), target.mql_target
  FROM unnest(%s::date[]) AS m(month)
  LEFT JOIN (SELECT date_trunc('month', e.mql_at AT TIME ZONE %s)::date AS month, count(*) AS count
               FROM ({episodes}) AS e
              GROUP BY 1) AS produced ON produced.month = m.month
  LEFT JOIN reports_monthlytarget target ON target.month = m.month AND target.team_id IS NOT DISTINCT FROM %s
                                         AND target.rep_id IS NOT DISTINCT FROM %s
 ORDER BY m.month
"""


def target_scope(filters):
    """Whose target a report with ``filters`` compares with: (scope, team id, rep id)."""
    if filters.rep is not None:
        return "rep", None, filters.rep
    if filters.team is not None:
        return "team", filters.team, None
    return "overall", None, None


def mql_target(period, filters, *, as_of=None):
    """Return MQLs per calendar month of ``period`` against each month's target of the report's scope, pro-rated by business days where the period covers part of a month; raises nothing."""
    first = period.start.replace(day=1)
    months = []
    while first <= period.end:
        months.append(first)
        first = (first + timedelta(days=32)).replace(day=1)
    scope, team, rep = target_scope(filters)
    episodes = mql_episodes(period, filters, as_of=as_of).values("mql_at").order_by()
    sql, params = episodes.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(_MONTHS_SQL.format(episodes=sql), [months, period.tz, *params, team, rep])
        rows = cursor.fetchall()
    days = business_days(months[0], month_last_day(months[-1]))
    found = []
    for month, mqls, full in rows:
        whole = days.count(month, month_last_day(month))
        covered = days.count(max(month, period.start), min(month_last_day(month), period.end))
        target = None if full is None else (full * covered / whole if whole else float(full))
        found.append(
            MonthTarget(month=month, mqls=mqls, target=target, full_target=full, covered_days=covered, month_days=whole)
        )
    return MqlTarget(months=tuple(found), scope=scope)
