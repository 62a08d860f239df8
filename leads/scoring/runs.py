"""Rescore runs: a background rescore of every lead after rules or the threshold changed, batch by batch.

``leads.jobs.rescore_leads`` drives a run (it promotes, which is a transition);
this module holds its parts: queue a run, claim it, score one batch, record
progress.
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .. import background
from ..models import Lead, LeadRuleScore, ScoringRun, Stage
from . import set_based
from .rules import ScoringError
from .store import lock_for_scoring, recompute, write_scores

RESCORE_BATCH = 2000
DECAY_BATCH = 2000


def start_rescore(*, by=None):
    """Queue a rescore of every lead after rules or threshold changed; returns the ScoringRun, raises nothing."""
    run = ScoringRun.objects.create(requested_by=by, total=Lead.objects.filter(erased_at__isnull=True).count())
    background.after_commit("leads.tasks.rescore_leads_task", run.pk)
    return run


def claim_run(run_id, *, now):
    """Mark a queued (or interrupted) run as running and return it, or None when it is done or failed; raises ScoringError for an unknown run."""
    claimed = ScoringRun.objects.filter(
        pk=run_id, status__in=[ScoringRun.Status.QUEUED, ScoringRun.Status.RUNNING]
    ).update(status=ScoringRun.Status.RUNNING, started_at=now)
    run = ScoringRun.objects.filter(pk=run_id).first()
    if run is None:
        raise ScoringError(f"No rescore run {run_id}.")
    return run if claimed else None


def next_batch(run, *, batch_size=RESCORE_BATCH):
    """Return the ids of the next leads the run has not scored yet, in id order; raises nothing."""
    # An erased lead keeps the score it had: its blanked fields and activities would score it anew.
    leads = Lead.objects.filter(pk__gt=run.last_lead_id, erased_at__isnull=True)
    return list(leads.order_by("pk").values_list("pk", flat=True)[:batch_size])


def rescore_batch(ids, rules, *, limit, now, cause="rescore"):
    """Rescore one batch of leads set-wise in its own transaction; returns (how many changed, ids in stage lead now at or over ``limit``), raises nothing.

    The database computes the shares (``set_based``) and ``store.write_scores``
    writes what differs (shares, scores, history rows) in the same statement, so
    no lead is read into Python; a rule only the Python matcher can read sends
    the whole batch through ``store.recompute``.
    """
    with transaction.atomic():
        if not set_based.supports(rules):
            leads = lock_for_scoring(ids)
            changed = recompute(leads, now=now, cause=cause, rules=rules)
            return len(changed), [lead.pk for lead in leads if lead.stage == Stage.LEAD and lead.score >= limit]
        locked = list(Lead.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
        changed = write_scores(locked, set_based.shares_query(locked, rules, now=now), now=now, cause=cause)
        ready = Lead.objects.filter(pk__in=locked, stage=Stage.LEAD, score__gte=limit).order_by("pk")
        return len(changed), list(ready.values_list("pk", flat=True))


def record_progress(run, ids, *, changed, promoted):
    """Count a finished batch on the run, so a restarted run continues after it; raises nothing."""
    ScoringRun.objects.filter(pk=run.pk).update(
        done=F("done") + len(ids),
        changed=F("changed") + changed,
        promoted=F("promoted") + promoted,
        last_lead_id=ids[-1],
    )
    run.last_lead_id = ids[-1]


def finish_run(run, *, error=None):
    """Mark the run done, or failed with ``error``; returns the fresh run, raises nothing."""
    status = ScoringRun.Status.FAILED if error is not None else ScoringRun.Status.DONE
    ScoringRun.objects.filter(pk=run.pk).update(
        status=status, error=str(error or "")[:2000], finished_at=timezone.now()
    )
    run.refresh_from_db()
    return run


def decayed_lead_ids(*, after=0, batch_size=DECAY_BATCH):
    """Return the ids above ``after`` of leads with a share of a decaying rule still worth points, in id order; raises nothing.

    A decayed share only shrinks towards zero, so once it rounds to 0 the lead
    leaves this set until a new activity (which rescores it at once) or a rule
    change (a full rescore). Erased leads keep their score, as in a rescore.
    """
    shares = LeadRuleScore.objects.filter(
        rule__half_life_days__isnull=False, rule__is_active=True, lead_id__gt=after, lead__erased_at__isnull=True
    ).exclude(points=0)
    return list(shares.order_by("lead_id").values_list("lead_id", flat=True).distinct()[:batch_size])
