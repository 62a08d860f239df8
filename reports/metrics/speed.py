"""Speed to lead: how long from MQL to the first sales response, by band and rep, against the SLA."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F

from .episodes import (
    _BY_OWNER,
    _RESPONSE,
    _WITHIN_HOUR,
    SPEED_BANDS,
    _band_q,
    _rep_name,
    _within_window_q,
    followed_up_episodes,
    mql_episodes,
)
from .period import Ratio, _as_of


@dataclass(frozen=True)
class RepSpeed:
    rep_id: int | None
    rep_name: str
    responded: int
    mean: timedelta | None
    within_hour: int
    within_sla: int

    @property
    def within_hour_share(self):
        return Ratio(self.within_hour, self.responded)

    @property
    def within_sla_share(self):
        return Ratio(self.within_sla, self.responded)


@dataclass(frozen=True)
class SpeedToLead:
    formula = "time from MQL to first follow-up (accept, reject or logged sales activity)"
    responded: int
    median: timedelta | None
    mean: timedelta | None
    p90: timedelta | None
    within_hour: int
    within_sla: int
    typical_window: timedelta | None
    bands: tuple = field(default_factory=tuple)
    by_rep: tuple = field(default_factory=tuple)

    @property
    def within_hour_share(self):
        return Ratio(self.within_hour, self.responded)

    @property
    def within_sla_share(self):
        return Ratio(self.within_sla, self.responded)

    @property
    def misses_sla(self):
        """Whether the mean response is slower than the typical promised window."""
        if self.mean is None or self.typical_window is None:
            return None
        return self.mean > self.typical_window


_WINDOW = ExpressionWrapper(F("due_at") - F("mql_at"), output_field=DurationField())


def _speed_counts():
    """The numbers of a ``RepSpeed``, over episodes annotated with ``_response``, for the total and per rep."""
    return {
        "responded": Count("id"),
        "mean": Avg("_response"),
        "within_hour": Count("id", filter=_WITHIN_HOUR),
        "within_sla": Count("id", filter=_within_window_q()),
    }


def _percentile(queryset, expression, fraction, count):
    """Linear-interpolated percentile (as PostgreSQL's percentile_cont) by ordering in SQL; works on every backend."""
    if not count:
        return None
    position = fraction * (count - 1)
    lower = int(position)
    values = list(
        queryset.annotate(_value=expression).order_by("_value").values_list("_value", flat=True)[lower : lower + 2]
    )
    if len(values) == 1 or position == lower:
        return values[0]
    return values[0] + (values[1] - values[0]) * (position - lower)


def speed_to_lead(period, filters, *, as_of=None):
    """Return speed to lead for the period's MQLs answered by ``as_of``: median, mean, p90, bands, by rep, against the SLA; raises nothing."""
    as_of = _as_of(as_of)
    answered = followed_up_episodes(period, filters, as_of=as_of)
    band_counts = {f"band_{index}": Count("id", filter=_band_q(index)) for index in range(len(SPEED_BANDS))}
    totals = answered.annotate(_response=_RESPONSE).aggregate(**_speed_counts(), **band_counts)
    responded = totals["responded"]
    windows = mql_episodes(period, filters, as_of=as_of).filter(due_at__isnull=False)
    window_count = windows.count()
    by_rep = (
        answered.annotate(_response=_RESPONSE)
        .values(*_BY_OWNER)
        .annotate(**_speed_counts())
        .order_by("owner__username")
    )
    return SpeedToLead(
        responded=responded,
        median=_percentile(answered, _RESPONSE, 0.5, responded),
        mean=totals["mean"],
        p90=_percentile(answered, _RESPONSE, 0.9, responded),
        within_hour=totals["within_hour"],
        within_sla=totals["within_sla"],
        typical_window=_percentile(windows, _WINDOW, 0.5, window_count),
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
