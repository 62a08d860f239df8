"""How an MQL episode stood at a moment: SQL, accepted, followed up (late), awaiting, ignored, rejected, disqualified.

The outcome is computed in the database from the same conditions the numbers
count (``episodes``), so a drill-down row marked "Ignored" is one the Ignore
Rate counts as ignored. The drill-down lists (page, CSV and API) and the
threshold what-if all read it from ``with_outcomes``.
"""

from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils.translation import gettext_lazy

from leads.models import MqlEpisode

from .episodes import _followed_up_q, _ignored_q, _sla_late_q
from .period import _as_of


class Outcome(models.TextChoices):
    """Where an MQL episode stood, best first."""

    SQL = "sql", gettext_lazy("SQL (qualified)")
    SAL = "sal", gettext_lazy("SAL (accepted)")
    FOLLOWED_UP = "followed_up", gettext_lazy("Followed up")
    FOLLOWED_UP_LATE = "followed_up_late", gettext_lazy("Followed up late")
    AWAITING = "awaiting", gettext_lazy("Awaiting response")
    IGNORED = "ignored", gettext_lazy("Ignored (window expired)")
    REJECTED = "rejected", gettext_lazy("Rejected")
    DISQUALIFIED = "disqualified", gettext_lazy("Disqualified")

    @property
    def tone(self):
        """'good', 'bad' or 'wait': how the handoff went for this episode."""
        return _TONES[self]


_TONES = {
    Outcome.SQL: "good",
    Outcome.SAL: "good",
    Outcome.FOLLOWED_UP: "good",
    Outcome.FOLLOWED_UP_LATE: "bad",
    Outcome.AWAITING: "wait",
    Outcome.IGNORED: "bad",
    Outcome.REJECTED: "bad",
    Outcome.DISQUALIFIED: "bad",
}


def _outcome_as_of(as_of):
    # First match wins: the furthest stage reached by ``as_of``, then how the first response went.
    return Case(
        When(qualified_at__lte=as_of, then=Value(Outcome.SQL)),
        When(Q(rejected_at__lte=as_of, rejected_from=MqlEpisode.RejectedFrom.SAL), then=Value(Outcome.DISQUALIFIED)),
        When(rejected_at__lte=as_of, then=Value(Outcome.REJECTED)),
        When(accepted_at__lte=as_of, then=Value(Outcome.SAL)),
        When(_sla_late_q(as_of), then=Value(Outcome.FOLLOWED_UP_LATE)),
        When(_followed_up_q(as_of), then=Value(Outcome.FOLLOWED_UP)),
        When(_ignored_q(as_of), then=Value(Outcome.IGNORED)),
        default=Value(Outcome.AWAITING),
        output_field=models.CharField(),
    )


def with_outcomes(episodes, *, as_of=None):
    """Return the ``MqlEpisode`` queryset ``episodes`` with ``outcome``, each episode's ``Outcome`` value as of ``as_of`` (default now); raises nothing."""
    return episodes.annotate(outcome=_outcome_as_of(_as_of(as_of)))
