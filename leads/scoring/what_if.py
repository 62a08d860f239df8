"""What if the threshold were T: the last weeks replayed under a candidate threshold next to the current one."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from reports import metrics

from ..models import Activity, Lead, MqlEpisode, ScoringRule, TeamMember
from .rules import ScoringError, active_rules, behaviour_match, demographic_match, rule_points, threshold

# The what-if outcome of a lead the candidate threshold picks that never became an MQL.
NEVER_AN_MQL = "never_mql"


@dataclass(frozen=True)
class WhatIfWeek:
    week_start: object
    candidate: int
    current: int


@dataclass(frozen=True)
class WhatIf:
    threshold: int
    current_threshold: int
    weeks: tuple
    candidate_total: int
    current_total: int
    # metrics.Outcome value (as of now) of each lead's latest MQL episode, or NEVER_AN_MQL -> count,
    # for the leads the candidate threshold would have made MQLs
    outcomes: dict
    reasons: dict  # rejection reason label -> count among them
    rep_load: tuple  # (rep name, MQLs per week under candidate, capacity or None)


def what_if(candidate, *, weeks=8, now=None):
    """Replay the last ``weeks`` weeks under threshold ``candidate`` next to the current one; raises ScoringError for a threshold or span out of range.

    Each lead's score is rebuilt over time (demographic points from its creation,
    behaviour points at each activity, caps applied), and the first moment it
    reaches a threshold is when it would have become an MQL.
    """
    if not isinstance(candidate, int) or candidate < 1 or candidate > 100_000:
        raise ScoringError("The threshold must be a whole number between 1 and 100000.")
    if not isinstance(weeks, int) or weeks < 1 or weeks > 52:
        raise ScoringError("Replay between 1 and 52 weeks.")
    now = now or timezone.now()
    start = now - timedelta(weeks=weeks)
    current = threshold()
    rules = active_rules()
    demographic = [r for r in rules if r.category == ScoringRule.Category.DEMOGRAPHIC]
    behaviour = [r for r in rules if r.category == ScoringRule.Category.BEHAVIOUR]
    kinds = {r.activity_kind for r in behaviour}

    activities = defaultdict(list)
    for activity in (
        Activity.objects.filter(kind__in=kinds, occurred_at__lte=now).only("lead_id", "kind", "url", "occurred_at")
    ).order_by("occurred_at", "id"):
        activities[activity.lead_id].append(activity)
    # Only leads created in the window, or active in it, can first reach a threshold in it.
    active_in_window = Activity.objects.filter(kind__in=kinds, occurred_at__gte=start, occurred_at__lte=now)
    candidates = Lead.objects.filter(
        Q(created_at__gte=start, created_at__lte=now) | Q(pk__in=active_in_window.values("lead_id"))
    ).only("id", "email", "job_title", "company", "company_size", "country", "source", "campaign", "created_at")

    crossed = {candidate: {}, current: {}}
    for lead in candidates.iterator(chunk_size=2000):
        base = sum(r.points for r in demographic if demographic_match(r, lead))
        moments = [(lead.created_at, base)]
        counts = Counter()
        shares = {}
        for activity in activities.get(lead.pk, ()):
            for rule in behaviour:
                if behaviour_match(rule, activity):
                    counts[rule.pk] += 1
                    shares[rule.pk] = rule_points(rule, counts[rule.pk])
            moments.append((activity.occurred_at, base + sum(shares.values())))
        for limit in crossed:
            for at, score in moments:
                if score >= limit:
                    if start <= at <= now:
                        crossed[limit][lead.pk] = at
                    break

    def week_of(at):
        return (at - timedelta(days=at.weekday())).date()

    week_starts = [week_of(start + timedelta(weeks=i)) for i in range(weeks + 1)]
    week_starts = sorted({w for w in week_starts if w <= week_of(now)})
    per_week = {limit: Counter(week_of(at) for at in crossed[limit].values()) for limit in crossed}

    would_be = list(crossed[candidate])
    outcomes, reasons = Counter(), Counter()
    last_episode = {}
    episodes = metrics.with_outcomes(MqlEpisode.objects.filter(lead_id__in=would_be), as_of=now)
    for episode in episodes.select_related("rejection_reason").order_by("number"):
        last_episode[episode.lead_id] = episode
    for lead_id in would_be:
        episode = last_episode.get(lead_id)
        outcomes[episode.outcome if episode else NEVER_AN_MQL] += 1
        if episode and episode.outcome in (metrics.Outcome.REJECTED, metrics.Outcome.DISQUALIFIED):
            reasons[episode.rejection_reason.label if episode.rejection_reason else "?"] += 1

    reps = list(
        TeamMember.objects.filter(role=TeamMember.Role.REP, is_available=True, user__is_active=True).select_related(
            "user"
        )
    )
    per_rep_week = (len(would_be) / weeks / len(reps)) if reps else None
    rep_load = tuple(
        (member.user.get_full_name() or member.user.username, per_rep_week, member.mql_capacity) for member in reps
    )
    return WhatIf(
        threshold=candidate,
        current_threshold=current,
        weeks=tuple(
            WhatIfWeek(week_start=w, candidate=per_week[candidate].get(w, 0), current=per_week[current].get(w, 0))
            for w in week_starts
        ),
        candidate_total=len(crossed[candidate]),
        current_total=len(crossed[current]),
        outcomes=dict(outcomes),
        reasons=dict(reasons),
        rep_load=rep_load,
    )
