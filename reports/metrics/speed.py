"""Speed to lead: how long from MQL to the first sales response, by band and rep, against the SLA.

The median, the 90th percentile and the typical window are interpolated
percentiles (PostgreSQL's ``percentile_cont``), computed in the same pass as
the totals.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Aggregate, Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.utils.translation import gettext_lazy

from .episodes import (
    _BY_OWNER,
    _RESPONSE,
    _WITHIN_HOUR,
    SPEED_BANDS,
    _band_q,
    _followed_up_q,
    _rep_name,
    _within_window_q,
    followed_up_episodes,
    mql_episodes,
)
from .period import Ratio, _as_of


class _AgainstTheWindow:
    """Whether the mean response misses the typical promised window, for a result with both."""

    @property
    def misses_sla(self):
        """Whether the mean response is slower than the typical promised window; None when either is unknown."""
        if self.mean is None or self.typical_window is None:
            return None
        return self.mean > self.typical_window


class _ResponseShares:
    """The shares of answered MQLs within an hour and within their window, for a result with those counts."""

    @property
    def within_hour_share(self):
        return Ratio(self.within_hour, self.responded)

    @property
    def within_sla_share(self):
        return Ratio(self.within_sla, self.responded)


@dataclass(frozen=True)
class RepSpeed(_ResponseShares):
    rep_id: int | None
    rep_name: str
    responded: int
    mean: timedelta | None
    within_hour: int
    within_sla: int


@dataclass(frozen=True)
class SpeedToLead(_ResponseShares, _AgainstTheWindow):
    formula = gettext_lazy("time from MQL to first follow-up (accept, reject or logged sales activity)")
    formula_within_hour = gettext_lazy("answered within 1 hour ÷ answered × 100")
    formula_within_sla = gettext_lazy("answered within the SLA window ÷ answered × 100")
    responded: int
    median: timedelta | None
    mean: timedelta | None
    p90: timedelta | None
    within_hour: int
    within_sla: int
    typical_window: timedelta | None
    bands: tuple = field(default_factory=tuple)
    by_rep: tuple = field(default_factory=tuple)


@dataclass(frozen=True)
class SpeedHeadline(_AgainstTheWindow):
    """The numbers of ``SpeedToLead`` that the overview shows, without the bands, p90 and reps."""

    formula = SpeedToLead.formula
    responded: int
    median: timedelta | None
    mean: timedelta | None
    typical_window: timedelta | None


_WINDOW = ExpressionWrapper(F("due_at") - F("mql_at"), output_field=DurationField())


class _PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``: a linear-interpolated percentile."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction, **extra):
        # A float from this module, never user input, so it is safe as a literal.
        super().__init__(expression, fraction=repr(float(fraction)), output_field=DurationField(), **extra)


def _speed_counts(answered=None):
    """The numbers of a ``RepSpeed``, over episodes annotated with ``_response``; ``answered`` narrows each to the answered ones."""

    def only(condition=None):
        if answered is None:
            return condition
        return answered if condition is None else answered & condition

    return {
        # COUNT(*) when nothing else is read (an index-only scan can answer it); Django allows no filter on it.
        "responded": Count("*") if answered is None else Count("id", filter=answered),
        "mean": Avg("_response", filter=only()),
        "within_hour": Count("id", filter=only(_WITHIN_HOUR)),
        "within_sla": Count("id", filter=only(_within_window_q())),
    }


_PERCENTILES = (("median", 0.5), ("p90", 0.9))


def _wanted(details):
    """Which totals to compute: (count names, percentiles, band indexes); the headline needs the first few."""
    if details:
        return ("responded", "mean", "within_hour", "within_sla"), _PERCENTILES, range(len(SPEED_BANDS))
    return ("responded", "mean"), _PERCENTILES[:1], ()


def _one_pass_aggregates(as_of, *, details):
    """The aggregates of ``_totals`` on PostgreSQL, over MQL episodes annotated with ``_response`` and ``_window``."""
    answered = _followed_up_q(as_of)
    counts = _speed_counts(answered)
    names, percentiles, bands = _wanted(details)
    return {
        **{name: counts[name] for name in names},
        **{f"band_{index}": Count("id", filter=answered & _band_q(index)) for index in bands},
        **{name: _PercentileCont("_response", fraction, filter=answered) for name, fraction in percentiles},
        "typical_window": _PercentileCont("_window", 0.5, filter=Q(due_at__isnull=False)),
    }


def _totals(period, filters, as_of, *, details):
    """The totals of the period's answered MQLs with their median (and with ``details`` p90, shares and bands), and the typical window, in one pass over the period's MQLs, each number filtered to the answered ones."""
    episodes = mql_episodes(period, filters, as_of=as_of)
    return episodes.annotate(_response=_RESPONSE, _window=_WINDOW).aggregate(
        **_one_pass_aggregates(as_of, details=details)
    )


def _headline(totals):
    return SpeedHeadline(
        responded=totals["responded"],
        median=totals["median"],
        mean=totals["mean"],
        typical_window=totals["typical_window"],
    )


def speed_headline(period, filters, *, as_of=None):
    """Return the median and mean response and the typical window of the period's MQLs answered by ``as_of`` (the overview's numbers); raises nothing."""
    return _headline(_totals(period, filters, _as_of(as_of), details=False))


def speed_to_lead(period, filters, *, as_of=None):
    """Return speed to lead for the period's MQLs answered by ``as_of``: median, mean, p90, bands, by rep, against the SLA; raises nothing."""
    as_of = _as_of(as_of)
    totals = _totals(period, filters, as_of, details=True)
    responded = totals["responded"]
    by_rep = (
        followed_up_episodes(period, filters, as_of=as_of)
        .annotate(_response=_RESPONSE)
        .values(*_BY_OWNER)
        .annotate(**_speed_counts())
        .order_by("owner__username")
    )
    return SpeedToLead(
        responded=responded,
        median=totals["median"],
        mean=totals["mean"],
        p90=totals["p90"],
        within_hour=totals["within_hour"],
        within_sla=totals["within_sla"],
        typical_window=totals["typical_window"],
        bands=tuple(
            (label, totals[f"band_{index}"], Ratio(totals[f"band_{index}"], responded))
            for index, (label, _low, _high) in enumerate(SPEED_BANDS)
        ),
        by_rep=tuple(
            RepSpeed(
                rep_id=row["owner_id"],
                rep_name=_rep_name(row),
                responded=row["responded"],
                mean=row["mean"],
                within_hour=row["within_hour"],
                within_sla=row["within_sla"],
            )
            for row in by_rep
        ),
    )
