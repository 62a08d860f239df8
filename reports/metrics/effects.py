"""Where the funnel leaks and what speed is worth: the waterfall and the response-time effect.

The waterfall (SiriusDecisions' demand waterfall) counts the period's leads,
MQLs, SALs and SQLs (each the events of the period, as the period view reads),
the conversion from each step to the next, and the median and 90th percentile
of the time spent in each stage by the leads that left it in the period; by
cohort month it follows the leads created in each month to ``as_of``. The
response-time effect compares the SQL rate of the period's MQLs answered
within an hour with that of those answered later.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy

from leads.models import Lead, MqlEpisode

from . import rollup
from .episodes import _RESPONSE, mql_episodes
from .period import Ratio, _as_of, _in
from .speed import _PercentileCont

_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class ResponseEffect:
    formula = gettext_lazy("SQL rate of MQLs answered within 1 hour ÷ SQL rate of MQLs answered later")
    fast: int
    fast_sqls: int
    slow: int
    slow_sqls: int

    @property
    def fast_rate(self):
        return Ratio(self.fast_sqls, self.fast)

    @property
    def slow_rate(self):
        return Ratio(self.slow_sqls, self.slow)

    @property
    def times(self):
        """How many times as often fast answers became SQLs; None when either rate is unknown or the later one is 0."""
        fast, slow = self.fast_rate.percent, self.slow_rate.percent
        if fast is None or not slow:
            return None
        return fast / slow


def response_effect_counts(as_of):
    """The counts of a ``ResponseEffect``, over MQL episodes annotated with ``_response``."""
    answered = Q(first_follow_up_at__isnull=False, first_follow_up_at__lte=as_of)
    fast = answered & Q(_response__lte=_HOUR)
    slow = answered & Q(_response__gt=_HOUR)
    qualified = Q(qualified_at__lte=as_of)
    return {
        "fast": Count("id", filter=fast),
        "fast_sqls": Count("id", filter=fast & qualified),
        "slow": Count("id", filter=slow),
        "slow_sqls": Count("id", filter=slow & qualified),
    }


def response_effect(period, filters, *, as_of=None):
    """Return the ``ResponseEffect`` of the MQLs created in ``period``, answered and qualified by ``as_of``; raises nothing."""
    as_of = _as_of(as_of)
    found = rollup.counts([period], filters, as_of)
    if found is not None:
        # From the rollup (one query): within the hour, and the rest of the answered.
        (counts,) = rollup.totals(found, [period])
        return ResponseEffect(
            fast=counts["within_hour"],
            fast_sqls=counts["fast_sqls"],
            slow=counts["followed_up"] - counts["within_hour"],
            slow_sqls=counts["slow_sqls"],
        )
    counts = (
        mql_episodes(period, filters, as_of=as_of)
        .annotate(_response=_RESPONSE)
        .aggregate(**response_effect_counts(as_of))
    )
    return ResponseEffect(**counts)


@dataclass(frozen=True)
class CohortMonth:
    month: object
    leads: int
    mqls: int
    sals: int
    sqls: int


@dataclass(frozen=True)
class Waterfall:
    formula = gettext_lazy("leads → MQLs → SALs → SQLs of the period; each step ÷ the one before × 100")
    leads: int
    mqls: int
    sals: int
    sqls: int
    lead_time: tuple  # (median, p90) from lead created to MQL
    mql_time: tuple  # from MQL to accepted (SAL)
    sal_time: tuple  # from accepted to qualified (SQL)
    cohorts: tuple = ()

    @property
    def steps(self):
        return (
            (gettext_lazy("Lead → MQL"), Ratio(self.mqls, self.leads)),
            (gettext_lazy("MQL → SAL"), Ratio(self.sals, self.mqls)),
            (gettext_lazy("SAL → SQL"), Ratio(self.sqls, self.sals)),
        )


def _between(end, start):
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def waterfall(period, filters, *, as_of=None):
    """Return the ``Waterfall`` of ``period``: counts, step conversion, median and p90 time in each stage, and by cohort month; raises nothing."""
    as_of = _as_of(as_of)
    leads = filters.apply(Lead.objects.filter(_in(period, "created_at"), created_at__lte=as_of))
    mqls = _in(period, "mql_at") & Q(mql_at__lte=as_of)
    sals = _in(period, "accepted_at") & Q(accepted_at__lte=as_of)
    sqls = _in(period, "qualified_at") & Q(qualified_at__lte=as_of)
    touching = filters.apply(MqlEpisode.objects.filter(mqls | sals | sqls)).annotate(
        _in_lead=_between("mql_at", "lead__created_at"),
        _in_mql=_between("accepted_at", "mql_at"),
        _in_sal=_between("qualified_at", "accepted_at"),
    )
    totals = touching.aggregate(
        mqls=Count("id", filter=mqls),
        sals=Count("id", filter=sals),
        sqls=Count("id", filter=sqls),
        lead_median=_PercentileCont("_in_lead", 0.5, filter=mqls),
        lead_p90=_PercentileCont("_in_lead", 0.9, filter=mqls),
        mql_median=_PercentileCont("_in_mql", 0.5, filter=sals),
        mql_p90=_PercentileCont("_in_mql", 0.9, filter=sals),
        sal_median=_PercentileCont("_in_sal", 0.5, filter=sqls),
        sal_p90=_PercentileCont("_in_sal", 0.9, filter=sqls),
    )
    month = TruncMonth("created_at", tzinfo=period.zone)
    by_month = {
        row["month"]: row["leads"] for row in leads.annotate(month=month).values("month").annotate(leads=Count("id"))
    }
    reached = (
        filters.apply(MqlEpisode.objects.filter(_in(period, "lead__created_at"), mql_at__lte=as_of))
        .annotate(month=TruncMonth("lead__created_at", tzinfo=period.zone))
        .values("month")
        .annotate(
            mqls=Count("lead_id", distinct=True),
            sals=Count("lead_id", distinct=True, filter=Q(accepted_at__lte=as_of)),
            sqls=Count("lead_id", distinct=True, filter=Q(qualified_at__lte=as_of)),
        )
    )
    reached = {row["month"]: row for row in reached}
    cohorts = tuple(
        CohortMonth(
            month=key.date(),
            leads=by_month.get(key, 0),
            mqls=reached.get(key, {}).get("mqls", 0),
            sals=reached.get(key, {}).get("sals", 0),
            sqls=reached.get(key, {}).get("sqls", 0),
        )
        for key in sorted(set(by_month) | set(reached))
    )
    return Waterfall(
        leads=sum(by_month.values()),
        mqls=totals["mqls"],
        sals=totals["sals"],
        sqls=totals["sqls"],
        lead_time=(totals["lead_median"], totals["lead_p90"]),
        mql_time=(totals["mql_median"], totals["mql_p90"]),
        sal_time=(totals["sal_median"], totals["sal_p90"]),
        cohorts=cohorts,
    )
