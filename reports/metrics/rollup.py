"""Counts from the rollup (``reports.EpisodeRollup``) instead of the episodes, where it answers exactly.

The rollup holds, per UTC hour and per UTC day, in total or per rep, team, source or
campaign, what never changes once it happened: MQLs, follow-ups (in time or
not, within the hour or not), acceptances, qualifications, rejections. A
report's count is a sum of those columns (``_Measure.rollup``) when three
things hold, checked by ``scope`` and ``slice_counts``:

- the filters select one total of the rollup: none, or only one of rep, team,
  source and campaign;
- every period starts and ends on a whole UTC hour (local midnights of a zone
  a whole number of hours from UTC, at both ends);
- no MQL, follow-up, acceptance, qualification or rejection lies after the
  instant the report is judged as of (``as_of``, normally now), so "by
  ``as_of``" is "ever".

The only count that depends on the clock, the MQLs still awaiting an answer
(window open or not routed yet), is counted from the episodes, from the few
unanswered ones (``mqlepisode_unanswered_due_idx``); the ignored are the
unanswered less those. Medians and means stay with the episodes. Anything the
rollup cannot answer is counted from the episodes as before, with the same
numbers: ``tests/reports/test_rollup.py`` holds both paths to each other.
"""

from datetime import UTC, timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Trunc

from leads.models import MqlEpisode

from ..models import EpisodeRollup
from .episodes import _within_window_q
from .period import slicing

# The rollup's base counts (its model's count columns); "awaiting" is the one read from the episodes.
COLUMNS = tuple(
    field.name
    for field in EpisodeRollup._meta.concrete_fields
    if isinstance(field, models.IntegerField) and not field.primary_key
)
AWAITING = "awaiting"
_HOUR = timedelta(hours=1)

# A filter's rollup dimension and the episodes' column it narrows.
_FILTERS = (("rep", "owner_id"), ("team", "team_id"), ("source", "source"), ("campaign", "campaign"))
_COLUMN = dict(_FILTERS)

_SUMS = ", ".join(f"sum(r.{name})" for name in COLUMNS)
# One statement: the rollup's sums per group and slice (part 0), the awaiting MQLs per group
# and slice (part 1), and the latest event of any episode (part 2, from five index ends), which
# decides whether the first two answer (``slice_counts``). The rollup's rows are the day rows
# of the span but for the "cut" days, the UTC days a boundary falls inside of (not at their
# midnight), and those days' hour rows; a day row then lies in one slice, as an hour row
# always does. The join to generate_series tells the planner how few slices there are.
_COUNTS_SQL = f"""
WITH r AS (
    SELECT r.* FROM reports_episoderollup r
     WHERE r.dimension = %s {{rollup_key}} AND r.grain = 'day' AND r.start >= %s AND r.start < %s
       AND r.start <> ALL(%s::timestamptz[])
     UNION ALL
    SELECT r.* FROM unnest(%s::timestamptz[]) AS cut(day)
      JOIN reports_episoderollup r
        ON r.dimension = %s {{rollup_key}} AND r.grain = 'hour'
       AND r.start >= cut.day AND r.start < cut.day + interval '24 hours'
     WHERE r.start >= %s AND r.start < %s)
SELECT 0 AS part, {{rollup_group}} AS grp, s.i AS slice, ARRAY[{_SUMS}]::bigint[] AS counts, NULL::timestamptz AS latest
  FROM r JOIN generate_series(1, %s) AS s(i) ON s.i = width_bucket(r.start, %s::timestamptz[])
 GROUP BY 2, 3
 UNION ALL
SELECT 1, {{awaiting_group}}, width_bucket(e.mql_at, %s::timestamptz[]), ARRAY[count(*)]::bigint[], NULL
  FROM leads_mqlepisode e
 WHERE e.first_follow_up_at IS NULL AND (e.due_at IS NULL OR e.due_at > %s)
   AND e.mql_at >= %s AND e.mql_at < %s {{awaiting_key}}
 GROUP BY 2, 3
 UNION ALL
SELECT 2, NULL, NULL, NULL, greatest(
       (SELECT max(mql_at) FROM leads_mqlepisode), (SELECT max(first_follow_up_at) FROM leads_mqlepisode),
       (SELECT max(accepted_at) FROM leads_mqlepisode), (SELECT max(qualified_at) FROM leads_mqlepisode),
       (SELECT max(rejected_at) FROM leads_mqlepisode))"""


def _selected(filters):
    """The (dimension, key) of the rollup the filters select, or None when they combine two."""
    chosen = [(dimension, value) for dimension, value in _filter_values(filters) if value not in (None, "")]
    if not chosen:
        return "all", ""
    if len(chosen) == 1:
        dimension, value = chosen[0]
        return dimension, str(value)
    return None


def _filter_values(filters):
    return (("rep", filters.rep), ("team", filters.team), ("source", filters.source), ("campaign", filters.campaign))


def _on_the_hour(instant):
    return instant.minute == 0 and instant.second == 0 and instant.microsecond == 0


def scope(periods, filters, *, by=None):
    """Return the rollup's (dimension, key) that may answer ``periods`` under ``filters`` (grouped ``by`` a breakdown's dimension), or None when the episodes must be counted; ``slice_counts`` makes the last check. Raises nothing."""
    if not settings.REPORTS_ROLLUP:
        return None
    selected = _selected(filters)
    if selected is None or (by is not None and selected[0] not in ("all", by)):
        return None
    if not all(_on_the_hour(p.start_at) and _on_the_hour(p.end_at) for p in periods):
        return None
    return selected


def counts(periods, filters, as_of, *, by=None):
    """Return the base counts of ``slice_counts`` where the rollup answers ``periods`` under ``filters`` as of ``as_of`` (grouped ``by`` a breakdown's dimension), else None (count the episodes); at most one query."""
    selected = scope(periods, filters, by=by)
    return None if selected is None else slice_counts(periods, selected, as_of, by=by)


def totals(found, periods):
    """The total's base counts per period from what ``counts`` found without ``by`` (zeros where the rollup has no row)."""
    return found.get("") or [_zeros() for _period in periods]


def _zeros():
    return dict.fromkeys((*COLUMNS, AWAITING), 0)


def slice_counts(periods, selected, as_of, *, by=None):
    """Return the base counts (``COLUMNS`` and ``AWAITING``) of each of ``periods`` as {group: [counts per period]} (the group '' without ``by``, else the breakdown's keys, '' for none), or None when an event lies after ``as_of`` and the episodes must be counted; one query."""
    bounds, slices = slicing(periods)
    span = bounds[0], bounds[-1]
    dimension, key = selected
    groups = {"rollup_group": "''", "awaiting_group": "''"}
    if by is not None:
        groups = {"rollup_group": "r.key", "awaiting_group": f"coalesce(e.{_COLUMN[by]}::text, '')"}
    keys = {"rollup_key": "", "awaiting_key": ""}
    rollup_params, awaiting_params = [], []
    if dimension != "all":
        keys = {"rollup_key": "AND r.key = %s", "awaiting_key": f"AND e.{_COLUMN[dimension]} = %s"}
        rollup_params, awaiting_params = [key], [_typed(dimension, key)]
    cut = sorted({_midnight(bound) for bound in bounds if bound != _midnight(bound)})
    dimension_params = [by or dimension, *rollup_params]
    with connection.cursor() as cursor:
        cursor.execute(
            _COUNTS_SQL.format(**groups, **keys),
            [
                *dimension_params,
                *span,
                cut,
                cut,
                *dimension_params,
                *span,
                len(bounds) - 1,
                bounds,
                bounds,
                as_of,
                *span,
                *awaiting_params,
            ],
        )
        rows = cursor.fetchall()
    found = {}
    for part, group, where, counts, latest in rows:
        if part == 2:
            if latest is not None and latest > as_of:
                return None
            continue
        values = dict(zip(COLUMNS, counts, strict=True)) if part == 0 else {AWAITING: counts[0]}
        per_period = found.setdefault(group, [_zeros() for _period in periods])
        for totals, (first, last) in zip(per_period, slices, strict=True):
            if first <= where <= last:
                for name, value in values.items():
                    totals[name] += value
    return found


def _midnight(instant):
    """The start of the UTC day of ``instant``."""
    return instant.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _typed(dimension, key):
    return int(key) if dimension in ("rep", "team") else key


def count(measure_rollup, counts):
    """A measure's count from the base counts: the sum of its (coefficient, column) terms."""
    return sum(coefficient * counts[column] for coefficient, column in measure_rollup)


# The exactness check: the rollup recomputed from the episodes with the reports' own conditions.


def _recomputed():
    """{(dimension, key, grain, start): {column: count}} from the episodes, without zero counts."""
    answered = Q(first_follow_up_at__isnull=False)
    within_hour = answered & Q(first_follow_up_at__lte=F("mql_at") + _HOUR)
    qualified = Q(qualified_at__isnull=False)
    by_date = {
        "mql_at": {
            "mqls": Count("id"),
            "followed_up": Count("id", filter=answered),
            "within_window": Count("id", filter=answered & _within_window_q()),
            "within_hour": Count("id", filter=within_hour),
            "cohort_sals": Count("id", filter=Q(accepted_at__isnull=False)),
            "cohort_sqls": Count("id", filter=qualified),
            "fast_sqls": Count("id", filter=within_hour & qualified),
            "slow_sqls": Count("id", filter=answered & ~within_hour & qualified),
        },
        "accepted_at": {"sals": Count("id")},
        "qualified_at": {"sqls": Count("id")},
        "rejected_at": {"rejected": Count("id")},
    }
    found = {}
    for field, aggregates in by_date.items():
        for grain in EpisodeRollup.GRAINS:
            episodes = MqlEpisode.objects.order_by().filter(**{f"{field}__isnull": False})
            episodes = episodes.annotate(_start=Trunc(field, grain, tzinfo=UTC))
            for dimension, column in (("all", None), *_FILTERS):
                grouped = ("_start", column) if column else ("_start",)
                for row in episodes.values(*grouped).annotate(**aggregates):
                    key = "" if column is None or row[column] is None else str(row[column])
                    counts = found.setdefault((dimension, key, grain, row["_start"]), dict.fromkeys(COLUMNS, 0))
                    for name in aggregates:
                        counts[name] += row[name]
    return {place: counts for place, counts in found.items() if any(counts.values())}


def verify():
    """Return the rollup's rows that differ from the episodes, as {(dimension, key, grain, start): (stored, recomputed)}; empty when exact."""
    stored = {
        (row["dimension"], row["key"], row["grain"], row["start"]): {name: row[name] for name in COLUMNS}
        for row in EpisodeRollup.objects.values("dimension", "key", "grain", "start", *COLUMNS)
        if any(row[name] for name in COLUMNS)
    }
    recomputed = _recomputed()
    zero = dict.fromkeys(COLUMNS, 0)
    return {
        place: (stored.get(place, zero), recomputed.get(place, zero))
        for place in stored.keys() | recomputed.keys()
        if stored.get(place) != recomputed.get(place)
    }


def rebuild():
    """Replace the rollup with the one recomputed from the episodes, with their writers held off meanwhile; returns the number of rows written."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE leads_mqlepisode IN SHARE MODE")
        rows = [
            EpisodeRollup(dimension=dimension, key=key, grain=grain, start=start, **counts)
            for (dimension, key, grain, start), counts in _recomputed().items()
        ]
        EpisodeRollup.objects.all().delete()
        EpisodeRollup.objects.bulk_create(rows, batch_size=5000)
    return len(rows)
