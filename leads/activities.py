"""Record behaviour activities and apply them to scores: idempotent by external_id, set-wise for a batch.

Stored activities score their leads at once, incrementally: the whole batch adds
its rule matches to ``LeadRuleScore`` in a few set-wise statements under the
leads' row locks, which is what ``leads.scoring.apply_activities`` does for one
lead; a lead that reaches the threshold is promoted (and routed) by
``transitions.promote_to_mql``. ``POST /api/activities/`` (``leads.api.activities``)
is the way in.
"""

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Lower

from . import scoring, transitions
from .models import Activity, Lead, LeadEvent, LeadRuleScore, ScoringRule, Stage

log = logging.getLogger(__name__)

# Attempts at storing a batch while an identical delivery races it (see record_activities).
STORE_ATTEMPTS = 3


class DeliveryRaced(Exception):
    """An identical delivery kept storing the same external ids first; nothing of this one was stored."""


def known_leads(ids, emails):
    """Return (ids, ``{lowercased e-mail: id}``) of the leads among ``ids`` and lowercased ``emails``, in one query; raises nothing."""
    leads = Lead.objects.order_by()
    if emails:
        # Lower(email) is what the lead_email_unique_ci index holds.
        leads = leads.annotate(email_ci=Lower("email")).filter(Q(pk__in=ids) | Q(email_ci__in=emails))
    else:
        leads = leads.filter(pk__in=ids)
    by_id, by_email = set(), {}
    for pk, email in leads.values_list("id", "email"):
        by_id.add(pk)
        by_email[email.lower()] = pk
    return by_id, by_email


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
    leads = apply_activities_bulk(list(new.values()), now=now)
    recorded = []
    for index, item in enumerate(items):
        activity = new.get(index) or stored[item["external_id"]]
        lead = leads.get(activity.lead_id)
        if lead is None:  # an earlier request's activity: its lead came with it (select_related)
            lead = activity.lead
        recorded.append(Recorded(activity_id=activity.pk, created=index in new, lead=lead))
    return recorded


def apply_activities_bulk(activities, *, now):
    """``leads.scoring.apply_activities`` for many leads at once; returns ``{lead_id: fresh Lead}``, raises nothing.

    Locks the leads (in id order, so concurrent batches cannot deadlock), adds
    each lead's new matches to its ``LeadRuleScore`` rows and the points they
    change to its score, records a score event per changed lead, and promotes
    the leads that reached the threshold. A fixed number of statements whatever
    the batch size, plus the promotions.
    """
    if not activities:
        return {}
    rules = [rule for rule in scoring.active_rules() if rule.category == ScoringRule.Category.BEHAVIOUR]
    hits = defaultdict(Counter)  # lead id -> rule id -> new matches
    for activity in activities:
        for rule in rules:
            if scoring.behaviour_match(rule, activity):
                hits[activity.lead_id][rule.pk] += 1
    leads = {
        lead.pk: lead
        for lead in Lead.objects.select_for_update()
        .filter(pk__in={activity.lead_id for activity in activities})
        .only("id", "score", "version", "stage", "owner", "mql_episode")
        .order_by("pk")
    }
    if hits:
        shares = {
            (lead_id, rule_id): (matches, points)
            for lead_id, rule_id, matches, points in LeadRuleScore.objects.filter(
                lead_id__in=list(hits), rule_id__in={rule_id for counts in hits.values() for rule_id in counts}
            ).values_list("lead_id", "rule_id", "matches", "points")
        }
        by_id = {rule.pk: rule for rule in rules}
        rows, events = [], []
        changed = defaultdict(list)  # score change -> ids of the leads it applies to
        for lead_id, counts in hits.items():
            lead = leads[lead_id]
            delta = 0
            for rule_id, count in counts.items():
                had_matches, had_points = shares.get((lead_id, rule_id), (0, 0))
                matches = had_matches + count
                points = scoring.rule_points(by_id[rule_id], matches)
                delta += points - had_points
                rows.append(LeadRuleScore(lead_id=lead_id, rule_id=rule_id, matches=matches, points=points))
            if delta:
                events.append(scoring.score_changed_event(lead, lead.score + delta, cause="activity", now=now))
                lead.score += delta
                lead.version += 1
                changed[delta].append(lead_id)
        LeadRuleScore.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["lead", "rule"], update_fields=["matches", "points"]
        )
        if changed:
            # One UPDATE for all: a CASE per distinct change (a handful), not per lead as
            # bulk_update would write, which costs seconds of Python for 1,000 leads.
            change = Case(*(When(pk__in=ids, then=Value(delta)) for delta, ids in changed.items()), default=Value(0))
            Lead.objects.filter(pk__in=[pk for ids in changed.values() for pk in ids]).update(
                score=F("score") + change, version=F("version") + 1, updated_at=now
            )
            LeadEvent.objects.bulk_create(events)
    limit = scoring.threshold()
    for lead_id, lead in leads.items():
        if lead.stage == Stage.LEAD and lead.score >= limit:
            leads[lead_id] = _promote(lead, limit=limit, now=now)
    return leads


def _promote(lead, *, limit, now):
    try:
        return transitions.promote_to_mql(lead, by=None, now=now, note=f"Score {lead.score} reached {limit}.")
    except transitions.LeadError as exc:
        # As in scoring: the lead stays a lead with its score; the next activity or rescore retries.
        log.warning("lead %s reached the threshold but was not promoted: %s", lead.pk, exc.message)
        return lead
