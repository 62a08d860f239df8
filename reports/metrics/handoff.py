"""Did sales pick up the MQLs: the Ignore Rate, MQL→SAL→SQL conversion and SLA compliance."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q
from django.utils.translation import gettext_lazy

from leads.models import MqlEpisode

from . import rollup
from .episodes import (
    _BY_OWNER,
    _awaiting_q,
    _followed_up_q,
    _ignored_q,
    _not_followed_up_by,
    _rep_name,
    _sla_closed_q,
    _sla_expired_q,
    _sla_late_q,
    _sla_within_q,
    mql_episodes,
)
from .period import COHORT_VIEW, PERIOD_VIEW, Ratio, _as_of, _check_view, _in


@dataclass(frozen=True)
class IgnoreRate:
    formula = gettext_lazy(
        "MQLs never followed up although their SLA window has expired ÷ all MQLs of the period × 100"
    )
    mqls: int
    ignored: int
    awaiting: int
    followed_up: int
    as_of: datetime

    @property
    def rate(self):
        return Ratio(self.ignored, self.mqls)


def _ignore_counts(as_of):
    """The counts of an ``IgnoreRate``, for ``aggregate()`` or a per-group ``annotate()``."""
    return {
        "mqls": Count("id"),
        "ignored": Count("id", filter=_ignored_q(as_of)),
        "awaiting": Count("id", filter=_awaiting_q(as_of)),
        "followed_up": Count("id", filter=_followed_up_q(as_of)),
    }


def ignore_rate(period, filters, *, as_of=None):
    """Return the Ignore Rate of the MQLs created in ``period``, judged as of ``as_of`` (default now); raises nothing."""
    as_of = _as_of(as_of)
    counts = mql_episodes(period, filters, as_of=as_of).aggregate(**_ignore_counts(as_of))
    return IgnoreRate(as_of=as_of, **counts)


@dataclass(frozen=True)
class IgnoreRateByRep:
    """The Ignore Rate of the period's MQLs (``total``) and of each current owner's share of them."""

    total: IgnoreRate
    reps: tuple  # ((rep_id or None, rep_name, IgnoreRate), ...) by username, unassigned MQLs last


def ignore_rate_by_rep(period, filters, *, as_of=None):
    """Return the ``IgnoreRateByRep`` of the MQLs created in ``period``, by current owner and in total: from the rollup where it answers (two queries), else from the episodes (one); raises nothing."""
    as_of = _as_of(as_of)
    found = rollup.counts([period], filters, as_of, by="rep")
    if found is not None:
        return _ignore_rate_by_rep_from(found, as_of)
    counts = _ignore_counts(as_of)
    rows = list(
        mql_episodes(period, filters, as_of=as_of).values(*_BY_OWNER).annotate(**counts).order_by("owner__username")
    )
    reps = tuple(
        (row["owner_id"], _rep_name(row), IgnoreRate(as_of=as_of, **{name: row[name] for name in counts}))
        for row in rows
    )
    # Every MQL has one current owner or none, so the owners' counts add up to the period's.
    total = IgnoreRate(as_of=as_of, **{name: sum(row[name] for row in rows) for name in counts})
    return IgnoreRateByRep(total=total, reps=reps)


def _ignore_rate_by_rep_from(found, as_of):
    """The ``IgnoreRateByRep`` of the rollup's base counts per rep ({owner id or '': [counts]}), reps by username, unassigned last."""
    rates = {}
    for key, (counts,) in found.items():
        if counts["mqls"]:
            unanswered = counts["mqls"] - counts["followed_up"]
            rates[int(key) if key else None] = IgnoreRate(
                mqls=counts["mqls"],
                ignored=unanswered - counts["awaiting"],
                awaiting=counts["awaiting"],
                followed_up=counts["followed_up"],
                as_of=as_of,
            )
    people = get_user_model().objects.filter(pk__in=[key for key in rates if key is not None]).order_by("username")
    reps = [
        (row["owner_id"], _rep_name(row), rates[row["owner_id"]])
        for row in people.values(
            owner_id=F("id"),
            owner__username=F("username"),
            owner__first_name=F("first_name"),
            owner__last_name=F("last_name"),
        )
    ]
    if None in rates:
        reps.append((None, _rep_name({"owner_id": None}), rates[None]))
    total = IgnoreRate(
        as_of=as_of,
        **{
            name: sum(getattr(rate, name) for rate in rates.values())
            for name in ("mqls", "ignored", "awaiting", "followed_up")
        },
    )
    return IgnoreRateByRep(total=total, reps=tuple(reps))


@dataclass(frozen=True)
class Conversion:
    formula_sal = gettext_lazy("SALs ÷ MQLs × 100")
    formula_sql = gettext_lazy("SQLs ÷ MQLs × 100")
    view: str
    mqls: int
    sals: int
    sqls: int

    @property
    def mql_to_sal(self):
        return Ratio(self.sals, self.mqls)

    @property
    def mql_to_sql(self):
        return Ratio(self.sqls, self.mqls)


def conversion(period, filters, *, view=PERIOD_VIEW, as_of=None):
    """Return MQL→SAL acceptance and MQL→SQL conversion ("MQL efficiency") in the period or cohort view; raises ReportInputError for an unknown view."""
    _check_view(view)
    as_of = _as_of(as_of)
    if view == COHORT_VIEW:
        counts = mql_episodes(period, filters, as_of=as_of).aggregate(
            mqls=Count("id"),
            sals=Count("id", filter=Q(accepted_at__lte=as_of)),
            sqls=Count("id", filter=Q(qualified_at__lte=as_of)),
        )
        return Conversion(view=view, **counts)
    # Period view: each count is of events inside the period, so one pass over
    # the episodes touching the period with a filtered count per event.
    touching = filters.apply(
        MqlEpisode.objects.filter(
            _in(period, "mql_at") | _in(period, "accepted_at") | _in(period, "qualified_at"), mql_at__lte=as_of
        )
    )
    counts = touching.aggregate(
        mqls=Count("id", filter=_in(period, "mql_at")),
        sals=Count("id", filter=_in(period, "accepted_at") & Q(accepted_at__lte=as_of)),
        sqls=Count("id", filter=_in(period, "qualified_at") & Q(qualified_at__lte=as_of)),
    )
    return Conversion(view=view, **counts)


@dataclass(frozen=True)
class SlaCompliance:
    formula = gettext_lazy("MQLs followed up within their window ÷ MQLs whose window has closed × 100")
    closed: int
    within: int
    late: int
    never: int

    @property
    def rate(self):
        return Ratio(self.within, self.closed)


def sla_compliance(period, filters, *, as_of=None):
    """Return SLA compliance of the period's MQLs: a window closes when answered or when it expires; raises nothing."""
    as_of = _as_of(as_of)
    return SlaCompliance(**mql_episodes(period, filters, as_of=as_of).aggregate(**_sla_counts(as_of)))


def _sla_counts(as_of):
    """The counts of an ``SlaCompliance``, for ``aggregate()``."""
    return {
        "closed": Count("id", filter=_sla_closed_q(as_of)),
        "within": Count("id", filter=_sla_within_q(as_of)),
        "late": Count("id", filter=_sla_late_q(as_of)),
        "never": Count("id", filter=_sla_expired_q(as_of) & _not_followed_up_by(as_of)),
    }
