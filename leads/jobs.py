"""Background jobs that change leads: they sit above ``transitions`` and call its verbs.

The periodic ones (beat) are safe to run twice or in parallel: each change goes
through a transition whose conditional update on the lead's version makes a
second run a no-op for that lead. ``tasks`` wraps each for Celery; the SLA
sweep and the outbox, which change no stage or owner, live in ``sla`` and
``notifications``.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from . import routing, scoring, transitions
from .models import Lead, OutOfOffice, ScoringRun, Stage

log = logging.getLogger(__name__)


def reassign_breached_leads(*, now=None):
    """Give breached MQLs whose policy says so to the next eligible rep of their team; returns how many moved, raises nothing."""
    now = now or timezone.now()
    candidates = (
        Lead.objects.filter(
            stage=Stage.MQL,
            first_follow_up_at__isnull=True,
            sla_breached_at__isnull=False,
            sla_policy__reassign_on_breach=True,
            team__isnull=False,
        )
        .select_related("sla_policy", "team")
        .order_by("sla_breached_at", "id")
    )
    moved = 0
    for lead in candidates.iterator():
        if lead.sla_breached_at + timedelta(minutes=lead.sla_policy.reassign_after_minutes) > now:
            continue
        decision = routing.route(lead.team, now=now, exclude=lead.owner, account_id=lead.account_id)
        if decision.owner is None:
            continue
        try:
            transitions.reassign_lead(
                lead,
                by=None,
                to=decision.owner,
                note=gettext_noop("Reassigned after an SLA breach."),
                now=now,
                decision=decision,
            )
        except transitions.LeadError as exc:
            log.info("lead %s not reassigned after breach: %s", lead.pk, exc.message)
            continue
        moved += 1
    return moved


def route_waiting_mqls(*, now=None, limit=500):
    """Give unassigned MQLs (oldest first) to reps who have capacity again; returns how many were routed, raises nothing."""
    now = now or timezone.now()
    waiting = (
        Lead.objects.filter(stage=Stage.MQL, owner__isnull=True, team__isnull=False)
        .select_related("team")
        .order_by("mql_at", "id")[:limit]
    )
    routed = 0
    full_teams = set()
    for lead in waiting:
        if lead.team_id in full_teams:
            continue
        decision = routing.route(lead.team, now=now, account_id=lead.account_id)
        if decision.owner is None:
            full_teams.add(lead.team_id)
            continue
        try:
            transitions.reassign_lead(
                lead,
                by=None,
                to=decision.owner,
                note=gettext_noop("Routed once a rep had capacity."),
                now=now,
                decision=decision,
            )
        except transitions.LeadError:
            continue
        routed += 1
    return routed


def hand_on_leads(user, *, by, now=None, stages=(Stage.MQL, Stage.SAL)):
    """Give each open lead of ``user`` in ``stages`` (deactivated: MQLs and SALs; away: MQLs) to the rep routing picks in its team, with the decision recorded; returns (handed on, left with nobody to take them), raises nothing."""
    now = now or timezone.now()
    leads = Lead.objects.filter(owner=user, stage__in=list(stages), team__isnull=False).select_related("team")
    moved = left = 0
    for lead in leads.order_by("id"):
        decision = routing.route(lead.team, now=now, exclude=user, account_id=lead.account_id)
        if decision.owner is None:
            left += 1
            continue
        try:
            transitions.reassign_lead(
                lead, by=by, to=decision.owner, note=f"Handed on from {user}.", now=now, decision=decision
            )
        except transitions.LeadError as exc:
            log.info("lead %s not handed on from %s: %s", lead.pk, user.pk, exc.message)
            left += 1
            continue
        moved += 1
    return moved, left


def hand_on_out_of_office(*, now=None):
    """For each out-of-office period that asked for it and has started, give the rep's open MQLs to the team, once; returns how many MQLs moved, raises nothing.

    Each period is claimed by a conditional UPDATE before its MQLs move, so two runs
    at once hand on each period's MQLs once.
    """
    now = now or timezone.now()
    due = OutOfOffice.objects.filter(hand_on=True, handed_on_at__isnull=True, starts_at__lte=now, ends_at__gt=now)
    moved = 0
    for period in due.select_related("user").order_by("starts_at", "id"):
        if OutOfOffice.objects.filter(pk=period.pk, handed_on_at__isnull=True).update(handed_on_at=now) != 1:
            continue  # another run claimed it
        handed, _left = hand_on_leads(period.user, by=None, now=now, stages=(Stage.MQL,))
        moved += handed
    return moved


def rescore_leads(run_id, *, now=None, batch_size=scoring.RESCORE_BATCH):
    """Rescore every lead in batches, recording progress on the run, and promote the leads that now reach the threshold; returns the run, raises ScoringError for an unknown run.

    Safe to run twice: a run continues from its last finished batch, and each
    batch writes only what changed, so an unchanged lead writes nothing. Each
    batch (scores, promotions, progress) is one transaction. Nothing is ever
    demoted.
    """
    now = now or timezone.now()
    run = scoring.claim_run(run_id, now=now)
    if run is None:  # done or failed already
        return ScoringRun.objects.get(pk=run_id)
    rules = scoring.active_rules()
    limit = scoring.threshold()
    try:
        while ids := scoring.next_batch(run, batch_size=batch_size):
            # One transaction per batch: its scores, its promotions and the run's progress commit
            # together, so a run that dies mid-batch redoes exactly that batch.
            with transaction.atomic():
                changed, ready = scoring.rescore_batch(ids, rules, limit=limit, now=now)
                promoted = transitions.promote_if_ready(ready, now=now, limit=limit)
                scoring.record_progress(run, ids, changed=changed, promoted=len(promoted))
    except Exception as exc:
        scoring.finish_run(run, error=exc)
        raise
    return scoring.finish_run(run)


@dataclass(frozen=True)
class DecayRefresh:
    leads: int  # leads with a decaying share worth points, rescored
    changed: int  # of them, leads whose score changed
    promoted: int  # leads a decayed negative share lifted to the threshold


def refresh_decayed_scores(*, now=None, batch_size=scoring.DECAY_BATCH):
    """Bring every decaying share up to ``now``, batch by batch (one transaction each), and promote leads that reach the threshold; returns a DecayRefresh, raises nothing.

    The nightly job. Only leads with a decaying share still worth points are
    read; each batch rescores them under their row locks and writes only what
    changed, so running it twice, or two copies at once, changes nothing more.
    A lead that sales already has keeps its stage whatever its score; a lead
    in stage ``lead`` drifts below the threshold and stays a lead.
    """
    now = now or timezone.now()
    rules = scoring.active_rules()
    if not scoring.decaying(rules):
        return DecayRefresh(leads=0, changed=0, promoted=0)
    limit = scoring.threshold()
    leads = changed = promoted = 0
    after = 0
    while ids := scoring.decayed_lead_ids(after=after, batch_size=batch_size):
        with transaction.atomic():
            batch_changed, ready = scoring.rescore_batch(ids, rules, limit=limit, now=now, cause="decay")
            promoted += len(transitions.promote_if_ready(ready, now=now, limit=limit))
        leads, changed, after = leads + len(ids), changed + batch_changed, ids[-1]
        log.info("decay refresh: %s leads read, %s changed, up to lead %s", leads, changed, after)
    return DecayRefresh(leads=leads, changed=changed, promoted=promoted)
