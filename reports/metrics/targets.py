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
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy

from leads.models import Holiday, Lead, SLAPolicy

from ..models import MonthlyTarget
from . import rollup
from .episodes import mql_episodes
from .period import EARLIEST_YEAR, Period, Ratio, _as_of, month_part

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
    formula = gettext_lazy(
        "MQLs produced per month ÷ the month's target (pro-rated by business days for part of a month) × 100"
    )
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
    rows = _months_from_rollup(period, months, filters, team, rep, as_of)
    if rows is None:
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


def _months_from_rollup(period, months, filters, team, rep, as_of):
    """(month, MQLs, target) rows like ``_MONTHS_SQL``'s, the MQLs from the rollup (two queries), or None where it cannot answer."""
    parts = [month_part(period, month) for month in months]
    found = rollup.counts(parts, filters, _as_of(as_of))
    if found is None:
        return None
    produced = [counts["mqls"] for counts in rollup.totals(found, parts)]
    targets = dict(
        MonthlyTarget.objects.filter(month__in=months, team_id=team, rep_id=rep).values_list("month", "mql_target")
    )
    return [(month, mqls, targets.get(month)) for month, mqls in zip(months, produced, strict=True)]


# Pacing: the month under way against its target


@dataclass(frozen=True)
class Pacing:
    """The month of ``today`` so far: MQLs to date against the target pro-rated to date, and where it is heading."""

    formula = gettext_lazy(
        "projected month end = MQLs to date ÷ business days gone × business days of the month"
        " + leads in flight × their historical lead → MQL conversion"
    )
    month: date
    today: date
    mqls: int
    full_target: int | None
    business_days_gone: int  # from the 1st to today inclusive
    month_business_days: int
    in_flight: int  # leads created this month, not (yet) an MQL
    history_leads: int  # leads created in the three months before
    history_mqls: int  # of those, the ones that became an MQL

    @property
    def remaining_business_days(self):
        return self.month_business_days - self.business_days_gone

    @property
    def target_to_date(self):
        if self.full_target is None or not self.month_business_days:
            return None
        return self.full_target * self.business_days_gone / self.month_business_days

    @property
    def conversion(self):
        return Ratio(self.history_mqls, self.history_leads)

    @property
    def projected(self):
        """The projected MQLs at month end; None before the first business day."""
        if not self.business_days_gone:
            return None
        run_rate = self.mqls / self.business_days_gone * self.month_business_days
        share = self.conversion.percent
        return run_rate + self.in_flight * (share / 100 if share is not None else 0)

    @property
    def needed_per_day(self):
        """MQLs still needed per remaining business day to reach the target; None without a target or days left."""
        if self.full_target is None or not self.remaining_business_days:
            return None
        return max(0, self.full_target - self.mqls) / self.remaining_business_days

    @property
    def behind(self):
        target = self.target_to_date
        return target is not None and self.mqls < target


def mql_pacing(filters, *, today, tz, as_of=None):
    """Return the ``Pacing`` of the month of ``today`` (local date in ``tz``) for ``filters``' scope; raises ReportInputError for a day outside the reports' years."""
    month = today.replace(day=1)
    to_date = Period(month, today, tz)
    mqls = mql_episodes(to_date, filters, as_of=as_of).count()
    _scope, team, rep = target_scope(filters)
    target = (
        MonthlyTarget.objects.filter(month=month, team_id=team, rep_id=rep).values_list("mql_target", flat=True).first()
    )
    # The three months before (fewer at the reports' earliest date).
    earliest = date(EARLIEST_YEAR, 1, 1)
    history = Period(
        max(earliest, (month - timedelta(days=85)).replace(day=1)), max(earliest, month - timedelta(days=1)), tz
    )
    # A lead's episode number counts its MQL episodes (the transitions write both together, and no
    # episode is ever deleted): "ever an MQL" without probing the episodes once per lead.
    became_mql = Q(mql_episode__gt=0)
    leads = filters.apply(Lead.objects.filter(created_at__gte=history.start_at, created_at__lt=to_date.end_at))
    counts = leads.aggregate(
        in_flight=Count("id", filter=Q(created_at__gte=to_date.start_at, stage="lead") & ~became_mql),
        history_leads=Count("id", filter=Q(created_at__lt=history.end_at)),
        history_mqls=Count("id", filter=Q(created_at__lt=history.end_at) & became_mql),
    )
    days = business_days(month, month_last_day(month))
    return Pacing(
        month=month,
        today=today,
        mqls=mqls,
        full_target=target,
        business_days_gone=days.count(month, today),
        month_business_days=days.count(month, month_last_day(month)),
        **counts,
    )
