"""Score a lead, explain a score, rescore everything, and what-if a threshold.

A lead's score is the sum of what each active rule gives it: a demographic rule
its points once if the lead's field matches; a behaviour rule its points for
every matching activity; either clamped to the rule's cap. ``LeadRuleScore``
keeps each rule's share, so a new activity changes the score incrementally and
every score can be explained. Reaching the MQL threshold promotes a lead that is
still with marketing; nothing here ever moves a lead back from sales.
"""

import logging
from collections import Counter, defaultdict, namedtuple
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from reports import metrics

from . import background
from .models import (
    FREE_MAIL_DOMAINS,
    Activity,
    EventKind,
    Lead,
    LeadEvent,
    LeadRuleScore,
    MqlEpisode,
    ScoringConfig,
    ScoringRule,
    ScoringRun,
    Stage,
    TeamMember,
)

log = logging.getLogger(__name__)

RESCORE_BATCH = 2000


class ScoringError(Exception):
    """A scoring request that cannot be answered; the message says why."""


def active_rules():
    """Return the active rules, demographic first; raises nothing."""
    return list(ScoringRule.objects.filter(is_active=True).order_by("category", "position", "id"))


def threshold():
    """Return the current MQL threshold; raises nothing."""
    return ScoringConfig.current().mql_threshold


def _lead_value(lead, field):
    if field == ScoringRule.Field.EMAIL_DOMAIN:
        return (lead.email or "").rsplit("@", 1)[-1].strip().lower()
    return getattr(lead, field)


def demographic_match(rule, lead):
    """Return whether a demographic ``rule`` matches ``lead``'s fields; raises nothing."""
    value = _lead_value(lead, rule.field)
    op = rule.operator
    if op == ScoringRule.Operator.FREE_MAIL:
        domain = _lead_value(lead, ScoringRule.Field.EMAIL_DOMAIN)
        return domain in FREE_MAIL_DOMAINS
    if op == ScoringRule.Operator.BETWEEN:
        if value is None or value == "":
            return False
        try:
            number = int(value)
        except (TypeError, ValueError):
            return False
        low = rule.min_value if rule.min_value is not None else number
        high = rule.max_value if rule.max_value is not None else number
        return low <= number <= high
    text = str(value or "").strip().lower()
    wanted = rule.value.strip().lower()
    if op == ScoringRule.Operator.CONTAINS:
        return bool(wanted) and wanted in text
    if op == ScoringRule.Operator.EQUALS:
        return text == wanted
    if op == ScoringRule.Operator.ONE_OF:
        return text in {item.strip().lower() for item in rule.value.split(",") if item.strip()}
    return False


def behaviour_match(rule, activity):
    """Return whether a behaviour ``rule`` counts ``activity``; raises nothing."""
    if activity.kind != rule.activity_kind:
        return False
    if rule.url_contains:
        return rule.url_contains.lower() in (activity.url or "").lower()
    return True


def rule_points(rule, matches):
    """Return what ``rule`` gives for ``matches`` matches, clamped to its cap; raises nothing."""
    total = rule.points * matches
    if rule.cap is not None:
        total = max(-rule.cap, min(rule.cap, total))
    return total


def contributions(lead, activities, rules):
    """Return ``{rule_id: (matches, points)}`` for ``lead`` with ``activities`` under ``rules``; raises nothing."""
    result = {}
    for rule in rules:
        if rule.category == ScoringRule.Category.DEMOGRAPHIC:
            matches = 1 if demographic_match(rule, lead) else 0
        else:
            matches = sum(1 for activity in activities if behaviour_match(rule, activity))
        if matches:
            result[rule.pk] = (matches, rule_points(rule, matches))
    return result


@dataclass(frozen=True)
class ScoreLine:
    rule: ScoringRule
    matches: int
    points: int


def explain(lead):
    """Return the rules that make ``lead``'s score, biggest share first; raises nothing."""
    rows = LeadRuleScore.objects.filter(lead=lead).select_related("rule").order_by("-points", "rule__name")
    return [ScoreLine(rule=row.rule, matches=row.matches, points=row.points) for row in rows if row.matches]


def _store(lead, new, *, now, actor=None, cause):
    """Replace ``lead``'s rule shares by ``new`` and record the score change; returns the new score."""
    old = {row.rule_id: row for row in LeadRuleScore.objects.filter(lead=lead)}
    for rule_id, row in old.items():
        if rule_id not in new:
            row.delete()
    for rule_id, (matches, points) in new.items():
        row = old.get(rule_id)
        if row is None:
            LeadRuleScore.objects.create(lead=lead, rule_id=rule_id, matches=matches, points=points)
        elif (row.matches, row.points) != (matches, points):
            LeadRuleScore.objects.filter(pk=row.pk).update(matches=matches, points=points)
    score = sum(points for _matches, points in new.values())
    if score != lead.score:
        _record_score(lead, score, now=now, actor=actor, cause=cause)
    return score


def score_changed_event(lead, score, *, cause, now, actor=None):
    """Return the unsaved history row for ``lead``'s score going from its current value to ``score``; raises nothing."""
    return LeadEvent(
        lead_id=lead.pk,
        kind=EventKind.SCORE_CHANGED,
        at=now,
        actor=actor,
        from_stage=lead.stage,
        to_stage=lead.stage,
        owner_id=lead.owner_id,
        episode=lead.mql_episode,
        payload={"from": lead.score, "to": score, "cause": cause},
    )


def _record_score(lead, score, *, now, actor, cause):
    event = score_changed_event(lead, score, cause=cause, now=now, actor=actor)
    Lead.objects.filter(pk=lead.pk).update(score=score, version=F("version") + 1, updated_at=now)
    lead.score = score
    lead.version += 1
    event.save(force_insert=True)


def _promote_if_ready(lead, *, limit, now):
    from . import transitions

    if lead.stage == Stage.LEAD and lead.score >= limit:
        try:
            return transitions.promote_to_mql(lead, by=None, now=now, note=f"Score {lead.score} reached {limit}.")
        except transitions.LeadError as exc:
            log.warning("lead %s reached the threshold but was not promoted: %s", lead.pk, exc.message)
    return lead


def score_lead(lead, *, now=None, actor=None, cause="rescore"):
    """Recompute ``lead``'s score from scratch, record any change and promote it if it reached the threshold; raises nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        activities = list(Activity.objects.filter(lead=lead, kind__in=_behaviour_kinds()))
        _store(lead, contributions(lead, activities, active_rules()), now=now, actor=actor, cause=cause)
        lead = _promote_if_ready(lead, limit=threshold(), now=now)
    return lead


def _behaviour_kinds():
    return set(
        ScoringRule.objects.filter(is_active=True, category=ScoringRule.Category.BEHAVIOUR).values_list(
            "activity_kind", flat=True
        )
    )


def apply_activities(lead, activities, *, now=None):
    """Add the points of newly recorded ``activities`` to ``lead`` incrementally and promote it if it reached the threshold; raises nothing.

    Only the behaviour rules these activities match are recounted; the lead row
    is locked, so two activities arriving at once add up and promote once.
    """
    now = now or timezone.now()
    rules = [r for r in active_rules() if r.category == ScoringRule.Category.BEHAVIOUR]
    hits = Counter()
    for activity in activities:
        for rule in rules:
            if behaviour_match(rule, activity):
                hits[rule.pk] += 1
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if hits:
            by_id = {rule.pk: rule for rule in rules}
            shares = {row.rule_id: row for row in LeadRuleScore.objects.filter(lead=lead, rule_id__in=hits)}
            delta = 0
            for rule_id, count in hits.items():
                row = shares.get(rule_id)
                matches = (row.matches if row else 0) + count
                points = rule_points(by_id[rule_id], matches)
                delta += points - (row.points if row else 0)
                if row is None:
                    LeadRuleScore.objects.create(lead=lead, rule_id=rule_id, matches=matches, points=points)
                else:
                    LeadRuleScore.objects.filter(pk=row.pk).update(matches=matches, points=points)
            if delta:
                _record_score(lead, lead.score + delta, now=now, actor=None, cause="activity")
        lead = _promote_if_ready(lead, limit=threshold(), now=now)
    return lead


def start_rescore(*, by=None):
    """Queue a rescore of every lead after rules or threshold changed; returns the ScoringRun, raises nothing."""
    run = ScoringRun.objects.create(requested_by=by, total=Lead.objects.count())
    background.after_commit("leads.tasks.rescore_leads_task", run.pk)
    return run


def rescore_leads(run_id, *, now=None, batch_size=RESCORE_BATCH):
    """Rescore every lead in batches, recording progress on the run; promotes leads that now reach the threshold and never demotes; returns the run, raises ScoringError for an unknown run.

    Safe to run twice: the run continues from its last finished batch, and each
    batch compares against the stored shares so an unchanged lead writes nothing.
    """
    now = now or timezone.now()
    updated = ScoringRun.objects.filter(pk=run_id, status__in=[ScoringRun.Status.QUEUED, ScoringRun.Status.RUNNING])
    if not updated.update(status=ScoringRun.Status.RUNNING, started_at=now):
        run = ScoringRun.objects.filter(pk=run_id).first()
        if run is None:
            raise ScoringError(f"No rescore run {run_id}.")
        return run
    run = ScoringRun.objects.get(pk=run_id)
    rules = active_rules()
    behaviour_kinds = {r.activity_kind for r in rules if r.category == ScoringRule.Category.BEHAVIOUR}
    limit = threshold()
    try:
        while True:
            ids = list(
                Lead.objects.filter(pk__gt=run.last_lead_id).order_by("pk").values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            changed, ready = _rescore_batch(ids, rules, behaviour_kinds, limit=limit, now=now)
            promoted = 0
            for lead in Lead.objects.filter(pk__in=ready, stage=Stage.LEAD):
                if _promote_if_ready(lead, limit=limit, now=now).stage == Stage.MQL:
                    promoted += 1
            ScoringRun.objects.filter(pk=run.pk).update(
                done=F("done") + len(ids),
                changed=F("changed") + changed,
                promoted=F("promoted") + promoted,
                last_lead_id=ids[-1],
            )
            run.last_lead_id = ids[-1]
    except Exception as exc:
        ScoringRun.objects.filter(pk=run.pk).update(
            status=ScoringRun.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    ScoringRun.objects.filter(pk=run.pk).update(status=ScoringRun.Status.DONE, finished_at=timezone.now())
    run.refresh_from_db()
    return run


# What ``behaviour_match`` reads of an activity, without building a model instance.
_Behaviour = namedtuple("_Behaviour", "kind url")


# What contributions() and the batch read of a lead; the rest of the row stays in the database.
_RESCORE_LEAD_FIELDS = (
    "id",
    "email",
    "job_title",
    "company",
    "company_size",
    "country",
    "source",
    "campaign",
    "stage",
    "score",
    "version",
    "owner_id",
    "mql_episode",
)


def _rescore_batch(ids, rules, behaviour_kinds, *, limit, now):
    """Rescore one batch of leads set-wise; returns (how many changed, ids now at or over the threshold in stage lead).

    Writes only the difference: shares that appeared, went or changed value, and
    one UPDATE per distinct new score (a batch holds a few dozen), so a full
    rescore costs what changed rather than a rewrite of every row.
    """
    with transaction.atomic():
        leads = list(Lead.objects.select_for_update().filter(pk__in=ids).order_by("pk").only(*_RESCORE_LEAD_FIELDS))
        activities = defaultdict(list)
        if behaviour_kinds:
            rows = Activity.objects.filter(lead_id__in=ids, kind__in=behaviour_kinds).values_list(
                "lead_id", "kind", "url"
            )
            for lead_id, kind, url in rows:
                activities[lead_id].append(_Behaviour(kind, url))
        stored = defaultdict(dict)
        rows = LeadRuleScore.objects.filter(lead_id__in=ids).values_list("lead_id", "rule_id", "matches", "points")
        for lead_id, rule_id, matches, points in rows:
            stored[lead_id][rule_id] = (matches, points)
        added, gone, altered = [], defaultdict(list), defaultdict(list)
        events, by_score, ready = [], defaultdict(list), []
        for lead in leads:
            new = contributions(lead, activities[lead.pk], rules)
            old = stored[lead.pk]
            if new != old:
                for rule_id in old.keys() - new.keys():
                    gone[rule_id].append(lead.pk)
                for rule_id, value in new.items():
                    before = old.get(rule_id)
                    if before is None:
                        added.append(LeadRuleScore(lead_id=lead.pk, rule_id=rule_id, matches=value[0], points=value[1]))
                    elif before != value:
                        altered[(rule_id, *value)].append(lead.pk)
            score = sum(points for _m, points in new.values())
            if score != lead.score:
                events.append(score_changed_event(lead, score, cause="rescore", now=now))
                by_score[score].append(lead.pk)
            if lead.stage == Stage.LEAD and score >= limit:
                ready.append(lead.pk)
        for rule_id, lead_ids in gone.items():
            LeadRuleScore.objects.filter(rule_id=rule_id, lead_id__in=lead_ids).delete()
        for (rule_id, matches, points), lead_ids in altered.items():
            LeadRuleScore.objects.filter(rule_id=rule_id, lead_id__in=lead_ids).update(matches=matches, points=points)
        if added:
            LeadRuleScore.objects.bulk_create(added, batch_size=5000)
        # The rows are locked, so version + 1 is exactly one more than what was read.
        for score, lead_ids in by_score.items():
            Lead.objects.filter(pk__in=lead_ids).update(score=score, version=F("version") + 1, updated_at=now)
        if events:
            LeadEvent.objects.bulk_create(events, batch_size=5000)
    return len(events), ready


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
