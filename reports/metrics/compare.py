"""The next question of every report: the same headline numbers for the previous period, per week or month, and by group.

A report's headline numbers are named counts (and a few means and medians)
over MQL episodes, each a ``_Measure``: the date that places an episode in a
period and a condition as of an instant (``HEADLINES[slug]``). Asked for
several periods at once (the period, the trend's buckets, the previous period),
they come from one statement that counts each episode once, in the slice of time
its date falls in, and adds up each period's slices (``_series_rows``), so each
bucket says exactly what the report would say for that bucket alone. Where the
rollup answers exactly (``rollup``: no combined filters, whole-hour boundaries,
nothing after "as of"), the counts come from it instead (``_Measure.rollup``),
and only the medians and means read the episodes. The breakdown is the same
numbers as ORM aggregates grouped by current owner, team, source or campaign, or
the rollup's keys of the grouping. The conversation rate counts leads, not episodes: its series is one
hand-written statement too, and its breakdown groups ``contacted_leads``.
"""

import calendar
from dataclasses import dataclass
from datetime import timedelta
from functools import reduce
from operator import or_

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Avg, BooleanField, Count, ExpressionWrapper, Q
from django.utils.translation import gettext, gettext_lazy

from leads.models import MqlEpisode, Team

from . import rollup
from .conversations import ConversationRate, conversation_counts_by, conversation_rates
from .episodes import (
    _BY_OWNER,
    _RESPONSE,
    _awaiting_q,
    _followed_up_q,
    _ignored_q,
    _not_followed_up_by,
    _rep_name,
    _sla_closed_q,
    _sla_expired_q,
    _sla_late_q,
    _sla_within_q,
    _within_window_q,
)
from .handoff import Conversion, IgnoreRate, SlaCompliance
from .period import COHORT_VIEW, EARLIEST_YEAR, Period, Ratio, ReportInputError, _as_of, _check_view, _in, slicing
from .speed import _PercentileCont

# Periods longer than this are trended by month, shorter ones by week (Monday to Sunday).
WEEKLY_UP_TO_DAYS = 183

BREAKDOWNS = ("rep", "team", "source", "campaign")
_GROUP_FIELDS = {
    "rep": _BY_OWNER,
    "team": ("team_id", "team__name"),
    "source": ("source",),
    "campaign": ("campaign",),
}


@dataclass(frozen=True)
class Headline:
    """One headline number: ``count`` (a drill-down bucket counted), ``rate`` (numerator ÷ denominator) or a ``duration``."""

    name: str
    label: str
    kind: str  # "int", "percent" or "duration"
    bucket: str = ""  # the drill-down bucket of its leads (a rate: of its numerator)
    numerator: str = ""
    denominator: str = ""


@dataclass(frozen=True)
class _Measure:
    """One number of a period: the episodes whose ``field`` falls in it and that meet ``condition`` (as of an instant), counted, or the median or mean of their response time."""

    field: str
    condition: Q
    aggregate: str = "count"  # "count", "median" or "mean"
    # The same count from the rollup's base counts: (coefficient, column) terms summed
    # (metrics.rollup); none for a median or mean.
    rollup: tuple = ()


# The rollup's terms of the counts several reports share.
_MQLS = ((1, "mqls"),)
_FOLLOWED_UP = ((1, "followed_up"),)
_IGNORED = ((1, "mqls"), (-1, "followed_up"), (-1, "awaiting"))
_WITHIN_WINDOW = ((1, "within_window"),)


def _mql(as_of, condition=None, rollup=_MQLS):
    """The period's MQLs up to ``as_of`` (meeting ``condition``; ``rollup``: the same from the rollup)."""
    mqls = Q(mql_at__lte=as_of)
    return _Measure("mql_at", mqls if condition is None else mqls & condition, rollup=rollup)


def _answered(as_of):
    return Q(mql_at__lte=as_of) & _followed_up_q(as_of)


def _ignore_measures(as_of, view):
    return {
        "mqls": _mql(as_of),
        "ignored": _mql(as_of, _ignored_q(as_of), _IGNORED),
        "awaiting": _mql(as_of, _awaiting_q(as_of), ((1, "awaiting"),)),
        "followed_up": _mql(as_of, _followed_up_q(as_of), _FOLLOWED_UP),
    }


def _conversion_measures(as_of, view):
    if view == COHORT_VIEW:
        return {
            "mqls": _mql(as_of),
            "sals": _mql(as_of, Q(accepted_at__lte=as_of), ((1, "cohort_sals"),)),
            "sqls": _mql(as_of, Q(qualified_at__lte=as_of), ((1, "cohort_sqls"),)),
        }
    return {
        "mqls": _mql(as_of),
        "sals": _Measure("accepted_at", Q(accepted_at__lte=as_of, mql_at__lte=as_of), rollup=((1, "sals"),)),
        "sqls": _Measure("qualified_at", Q(qualified_at__lte=as_of, mql_at__lte=as_of), rollup=((1, "sqls"),)),
    }


def _sla_measures(as_of, view):
    return {
        "closed": _mql(as_of, _sla_closed_q(as_of), ((1, "mqls"), (-1, "awaiting"))),
        "within": _mql(as_of, _sla_within_q(as_of), _WITHIN_WINDOW),
        "late": _mql(as_of, _sla_late_q(as_of), ((1, "followed_up"), (-1, "within_window"))),
        "never": _mql(as_of, _sla_expired_q(as_of) & _not_followed_up_by(as_of), _IGNORED),
    }


def _speed_measures(as_of, view):
    answered = _answered(as_of)
    return {
        "responded": _Measure("mql_at", answered, rollup=_FOLLOWED_UP),
        "within_hour": _Measure(
            "mql_at", answered & Q(_response__lte=timedelta(hours=1)), rollup=((1, "within_hour"),)
        ),
        "within_sla": _Measure("mql_at", answered & _within_window_q(), rollup=_WITHIN_WINDOW),
        "median": _Measure("mql_at", answered, "median"),
        "mean": _Measure("mql_at", answered, "mean"),
    }


def _rejected_measures(as_of, view):
    return {"rejected": _Measure("rejected_at", Q(rejected_at__lte=as_of), rollup=((1, "rejected"),))}


def _target_measures(as_of, view):
    return {"mqls": _mql(as_of)}


def _effect_measures(as_of, view):
    answered = _answered(as_of)
    fast = answered & Q(_response__lte=timedelta(hours=1))
    slow = answered & Q(_response__gt=timedelta(hours=1))
    qualified = Q(qualified_at__lte=as_of)
    return {
        "fast": _Measure("mql_at", fast, rollup=((1, "within_hour"),)),
        "fast_sqls": _Measure("mql_at", fast & qualified, rollup=((1, "fast_sqls"),)),
        "slow": _Measure("mql_at", slow, rollup=((1, "followed_up"), (-1, "within_hour"))),
        "slow_sqls": _Measure("mql_at", slow & qualified, rollup=((1, "slow_sqls"),)),
    }


def _waterfall_measures(as_of, view):
    return _conversion_measures(as_of, "period")


@dataclass(frozen=True)
class HeadlineSpec:
    measures: object  # (as_of, view) -> {name: _Measure}
    numbers: tuple  # Headline, in the page's order


_COUNT = "int"
HEADLINES = {
    "ignore_rate": HeadlineSpec(
        _ignore_measures,
        (
            Headline("ignore_rate", gettext_lazy("Ignore rate"), "percent", "ignored", "ignored", "mqls"),
            Headline("mqls", gettext_lazy("MQLs"), _COUNT, "mqls"),
            Headline("ignored", gettext_lazy("Ignored"), _COUNT, "ignored"),
            Headline("awaiting", gettext_lazy("Awaiting response"), _COUNT, "awaiting"),
            Headline("followed_up", gettext_lazy("Followed up"), _COUNT, "followed_up"),
        ),
    ),
    "conversion": HeadlineSpec(
        _conversion_measures,
        (
            Headline("mql_to_sql", gettext_lazy("MQL → SQL conversion"), "percent", "sqls", "sqls", "mqls"),
            Headline("mql_to_sal", gettext_lazy("MQL → SAL acceptance"), "percent", "sals", "sals", "mqls"),
            Headline("mqls", gettext_lazy("MQLs"), _COUNT, "mqls"),
            Headline("sals", gettext_lazy("SALs"), _COUNT, "sals"),
            Headline("sqls", gettext_lazy("SQLs"), _COUNT, "sqls"),
        ),
    ),
    "sla_compliance": HeadlineSpec(
        _sla_measures,
        (
            Headline("compliance", gettext_lazy("SLA compliance"), "percent", "within", "within", "closed"),
            Headline("closed", gettext_lazy("Windows closed"), _COUNT, "closed"),
            Headline("within", gettext_lazy("Answered in time"), _COUNT, "within"),
            Headline("late", gettext_lazy("Answered late"), _COUNT, "late"),
            Headline("never", gettext_lazy("Never answered"), _COUNT, "never"),
        ),
    ),
    "speed_to_lead": HeadlineSpec(
        _speed_measures,
        (
            Headline("median", gettext_lazy("Median response"), "duration", "responded"),
            Headline("mean", gettext_lazy("Mean response"), "duration", "responded"),
            Headline(
                "within_hour",
                gettext_lazy("Answered within 1 hour"),
                "percent",
                "within_hour",
                "within_hour",
                "responded",
            ),
            Headline(
                "within_sla",
                gettext_lazy("Answered within the SLA"),
                "percent",
                "within_sla",
                "within_sla",
                "responded",
            ),
            Headline("responded", gettext_lazy("Answered"), _COUNT, "responded"),
        ),
    ),
    "rejection_reasons": HeadlineSpec(
        _rejected_measures, (Headline("rejections", gettext_lazy("Rejections"), _COUNT, "rejected"),)
    ),
    "mql_target": HeadlineSpec(
        _target_measures, (Headline("produced", gettext_lazy("MQLs produced"), _COUNT, "mqls"),)
    ),
    "response_effect": HeadlineSpec(
        _effect_measures,
        (
            Headline(
                "fast_rate",
                gettext_lazy("SQL rate, answered within an hour"),
                "percent",
                "fast_sqls",
                "fast_sqls",
                "fast",
            ),
            Headline(
                "slow_rate", gettext_lazy("SQL rate, answered later"), "percent", "slow_sqls", "slow_sqls", "slow"
            ),
            Headline("fast", gettext_lazy("Answered within an hour"), _COUNT, "fast"),
            Headline("slow", gettext_lazy("Answered later"), _COUNT, "slow"),
        ),
    ),
    "waterfall": HeadlineSpec(
        _waterfall_measures,
        (
            Headline("mql_to_sal", gettext_lazy("MQL → SAL"), "percent", "sals", "sals", "mqls"),
            Headline("sal_to_sql", gettext_lazy("SAL → SQL"), "percent", "sqls", "sqls", "sals"),
            Headline("mqls", gettext_lazy("MQLs"), _COUNT, "mqls"),
            Headline("sals", gettext_lazy("SALs"), _COUNT, "sals"),
            Headline("sqls", gettext_lazy("SQLs"), _COUNT, "sqls"),
        ),
    ),
}


def previous_period(period):
    """Return the period of equal length that ends the day before ``period`` starts, or None before the reports' earliest year."""
    start = period.start - timedelta(days=period.days)
    if start.year < EARLIEST_YEAR:
        return None
    return Period(start, period.start - timedelta(days=1), period.tz)


def trend_unit(period):
    return "week" if period.days <= WEEKLY_UP_TO_DAYS else "month"


def trend_periods(period):
    """The trend's buckets of ``period``: local weeks (Monday to Sunday) or calendar months, cut to the period; raises nothing."""
    unit = trend_unit(period)
    buckets, start = [], period.start
    while start <= period.end:
        if unit == "week":
            last = start + timedelta(days=6 - start.weekday())
        else:
            last = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        last = min(last, period.end)
        buckets.append(Period(start, last, period.tz))
        start = last + timedelta(days=1)
    return unit, buckets


def _values(row, spec, prefix=""):
    """The headline numbers by name from one row of aggregates."""
    values = {}
    for number in spec.numbers:
        if number.kind == "percent":
            values[number.name] = Ratio(row[prefix + number.numerator], row[prefix + number.denominator])
        elif number.kind == "duration":
            values[number.name] = row[prefix + number.name]
        else:
            values[number.name] = row[prefix + number.bucket]
    return values


def _aggregate(measure, period):
    """``measure`` over the episodes of ``period``, as an ORM aggregate (the breakdown's, grouped by the ORM)."""
    condition = _in(period, measure.field) & measure.condition
    if measure.aggregate == "median":
        return _PercentileCont("_response", 0.5, filter=condition)
    if measure.aggregate == "mean":
        return Avg("_response", filter=condition)
    return Count("id", filter=condition)


def _aggregates(spec, period, as_of, view, prefix=""):
    measures = spec.measures(as_of, view)
    return {prefix + name: _aggregate(measure, period) for name, measure in measures.items()}


def _episodes(spec, period, filters, as_of, view):
    """The episodes any headline number of ``period`` counts, annotated with their response time."""
    conditions = [_in(period, m.field) & m.condition for m in spec.measures(as_of, view).values()]
    episodes = MqlEpisode.objects.annotate(_response=_RESPONSE).filter(reduce(or_, conditions))
    return filters.apply(episodes)


# Several periods in one statement (the period, its trend's buckets, the previous period).
# Their boundaries cut time into slices; each episode falls in one slice per date (mql_at,
# accepted_at...), found once per row by width_bucket over the sorted boundaries. A count is
# one aggregate per slice, and a period's count is the sum of its slices' counts. Asking
# every row for every period instead, one filtered aggregate per number and period, cost
# 0.5 s of a report's 0.7 s over 600k episodes. Each date is counted in a part of its own
# that reads only the episodes with that date in the span (for accepted_at or rejected_at an
# index range), and the join to generate_series tells the planner the slice has few values,
# so the workers aggregate in parallel. A median or mean is no sum: it is one aggregate per
# period over the rows of its slices, each row's slice a column computed once (OFFSET 0
# keeps the subquery's columns). The conditions besides the period are the ORM's, from the
# same ``Q`` as the drill-downs, compiled to boolean columns of the episodes' query.
_COUNTS_SQL = """
SELECT {part} AS part, s.i AS slice, ARRAY[{counts}]::bigint[] AS counts, NULL::interval[] AS durations
  FROM e JOIN generate_series(1, {last}) AS s(i) ON s.i = width_bucket({field}, %s::timestamptz[])
 WHERE {field} >= %s AND {field} < %s
 GROUP BY s.i"""
_DURATIONS_SQL = """
SELECT -1, NULL, NULL, ARRAY[{durations}]::interval[]
  FROM (SELECT e._response, {flags}, width_bucket({field}, %s::timestamptz[]) AS _slice
          FROM e WHERE {field} >= %s AND {field} < %s OFFSET 0) AS e"""
_DURATION_AGGREGATES = {
    "median": "percentile_cont(0.5) WITHIN GROUP (ORDER BY e._response) FILTER (WHERE {where})",
    "mean": "avg(e._response) FILTER (WHERE {where})",
}
_EMPTY = {"count": 0, "median": None, "mean": None}


def _series_rows(measures, periods, filters, *, as_of, first_durations=True):
    """Each of ``measures`` (by name) for each of ``periods`` as of ``as_of``, as one {name: number} dict per period: the counts from the rollup where it answers exactly (``rollup.scope``), else with the medians and means from one statement over the episodes; without ``first_durations`` the first period's medians and means are left None (the caller has them)."""
    counted = {name: m for name, m in measures.items() if m.aggregate == "count"}
    found = None
    if counted and all(m.rollup for m in counted.values()):
        found = rollup.counts(periods, filters, as_of)
    if found is None:
        return _episode_series_rows(measures, periods, filters, first_durations=first_durations)
    series = [
        {name: rollup.count(m.rollup, counts) for name, m in counted.items()}
        for counts in rollup.totals(found, periods)
    ]
    timed = {name: m for name, m in measures.items() if m.aggregate != "count"}
    if timed and (first_durations or len(periods) > 1):
        durations = _episode_series_rows(timed, periods, filters, first_durations=first_durations)
        for values, more in zip(series, durations, strict=True):
            values.update(more)
    elif timed:
        for values in series:
            values.update({name: _EMPTY[m.aggregate] for name, m in timed.items()})
    return series


def _episode_series_rows(measures, periods, filters, *, first_durations=True):
    """``_series_rows`` from one statement over the episodes."""
    bounds, slices = slicing(periods)
    span = bounds[0], bounds[-1]
    flags, counts, durations = {}, {}, {}
    for name, measure in measures.items():
        flag = flags.setdefault(measure.condition, f"_f{len(flags)}")
        if measure.aggregate == "count":
            counts.setdefault(measure.field, {}).setdefault(flag, []).append(name)
        else:
            durations.setdefault((measure.field, flag, measure.aggregate), []).append(name)
    fields = sorted({m.field for m in measures.values()})
    episodes = MqlEpisode.objects.order_by().filter(
        reduce(or_, (Q(**{f"{field}__gte": span[0], f"{field}__lt": span[1]}) for field in fields))
    )
    booleans = {flag: ExpressionWrapper(condition, output_field=BooleanField()) for condition, flag in flags.items()}
    wanted = [*fields, "_response"] if durations else fields
    sql, params = (
        filters.apply(episodes.annotate(_response=_RESPONSE)).values(*wanted, **booleans).query.sql_with_params()
    )
    parts, params = [], list(params)
    count_fields = sorted(counts)
    for part, field in enumerate(count_fields):
        column = f"e.{connection.ops.quote_name(field)}"
        counted = ", ".join(f"count(*) FILTER (WHERE e.{flag})" for flag in counts[field])
        parts.append(_COUNTS_SQL.format(part=part, counts=counted, last=len(bounds) - 1, field=column))
        params += [bounds, *span]
    if durations:
        (field,) = {field for field, _flag, _aggregate in durations}  # one date: the MQL's
        timed = slices if first_durations else slices[1:]
        aggregates = ", ".join(
            _DURATION_AGGREGATES[aggregate].format(where=f"e._slice BETWEEN {first} AND {last} AND e.{flag}")
            for first, last in timed
            for _field, flag, aggregate in durations
        )
        column = f"e.{connection.ops.quote_name(field)}"
        flagged = ", ".join(f"e.{flag}" for flag in flags.values())
        parts.append(_DURATIONS_SQL.format(durations=aggregates, flags=flagged, field=column))
        params += [bounds, *span]
    statement = f"WITH e AS NOT MATERIALIZED ({sql})" + "\n UNION ALL".join(parts)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()

    series = [{name: _EMPTY[m.aggregate] for name, m in measures.items()} for _period in periods]
    for part, where, row_counts, row_durations in rows:
        if part < 0:
            found = iter(row_durations)
            for values in series if first_durations else series[1:]:
                for names in durations.values():
                    values.update(dict.fromkeys(names, next(found)))
            continue
        for names, count in zip(counts[count_fields[part]].values(), row_counts, strict=True):
            for values, (first, last) in zip(series, slices, strict=True):
                if first <= where <= last:
                    for name in names:
                        values[name] += count
    return series


def headline_series(slug, periods, filters, *, view, as_of=None, first_durations=True):
    """Return the headline numbers of report ``slug`` for each of ``periods`` (one query), as {name: value} dicts; without ``first_durations`` the first period's medians and means are None, for a caller that computes them with its report; raises ReportInputError for an unknown view."""
    _check_view(view)
    as_of = _as_of(as_of)
    if not periods:
        return []
    if slug == "conversation_rate":
        return [_conversation_values(result) for result in conversation_rates(periods, filters)]
    spec = HEADLINES[slug]
    rows = _series_rows(spec.measures(as_of, view), periods, filters, as_of=as_of, first_durations=first_durations)
    return [_values(row, spec) for row in rows]


# The results made of nothing but headline numbers: a page or card can take them from the
# period's numbers in the series instead of counting them again.
_HEADLINE_RESULTS = {
    "ignore_rate": lambda values, view, as_of: IgnoreRate(
        mqls=values["mqls"],
        ignored=values["ignored"],
        awaiting=values["awaiting"],
        followed_up=values["followed_up"],
        as_of=as_of,
    ),
    "conversion": lambda values, view, as_of: Conversion(
        view=view, mqls=values["mqls"], sals=values["sals"], sqls=values["sqls"]
    ),
    "sla_compliance": lambda values, view, as_of: SlaCompliance(
        closed=values["closed"], within=values["within"], late=values["late"], never=values["never"]
    ),
    "conversation_rate": lambda values, view, as_of: ConversationRate(
        mql_contacted=values["mql_contacted"],
        mql_conversations=values["mql_conversations"],
        colder_contacted=values["colder_contacted"],
        colder_conversations=values["colder_conversations"],
    ),
}


def headline_result(slug, values, *, view, as_of):
    """Return the ``IgnoreRate`` (without reps), ``Conversion``, ``SlaCompliance`` or ``ConversationRate`` of report ``slug`` made of its headline ``values`` for a period; raises KeyError for another report."""
    return _HEADLINE_RESULTS[slug](values, view, as_of)


def overview_series(periods, filters, *, view, as_of=None, first_durations=True):
    """Return the headline numbers of every report for each of ``periods``, as {slug: {name: value}} dicts: the episode reports' from one query, the conversation rate's from one more; without ``first_durations`` the first period's medians and means are None; raises ReportInputError for an unknown view."""
    _check_view(view)
    as_of = _as_of(as_of)
    if not periods:
        return []
    measures = {
        f"{slug}_{name}": measure
        for slug, spec in HEADLINES.items()
        for name, measure in spec.measures(as_of, view).items()
    }
    rows = _series_rows(measures, periods, filters, as_of=as_of, first_durations=first_durations)
    conversations = conversation_rates(periods, filters)
    return [
        {
            **{slug: _values(row, spec, prefix=f"{slug}_") for slug, spec in HEADLINES.items()},
            "conversation_rate": _conversation_values(conversation),
        }
        for row, conversation in zip(rows, conversations, strict=True)
    ]


@dataclass(frozen=True)
class BreakdownRow:
    key: object  # the rep's or team's id, the source or campaign; None for unassigned (no filter selects them)
    name: str
    values: dict


def _group_name(by, row):
    if by == "rep":
        return _rep_name(row)
    if by == "team":
        return row["team__name"] or gettext("No team")
    return row[by] or gettext("(none)")


def _group_key(by, row):
    if by == "rep":
        return row["owner_id"]
    if by == "team":
        return row["team_id"]
    return row[by] or None


def headline_breakdown(slug, by, period, filters, *, view, as_of=None):
    """Return the headline numbers of report ``slug`` in ``period`` per current owner, team, source or campaign, by name; raises ReportInputError for an unknown grouping or view."""
    if by not in BREAKDOWNS:
        raise ReportInputError(
            gettext("Unknown breakdown %(by)s; choose one of %(choices)s.")
            % {"by": repr(by), "choices": ", ".join(BREAKDOWNS)},
            field="by",
        )
    _check_view(view)
    as_of = _as_of(as_of)
    fields = _GROUP_FIELDS[by]
    if slug == "conversation_rate":
        rows = conversation_counts_by(by, period, filters)
        found = [
            BreakdownRow(_group_key(by, row), _group_name(by, row), _conversation_values(_conversation_row(row)))
            for row in rows
        ]
    else:
        spec = HEADLINES[slug]
        found = _breakdown_from_rollup(spec, by, period, filters, view, as_of)
        if found is None:
            aggregates = _aggregates(spec, period, as_of, view)
            rows = _episodes(spec, period, filters, as_of, view).values(*fields).annotate(**aggregates)
            found = [BreakdownRow(_group_key(by, row), _group_name(by, row), _values(row, spec)) for row in rows]
    return sorted(found, key=lambda row: (row.key is None, row.name.lower()))


def _breakdown_from_rollup(spec, by, period, filters, view, as_of):
    """The ``BreakdownRow``s of ``headline_breakdown`` from the rollup's keys of ``by`` (one query, one more for the reps' or teams' names), or None where it cannot answer (a median or mean among the numbers, filters on another dimension)."""
    measures = spec.measures(as_of, view)
    if not all(m.aggregate == "count" and m.rollup for m in measures.values()):
        return None
    found = rollup.counts([period], filters, as_of, by=by)
    if found is None:
        return None
    # A group the episodes' query would not list (no episode meets any number's condition) has only zeros.
    counted = {
        key: {name: rollup.count(m.rollup, counts) for name, m in measures.items()} for key, (counts,) in found.items()
    }
    counted = {key: values for key, values in counted.items() if any(values.values())}
    rows = {key: _rollup_group_row(by, key) for key in counted}
    ids = [int(key) for key in counted if key and by in ("rep", "team")]
    if by == "rep" and ids:
        for user in get_user_model().objects.filter(pk__in=ids).values("id", "username", "first_name", "last_name"):
            rows[str(user["id"])].update(
                owner__username=user["username"],
                owner__first_name=user["first_name"],
                owner__last_name=user["last_name"],
            )
    elif by == "team" and ids:
        for team in Team.objects.filter(pk__in=ids).values("id", "name"):
            rows[str(team["id"])]["team__name"] = team["name"]
    return [
        BreakdownRow(_group_key(by, rows[key]), _group_name(by, rows[key]), _values(values, spec))
        for key, values in counted.items()
    ]


def _rollup_group_row(by, key):
    """A rollup key as the row ``_group_key`` and ``_group_name`` read (names filled in after)."""
    if by == "rep":
        return {
            "owner_id": int(key) if key else None,
            "owner__username": "",
            "owner__first_name": "",
            "owner__last_name": "",
        }
    if by == "team":
        return {"team_id": int(key) if key else None, "team__name": ""}
    return {by: key}


def overview_breakdown(by, period, filters, *, view, as_of=None):
    """Return the headline numbers of every report in ``period`` per current owner, team, source or campaign, as rows whose ``values`` are {slug: {name: value}}: the episode reports' from one query, the conversation rate's from one more; raises ReportInputError for an unknown grouping or view."""
    if by not in BREAKDOWNS:
        raise ReportInputError(
            gettext("Unknown breakdown %(by)s; choose one of %(choices)s.")
            % {"by": repr(by), "choices": ", ".join(BREAKDOWNS)},
            field="by",
        )
    _check_view(view)
    as_of = _as_of(as_of)
    fields = _GROUP_FIELDS[by]
    aggregates, conditions = {}, []
    for slug, spec in HEADLINES.items():
        aggregates.update(_aggregates(spec, period, as_of, view, prefix=f"{slug}_"))
        conditions.extend(_in(period, m.field) & m.condition for m in spec.measures(as_of, view).values())
    episodes = MqlEpisode.objects.annotate(_response=_RESPONSE).filter(reduce(or_, conditions))
    groups = {}
    for row in filters.apply(episodes).values(*fields).annotate(**aggregates):
        values = {slug: _values(row, spec, prefix=f"{slug}_") for slug, spec in HEADLINES.items()}
        groups[_group_key(by, row)] = (_group_name(by, row), values)
    for row in headline_breakdown("conversation_rate", by, period, filters, view=view, as_of=as_of):
        groups.setdefault(row.key, (row.name, {}))[1]["conversation_rate"] = row.values
    # A group with contacted leads and no MQL episode in the period: zero counts, no times.
    empty = {}
    for slug, spec in HEADLINES.items():
        blank = {name: _EMPTY[measure.aggregate] for name, measure in spec.measures(as_of, view).items()}
        empty[slug] = _values(blank, spec)
    empty["conversation_rate"] = _conversation_values(_ConversationCounts(0, 0, 0, 0))
    found = [BreakdownRow(key, name, {**empty, **values}) for key, (name, values) in groups.items()]
    return sorted(found, key=lambda row: (row.key is None, row.name.lower()))


# The conversation rate: leads, not episodes


def _conversation_row(row):
    return _ConversationCounts(
        row["mql_contacted"], row["mql_conversations"], row["colder_contacted"], row["colder_conversations"]
    )


@dataclass(frozen=True)
class _ConversationCounts:
    mql_contacted: int
    mql_conversations: int
    colder_contacted: int
    colder_conversations: int


def _conversation_values(result):
    return {
        "mql_rate": Ratio(result.mql_conversations, result.mql_contacted),
        "colder_rate": Ratio(result.colder_conversations, result.colder_contacted),
        "mql_contacted": result.mql_contacted,
        "mql_conversations": result.mql_conversations,
        "colder_contacted": result.colder_contacted,
        "colder_conversations": result.colder_conversations,
    }


CONVERSATION_HEADLINES = (
    Headline(
        "mql_rate",
        gettext_lazy("MQLs: conversation rate"),
        "percent",
        "mql_conversations",
        "mql_conversations",
        "mql_contacted",
    ),
    Headline(
        "colder_rate",
        gettext_lazy("Colder leads: conversation rate"),
        "percent",
        "colder_conversations",
        "colder_conversations",
        "colder_contacted",
    ),
    Headline("mql_contacted", gettext_lazy("MQLs contacted"), _COUNT, "mql_contacted"),
    Headline("mql_conversations", gettext_lazy("MQLs with a conversation"), _COUNT, "mql_conversations"),
    Headline("colder_contacted", gettext_lazy("Colder leads contacted"), _COUNT, "colder_contacted"),
    Headline("colder_conversations", gettext_lazy("Colder leads with a conversation"), _COUNT, "colder_conversations"),
)


def headlines_of(slug):
    """The headline numbers (``Headline``) of report ``slug``, in the page's order."""
    if slug == "conversation_rate":
        return CONVERSATION_HEADLINES
    return HEADLINES[slug].numbers
