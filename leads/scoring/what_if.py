"""What if the threshold were T: the last weeks replayed from the scores leads really had, next to the MQLs really produced.

The replay reads the history, not the rules: every score change is recorded
(``score_changed`` events carry the new score and the stage the lead was in),
so "the first moment a lead still with marketing had a score of at least T" is
one query. A lead's time in marketing is cut into *stints* by recycling: each
stint can make one MQL, as each recycled lead's new MQL is a new episode.

Under threshold T a stint becomes an MQL at the earlier of

- its first recorded score of at least T while in stage ``lead``, and
- its real promotion, if a person promoted it by hand (a marketer would still
  have handed it over; such promotions are counted in every column and shown
  on their own).

At today's threshold this gives the MQLs actually produced, week by week,
except for promotions the history itself explains otherwise; each such stint
is named (``WhatIf.differences``): automatic promotions at a score below
today's threshold (the threshold was lower then, or the lead came in with an
import that promoted it under another threshold), and leads that reached
today's threshold without being promoted at that moment (no team to route to,
or a higher threshold then). The scores are the ones leads had, decay
included, so the what-if answers for a threshold, not for other rules or
half-lives.

Only leads with a score change or a promotion in the window are read, in one
statement; outcomes come from their MQL episodes (``reports.metrics``).
"""

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from reports import metrics

from ..models import EventKind, MqlEpisode, Stage, TeamMember
from .rules import ScoringError, threshold

# The what-if outcome of a lead the candidate threshold picks that never became an MQL.
NEVER_AN_MQL = "never_mql"
# How many leads of each group the page lists by name.
GROUP_LEADS_SHOWN = 50

# One row per stint of a candidate lead: its first recorded score at or over each threshold
# while in stage lead, its real promotion and whether a person made it.
_STINTS_SQL = """
WITH candidates AS (
    SELECT DISTINCT lead_id FROM leads_leadevent
    WHERE kind IN (%(score_changed)s, %(promoted)s) AND at >= %(start)s AND at <= %(now)s
), events AS (
    SELECT e.lead_id, e.at, e.kind, e.to_stage, e.actor_id,
           CASE WHEN e.kind = %(score_changed)s THEN (e.payload ->> 'to')::integer END AS score,
           COUNT(*) FILTER (WHERE e.kind = %(recycled)s) OVER (PARTITION BY e.lead_id ORDER BY e.at, e.id) AS stint
    FROM leads_leadevent e JOIN candidates c ON c.lead_id = e.lead_id
    WHERE e.kind IN (%(score_changed)s, %(promoted)s, %(recycled)s) AND e.at <= %(now)s
)
SELECT lead_id, stint,
       MIN(at) FILTER (WHERE kind = %(score_changed)s AND to_stage = %(lead)s AND score >= %(candidate)s),
       MIN(at) FILTER (WHERE kind = %(score_changed)s AND to_stage = %(lead)s AND score >= %(current)s),
       MIN(at) FILTER (WHERE kind = %(promoted)s),
       COALESCE(BOOL_OR(kind = %(promoted)s AND actor_id IS NOT NULL), FALSE)
FROM events
GROUP BY lead_id, stint
"""

# Named differences between the MQLs produced and the replay at today's threshold.
PROMOTED_BELOW = "promoted_below"
CROSSED_UNPROMOTED = "crossed_unpromoted"
DIFFERENCE_LABELS = {
    PROMOTED_BELOW: gettext_noop(
        "promoted automatically at a score below today's threshold (a lower threshold then, or an import)"
    ),
    CROSSED_UNPROMOTED: gettext_noop(
        "reached today's threshold without being promoted then (no team to route to, or a higher threshold then)"
    ),
}


@dataclass(frozen=True)
class WhatIfWeek:
    week_start: object
    actual: int  # MQLs produced that week
    manual: int  # of them, promoted by hand (counted in every column)
    current: int  # the replay at today's threshold
    candidate: int  # the replay at the candidate threshold


@dataclass(frozen=True)
class WhatIfGroup:
    """Leads the candidate threshold adds or removes, and how they fared (as of now)."""

    count: int
    # metrics.Outcome value of the stint's MQL episode, or NEVER_AN_MQL -> count
    outcomes: dict
    reasons: dict  # rejection reason label -> count among them
    lead_ids: tuple  # the first GROUP_LEADS_SHOWN, by id


@dataclass(frozen=True)
class WhatIf:
    threshold: int
    current_threshold: int
    weeks: tuple
    actual_total: int
    manual_total: int
    current_total: int
    candidate_total: int
    differences: dict  # PROMOTED_BELOW / CROSSED_UNPROMOTED -> stints (actual vs the replay at today's threshold)
    added: WhatIfGroup  # MQLs at the candidate threshold that were not MQLs in the window
    removed: WhatIfGroup  # MQLs of the window that the candidate threshold would not have made
    # all MQLs at the candidate threshold, with how they fared
    outcomes: dict
    reasons: dict
    rep_load: tuple  # (rep name, MQLs per week under candidate, capacity or None)


@dataclass(frozen=True)
class _Stint:
    lead_id: int
    stint: int
    at_candidate: object
    at_current: object
    promoted_at: object
    manual: bool

    def becomes_mql(self, crossing):
        """When this stint becomes an MQL given its first crossing of a threshold: a hand promotion still counts."""
        moments = [at for at in (crossing, self.promoted_at if self.manual else None) if at is not None]
        return min(moments) if moments else None


def _stints(candidate, current, *, start, now):
    params = {
        "score_changed": EventKind.SCORE_CHANGED,
        "promoted": EventKind.PROMOTED,
        "recycled": EventKind.RECYCLED,
        "lead": Stage.LEAD,
        "start": start,
        "now": now,
        "candidate": candidate,
        "current": current,
    }
    with connection.cursor() as cursor:
        cursor.execute(_STINTS_SQL, params)
        return [_Stint(*row) for row in cursor.fetchall()]


def _week_of(at):
    return (at - timedelta(days=at.weekday())).date()


def _fates(stints, episodes):
    """Return (outcomes, reasons) of ``stints``: each by its real MQL episode, or NEVER_AN_MQL."""
    outcomes, reasons = Counter(), Counter()
    for stint in stints:
        episode = episodes.get((stint.lead_id, stint.promoted_at))
        outcomes[episode.outcome if episode else NEVER_AN_MQL] += 1
        if episode and episode.outcome in (metrics.Outcome.REJECTED, metrics.Outcome.DISQUALIFIED):
            reasons[episode.rejection_reason.label if episode.rejection_reason else "?"] += 1
    return dict(outcomes), dict(reasons)


def _group(stints, episodes):
    outcomes, reasons = _fates(stints, episodes)
    lead_ids = tuple(sorted({stint.lead_id for stint in stints})[:GROUP_LEADS_SHOWN])
    return WhatIfGroup(count=len(stints), outcomes=outcomes, reasons=reasons, lead_ids=lead_ids)


def what_if(candidate, *, weeks=8, now=None):
    """Replay the last ``weeks`` weeks under threshold ``candidate`` next to the MQLs produced and today's threshold; raises ScoringError for a threshold or span out of range."""
    if not isinstance(candidate, int) or isinstance(candidate, bool) or candidate < 1 or candidate > 100_000:
        raise ScoringError(gettext("The threshold must be a whole number between 1 and 100000."))
    if not isinstance(weeks, int) or isinstance(weeks, bool) or weeks < 1 or weeks > 52:
        raise ScoringError(gettext("Replay between 1 and 52 weeks."))
    now = now or timezone.now()
    start = now - timedelta(weeks=weeks)
    current = threshold()
    stints = _stints(candidate, current, start=start, now=now)

    def in_window(at):
        return at is not None and start <= at <= now

    actual = [s for s in stints if in_window(s.promoted_at)]
    at_current = {s: s.becomes_mql(s.at_current) for s in stints}
    at_candidate = {s: s.becomes_mql(s.at_candidate) for s in stints}
    replay_current = [s for s in stints if in_window(at_current[s])]
    replay_candidate = [s for s in stints if in_window(at_candidate[s])]

    differences = Counter()
    for s in actual:
        if not s.manual and (s.at_current is None or s.at_current > s.promoted_at):
            differences[PROMOTED_BELOW] += 1
    for s in replay_current:
        if not s.manual and (s.promoted_at is None or s.promoted_at > s.at_current):
            differences[CROSSED_UNPROMOTED] += 1

    week_starts = sorted({_week_of(start + timedelta(weeks=i)) for i in range(weeks + 1)})
    week_starts = [w for w in week_starts if w <= _week_of(now)]
    per_week = {
        "actual": Counter(_week_of(s.promoted_at) for s in actual),
        "manual": Counter(_week_of(s.promoted_at) for s in actual if s.manual),
        "current": Counter(_week_of(at_current[s]) for s in replay_current),
        "candidate": Counter(_week_of(at_candidate[s]) for s in replay_candidate),
    }

    actual_set, candidate_set = set(actual), set(replay_candidate)
    added = sorted(candidate_set - actual_set, key=lambda s: s.lead_id)
    removed = sorted(actual_set - candidate_set, key=lambda s: s.lead_id)
    lead_ids = {s.lead_id for s in (*added, *removed, *replay_candidate)}
    episodes = {
        (episode.lead_id, episode.mql_at): episode
        for episode in metrics.with_outcomes(MqlEpisode.objects.filter(lead_id__in=lead_ids), as_of=now)
        .select_related("rejection_reason")
        .order_by("number")
    }
    outcomes, reasons = _fates(replay_candidate, episodes)

    reps = list(
        TeamMember.objects.filter(role=TeamMember.Role.REP, is_available=True, user__is_active=True).select_related(
            "user"
        )
    )
    per_rep_week = (len(replay_candidate) / weeks / len(reps)) if reps else None
    rep_load = tuple(
        (member.user.get_full_name() or member.user.username, per_rep_week, member.mql_capacity) for member in reps
    )
    return WhatIf(
        threshold=candidate,
        current_threshold=current,
        weeks=tuple(
            WhatIfWeek(
                week_start=w,
                actual=per_week["actual"].get(w, 0),
                manual=per_week["manual"].get(w, 0),
                current=per_week["current"].get(w, 0),
                candidate=per_week["candidate"].get(w, 0),
            )
            for w in week_starts
        ),
        actual_total=len(actual),
        manual_total=sum(1 for s in actual if s.manual),
        current_total=len(replay_current),
        candidate_total=len(replay_candidate),
        differences=dict(differences),
        added=_group(added, episodes),
        removed=_group(removed, episodes),
        outcomes=outcomes,
        reasons=reasons,
        rep_load=rep_load,
    )
