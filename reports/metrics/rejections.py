"""Rejection reasons: why sales rejects MQLs (or disqualifies SALs), by reason, week, source and campaign.

One statement with ``GROUPING SETS`` counts the period's rejections by reason,
week, source and campaign in one pass.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import TruncWeek
from django.utils.translation import gettext_lazy

from leads.models import MqlEpisode
from leads.templatetags.leads_ui import translated

from .episodes import rejected_episodes
from .period import Ratio


@dataclass(frozen=True)
class ReasonCount:
    code: str
    label: str
    count: int
    share: Ratio
    from_mql: int
    from_sal: int


@dataclass(frozen=True)
class RejectionReasons:
    formula = gettext_lazy("rejected and disqualified MQLs by reason code ÷ all rejections of the period × 100")
    total: int
    reasons: tuple
    trend: tuple  # ((week_start_date, {code: count}), ...)
    by_source: tuple  # ((source, code, count), ...)
    by_campaign: tuple  # ((campaign, code, count), ...)


@dataclass(frozen=True)
class ReasonCounts:
    """The rejections of a period by reason only, for the overview (``RejectionReasons`` without trend and splits)."""

    formula = RejectionReasons.formula
    total: int
    reasons: tuple


def _reason_counts(rows):
    """(total, the ``ReasonCount``s) from (code, label, count, from_mql, from_sal) rows, in their order."""
    rows = list(rows)
    total = sum(row[2] for row in rows)
    return total, tuple(
        ReasonCount(
            code=code, label=translated(label), count=count, share=Ratio(count, total), from_mql=mql, from_sal=sal
        )
        for code, label, count, mql, sal in rows
    )


def _by_reason(rejected):
    return (
        rejected.values_list("rejection_reason__code", "rejection_reason__label")
        .annotate(
            count=Count("id"),
            from_mql=Count("id", filter=Q(rejected_from=MqlEpisode.RejectedFrom.MQL)),
            from_sal=Count("id", filter=Q(rejected_from=MqlEpisode.RejectedFrom.SAL)),
        )
        .order_by("-count", "rejection_reason__label")
    )


def _week(value):
    return value.date() if isinstance(value, datetime) else value


# GROUPING(label, week, source, campaign) of each grouping set: which split a row belongs to.
_REASONS, _WEEKS, _SOURCES, _CAMPAIGNS = 0b0111, 0b1011, 0b1101, 0b1110
_PART = "GROUPING(r.label, e.week, e.source, e.campaign)"
# {episodes} is the ORM's query for the period's rejections (filters and all), flattened by the planner.
_GROUPED_SQL = f"""
SELECT {_PART} AS part, r.code, r.label, e.week::date, e.source, e.campaign, count(*),
       count(*) FILTER (WHERE e.rejected_from = %s), count(*) FILTER (WHERE e.rejected_from = %s)
  FROM ({{episodes}}) AS e
  LEFT JOIN leads_rejectionreason r ON r.id = e.rejection_reason_id
 GROUP BY GROUPING SETS ((r.code, r.label), (e.week, r.code), (e.source, r.code), (e.campaign, r.code))
 ORDER BY part, CASE WHEN {_PART} = {_REASONS} THEN -count(*) END, r.label, e.week, e.source, e.campaign,
          CASE WHEN {_PART} IN ({_SOURCES}, {_CAMPAIGNS}) THEN -count(*) END, r.code
"""


def _grouping_sets(rejected, period):
    """The rows of every split from one pass over the rejections, by split, each in the report's order."""
    episodes = (
        rejected.annotate(week=TruncWeek("rejected_at", tzinfo=period.zone))
        .values("week", "source", "campaign", "rejected_from", "rejection_reason_id")
        .order_by()
    )
    sql, params = episodes.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            _GROUPED_SQL.format(episodes=sql),
            [MqlEpisode.RejectedFrom.MQL, MqlEpisode.RejectedFrom.SAL, *params],
        )
        rows = cursor.fetchall()
    parts = {part: [] for part in (_REASONS, _WEEKS, _SOURCES, _CAMPAIGNS)}
    for part, *row in rows:
        parts[part].append(row)
    return parts


def rejection_reasons(period, filters, *, as_of=None):
    """Return rejections in ``period`` by reason code with share, weekly trend and source/campaign split; raises nothing."""
    rejected = rejected_episodes(period, filters, as_of=as_of)
    parts = _grouping_sets(rejected, period)
    reasons = [(code, label, count, mql, sal) for code, label, _w, _s, _c, count, mql, sal in parts[_REASONS]]
    weekly = [(week, code, count) for code, _l, week, _s, _c, count, _m, _sal in parts[_WEEKS]]
    by_source = tuple((source, code, count) for code, _l, _w, source, _c, count, _m, _s in parts[_SOURCES])
    by_campaign = tuple((campaign, code, count) for code, _l, _w, _s, campaign, count, _m, _sal in parts[_CAMPAIGNS])
    total, reasons = _reason_counts(reasons)
    trend = {}
    for week, code, count in weekly:
        trend.setdefault(_week(week), {})[code] = count
    return RejectionReasons(
        total=total,
        reasons=reasons,
        trend=tuple(sorted(trend.items())),
        by_source=by_source,
        by_campaign=by_campaign,
    )


def rejection_reason_counts(period, filters, *, as_of=None):
    """Return the rejections in ``period`` by reason code with share, without trend and splits (the overview's numbers); raises nothing."""
    total, reasons = _reason_counts(_by_reason(rejected_episodes(period, filters, as_of=as_of)))
    return ReasonCounts(total=total, reasons=reasons)
