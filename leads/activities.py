"""Record behaviour activities and apply them to scores: idempotent by external_id, set-wise for a batch.

Stored activities score their leads at once, incrementally: the whole batch adds
its rule matches to ``LeadRuleScore`` in a few set-wise statements under the
leads' row locks (``scoring.add_activities``); a lead that reaches the threshold
is promoted (and routed) by ``transitions.promote_if_ready``.
``POST /api/activities/`` (``leads.api.activities``) is the way in.
"""

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower

from . import scoring, transitions
from .models import Activity, Lead, Stage

log = logging.getLogger(__name__)

# Attempts at storing a batch while an identical delivery races it (see record_activities).
STORE_ATTEMPTS = 3


class DeliveryRaced(Exception):
    """An identical delivery kept storing the same external ids first; nothing of this one was stored."""


def known_leads(ids, emails):
    """Return (ids, ``{lowercased e-mail: id}``, ``{id: erased_at}``) of the leads among ``ids`` and lowercased ``emails``, in one query; raises nothing.

    Erased leads are only in the third: nothing more is recorded about an erased person.
    """
    leads = Lead.objects.order_by()
    if emails:
        # Lower(email) is what the lead_email_unique_ci index holds.
        leads = leads.annotate(email_ci=Lower("email")).filter(Q(pk__in=ids) | Q(email_ci__in=emails))
    else:
        leads = leads.filter(pk__in=ids)
    by_id, by_email, erased = set(), {}, {}
    for pk, email, erased_at in leads.values_list("id", "email", "erased_at"):
        if erased_at is not None:
            erased[pk] = erased_at
            continue
        by_id.add(pk)
        by_email[email.lower()] = pk
    return by_id, by_email, erased


@dataclass(frozen=True)
class Recorded:
    """What became of one item: the activity now holding it, and whether this request stored it."""

    activity_id: int
    created: bool
    lead: Lead


def record_activities(items, *, by, now):
    """Store the items not stored before (by external_id), score their leads and return one Recorded per item; raises DeliveryRaced.

    ``items`` are dicts of lead_id, kind, occurred_at, external_id (or None) and
    optionally url and note, as ``leads.api.activities.parse_activities`` returns them.
    A unique external_id makes a concurrent identical delivery fail at its INSERT
    (it waits for ours, then finds the rows taken); it then starts over, finds
    them stored and reports duplicates. Raises DeliveryRaced if that keeps happening.
    """
    for _attempt in range(STORE_ATTEMPTS):
        try:
            with transaction.atomic():
                return _store(items, by=by, now=now)
        except IntegrityError:
            log.info("activity batch raced an identical delivery; starting over")
    raise DeliveryRaced()


def _store(items, *, by, now):
    external_ids = {item["external_id"] for item in items if item["external_id"]}
    stored = {
        activity.external_id: activity
        for activity in Activity.objects.filter(external_id__in=external_ids)
        .select_related("lead")
        .only("id", "external_id", "lead__id", "lead__score", "lead__stage")
    }
    new = {}  # item index -> unsaved Activity
    for index, item in enumerate(items):
        key = item["external_id"]
        if key is not None and key in stored:
            continue
        activity = Activity(
            lead_id=item["lead_id"],
            kind=item["kind"],
            occurred_at=item["occurred_at"],
            actor_id=by.pk,
            url=item.get("url", ""),
            note=item.get("note", ""),
            external_id=key,
            created_at=now,
        )
        new[index] = activity
        if key is not None:
            stored[key] = activity  # a repeat later in this batch is a duplicate of this one
    # Inserted in external_id order, so two overlapping batches meet their first shared id in
    # the same order and one waits for the other instead of deadlocking.
    Activity.objects.bulk_create(sorted(new.values(), key=lambda a: (a.external_id is None, a.external_id or "")))
    leads = apply_activities(list(new.values()), now=now)
    recorded = []
    for index, item in enumerate(items):
        activity = new.get(index) or stored[item["external_id"]]
        lead = leads.get(activity.lead_id)
        if lead is None:  # an earlier request's activity: its lead came with it (select_related)
            lead = activity.lead
        recorded.append(Recorded(activity_id=activity.pk, created=index in new, lead=lead))
    return recorded


def apply_activities(activities, *, now):
    """Score newly stored ``activities`` into their leads (incrementally, set-wise) and promote the leads that reached the threshold; returns ``{lead_id: fresh Lead}``, raises nothing.

    A fixed number of statements whatever the batch size, plus the promotions.
    """
    if not activities:
        return {}
    # No savepoint inside the caller's transaction: nothing here is retried on its own.
    with transaction.atomic(savepoint=False):
        leads = scoring.add_activities(activities, now=now)
        limit = scoring.threshold()
        ready = [lead.pk for lead in leads.values() if lead.stage == Stage.LEAD and lead.score >= limit]
        for promoted in transitions.promote_if_ready(ready, now=now, limit=limit):
            leads[promoted.pk] = promoted
    return leads
