"""The overview's numbers of the period's MQL episodes: ignore rate, SLA compliance and speed to lead together.

Each is a function of its own module; the overview shows all three, and their
counts, means and percentiles come from one pass over the same episodes.
"""

from dataclasses import dataclass

from .episodes import _RESPONSE, mql_episodes
from .handoff import IgnoreRate, SlaCompliance, _ignore_counts, _sla_counts
from .period import _as_of
from .speed import _WINDOW, SpeedHeadline, _headline, _one_pass_aggregates


@dataclass(frozen=True)
class EpisodeHeadlines:
    ignore_rate: IgnoreRate
    sla_compliance: SlaCompliance
    speed: SpeedHeadline


def episode_headlines(period, filters, *, as_of=None):
    """Return the ignore rate, SLA compliance and speed-to-lead headline of the period's MQLs as of ``as_of``, as their own functions would; raises nothing."""
    as_of = _as_of(as_of)
    ignore, sla = _ignore_counts(as_of), _sla_counts(as_of)
    totals = (
        mql_episodes(period, filters, as_of=as_of)
        .annotate(_response=_RESPONSE, _window=_WINDOW)
        .aggregate(**ignore, **sla, **_one_pass_aggregates(as_of, details=False))
    )
    return EpisodeHeadlines(
        ignore_rate=IgnoreRate(as_of=as_of, **{name: totals[name] for name in ignore}),
        sla_compliance=SlaCompliance(**{name: totals[name] for name in sla}),
        speed=_headline(totals),
    )
