"""MQL target: the MQLs marketing produced each calendar month against the month's target."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection

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


# Every month of the period, its MQLs and its target, in one statement. {episodes} is the ORM's
# query for the period's MQL times (filters and all): counting them reads only the mql_at index.
_MONTHS_SQL = """
SELECT m.month, coalesce(produced.count, 0), target.mql_target
  FROM unnest(%s::date[]) AS m(month)
  LEFT JOIN (SELECT date_trunc('month', e.mql_at AT TIME ZONE %s)::date AS month, count(*) AS count
               FROM ({episodes}) AS e
              GROUP BY 1) AS produced ON produced.month = m.month
  LEFT JOIN reports_monthlytarget target ON target.month = m.month AND target.team_id IS NOT DISTINCT FROM %s
 ORDER BY m.month
"""


def mql_target(period, filters, *, as_of=None):
    """Return MQLs per calendar month of ``period`` against each month's target, in one query; raises nothing."""
    first = period.start.replace(day=1)
    months = []
    while first <= period.end:
        months.append(first)
        first = (first + timedelta(days=32)).replace(day=1)
    episodes = mql_episodes(period, filters, as_of=as_of).values("mql_at").order_by()
    sql, params = episodes.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(_MONTHS_SQL.format(episodes=sql), [months, period.tz, *params, filters.team])
        rows = cursor.fetchall()
    return MqlTarget(months=tuple(MonthTarget(month=month, mqls=mqls, target=target) for month, mqls, target in rows))
