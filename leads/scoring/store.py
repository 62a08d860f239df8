"""The one writer of scores: a lead's rule shares, its score and the history row of each change.

Every path that changes a score comes through ``write_scores``, set-wise: a
new lead, an edit, new activities, a full rescore, an import batch. Callers
hold the leads' row locks (or have just inserted them) and say what each
lead's shares are now; the writer stores the difference: shares that came,
went or changed, one UPDATE for the new scores, one history row per changed
score. Nothing here changes a stage: ``transitions.promote_if_ready`` promotes
the leads that reached the threshold.
"""

from collections import Counter, defaultdict, namedtuple
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from .. import history
from ..models import Activity, EventKind, Lead, LeadRuleScore, ScoringRule
from ..sql import insert_rows, update_rows
from . import set_based
from .rules import (
    active_rules,
    behaviour_kinds,
    behaviour_match,
    behaviour_rules,
    contributions,
    decaying,
    rule_points,
    score_of,
)

SHARE_FIELDS = ("lead_id", "rule_id", "matches", "points")

# What the scoring rules read of a lead, and what the writer needs to record a change.
SCORED_LEAD_FIELDS = (
    "id",
    "email",
    "job_title",
    "company",
    "company_size",
    "company_size_low",
    "company_size_high",
    "country",
    "source",
    "campaign",
    "stage",
    "score",
    "version",
    "owner_id",
    "mql_episode",
)

# What ``behaviour_share`` reads of an activity, without building a model instance.
_Behaviour = namedtuple("_Behaviour", "kind url occurred_at")


def stored_shares(lead_ids):
    """Return ``{lead_id: {rule_id: (matches, points)}}`` as stored for ``lead_ids``; raises nothing."""
    stored = defaultdict(dict)
    rows = LeadRuleScore.objects.filter(lead_id__in=lead_ids).values_list("lead_id", "rule_id", "matches", "points")
    for lead_id, rule_id, matches, points in rows:
        stored[lead_id][rule_id] = (matches, points)
    return stored


def write_scores(leads, shares, *, now, cause, actor=None, stored=None, inserted=False):
    """Store each lead's new ``shares`` and score and record every score change; returns the ids whose score changed, raises nothing.

    ``leads`` carry their score as stored (0 for a lead just ``inserted`` with its
    new score already in its row), stage, owner and episode; ``shares`` is
    ``{lead_id: {rule_id: (matches, points)}}``, complete for each lead; ``stored``
    the shares as they are (read when None; empty for inserted leads). The lead
    objects get their new score and version. ``shares`` may instead be a
    ``set_based.SharesQuery`` for locked leads (``leads`` are then its ids, not
    read): the database compares and writes in one statement, same rows.
    """
    if isinstance(shares, set_based.SharesQuery):
        return _write_scores_in_sql(shares, now=now, cause=cause, actor=actor)
    if stored is None:
        stored = {} if inserted else stored_shares([lead.pk for lead in leads])
    gone, upserts, events, scores = defaultdict(list), [], [], []
    for lead in leads:
        new, old = shares.get(lead.pk, {}), stored.get(lead.pk, {})
        if new != old:
            for rule_id in old.keys() - new.keys():
                gone[rule_id].append(lead.pk)
            upserts.extend((lead.pk, rule_id, *value) for rule_id, value in new.items() if old.get(rule_id) != value)
        score = score_of(new)
        if score != lead.score:
            payload = {"from": lead.score, "to": score, "cause": cause}
            lead.score = score
            events.append(
                history.event(
                    lead,
                    EventKind.SCORE_CHANGED,
                    by=actor,
                    now=now,
                    from_stage=lead.stage,
                    to_stage=lead.stage,
                    payload=payload,
                )
            )
            scores.append((lead.pk, score, now))
            if not inserted:
                lead.version += 1
    for rule_id, lead_ids in gone.items():
        LeadRuleScore.objects.filter(rule_id=rule_id, lead_id__in=lead_ids).delete()
    if inserted:
        insert_rows(LeadRuleScore, SHARE_FIELDS, upserts)
    elif upserts:
        LeadRuleScore.objects.bulk_create(
            [
                LeadRuleScore(lead_id=lead_id, rule_id=rule_id, matches=m, points=p)
                for lead_id, rule_id, m, p in upserts
            ],
            update_conflicts=True,
            unique_fields=["lead", "rule"],
            update_fields=["matches", "points"],
        )
    if not inserted:
        update_rows(Lead, ("score", "updated_at"), scores, bump_version=True)
    history.write(events)
    return [lead_id for lead_id, _score, _at in scores]


# The SQL path of ``write_scores``: the batch's new shares computed once, then in the same
# statement the shares that went deleted, those that came or changed upserted, the changed
# scores updated (version + 1, as update_rows bumps it) and one history row per changed score
# inserted by ``history.insert_from``. All parts see one snapshot, and they touch disjoint rows.
_WRITE_SQL = """
WITH new AS MATERIALIZED ({new}),
     old AS (SELECT lead_id, rule_id, matches, points FROM leads_leadrulescore WHERE lead_id = ANY(%(ids)s)),
     gone AS (
        DELETE FROM leads_leadrulescore s
         WHERE s.lead_id = ANY(%(ids)s)
           AND NOT EXISTS (SELECT 1 FROM new WHERE new.lead_id = s.lead_id AND new.rule_id = s.rule_id)
     ),
     upserted AS (
        INSERT INTO leads_leadrulescore (lead_id, rule_id, matches, points)
        SELECT new.lead_id, new.rule_id, new.matches, new.points
          FROM new LEFT JOIN old ON old.lead_id = new.lead_id AND old.rule_id = new.rule_id
         WHERE old.lead_id IS NULL OR old.matches <> new.matches OR old.points <> new.points
         ORDER BY new.lead_id, new.rule_id
        ON CONFLICT (lead_id, rule_id) DO UPDATE SET matches = EXCLUDED.matches, points = EXCLUDED.points
     ),
     scores AS (
        SELECT l.id AS lead_id, l.score AS from_score, coalesce(t.total, 0)::integer AS to_score
          FROM leads_lead l LEFT JOIN (SELECT lead_id, sum(points) AS total FROM new GROUP BY lead_id) t
               ON t.lead_id = l.id
         WHERE l.id = ANY(%(ids)s) AND l.score <> coalesce(t.total, 0)
     ),
     scored AS (
        UPDATE leads_lead l SET score = scores.to_score, updated_at = %(now)s, version = l.version + 1
          FROM scores
         WHERE l.id = scores.lead_id AND l.id = ANY(%(ids)s)  -- the batch's ids by index, not a scan of every lead
        RETURNING l.id AS lead_id, l.stage, l.owner_id, l.mql_episode, scores.from_score, scores.to_score
     ),
     history AS ({history})
SELECT lead_id FROM scored ORDER BY lead_id
"""


def _write_scores_in_sql(shares, *, now, cause, actor):
    if not shares.lead_ids:
        return []
    history_sql, history_params = history.insert_from(
        "scored",
        EventKind.SCORE_CHANGED,
        by=actor,
        now=now,
        payload="jsonb_build_object('from', from_score, 'to', to_score, 'cause', %(cause)s::text)",
    )
    params = {**shares.params, **history_params, "now": now, "cause": cause}
    with connection.cursor() as cursor:
        cursor.execute(_WRITE_SQL.format(new=shares.sql, history=history_sql), params)
        return [lead_id for (lead_id,) in cursor.fetchall()]


def recompute(leads, *, now, cause, actor=None, rules=None):
    """Score locked ``leads`` from scratch (fields and every counted activity) and write what changed; returns the ids whose score changed, raises nothing."""
    rules = active_rules() if rules is None else rules
    ids = [lead.pk for lead in leads]
    activities = defaultdict(list)
    kinds = behaviour_kinds(rules)
    if kinds:
        rows = Activity.objects.filter(lead_id__in=ids, kind__in=kinds).values_list(
            "lead_id", "kind", "url", "occurred_at"
        )
        for lead_id, kind, url, occurred_at in rows:
            activities[lead_id].append(_Behaviour(kind, url, occurred_at))
    shares = {lead.pk: contributions(lead, activities[lead.pk], rules, now=now) for lead in leads}
    return write_scores(leads, shares, now=now, cause=cause, actor=actor)


def lock_for_scoring(lead_ids):
    """Lock and return the leads of ``lead_ids`` in id order (so two writers never deadlock), with what scoring reads; raises nothing."""
    return list(Lead.objects.select_for_update().filter(pk__in=lead_ids).order_by("pk").only(*SCORED_LEAD_FIELDS))


def add_activities(activities, *, now):
    """Add newly stored ``activities`` to their leads' scores incrementally; returns ``{lead_id: locked Lead}``, raises nothing.

    Only the behaviour rules these activities match are recounted, under the
    leads' row locks (taken in id order), so two deliveries at once add up.
    While some rule decays, a stored share cannot be added to (it was decayed to
    another moment): each lead is then rescored from all its activities, which
    also brings its other decaying shares up to ``now``.
    """
    if not activities:
        return {}
    everything = active_rules()
    if decaying(everything):
        leads = lock_for_scoring({activity.lead_id for activity in activities})
        recompute(leads, now=now, cause="activity", rules=everything)
        return {lead.pk: lead for lead in leads}
    rules = behaviour_rules(everything)
    hits = defaultdict(Counter)  # lead id -> rule id -> new matches
    for activity in activities:
        for rule in rules:
            if behaviour_match(rule, activity):
                hits[activity.lead_id][rule.pk] += 1
    leads = lock_for_scoring({activity.lead_id for activity in activities})
    if hits:
        stored = stored_shares(list(hits))
        by_id = {rule.pk: rule for rule in rules}
        shares = {}
        for lead_id, counts in hits.items():
            shares[lead_id] = dict(stored.get(lead_id, {}))
            for rule_id, count in counts.items():
                matches = shares[lead_id].get(rule_id, (0, 0))[0] + count
                shares[lead_id][rule_id] = (matches, rule_points(by_id[rule_id], matches))
        hit = [lead for lead in leads if lead.pk in hits]
        write_scores(hit, shares, now=now, cause="activity", stored=stored)
    return {lead.pk: lead for lead in leads}


def score_lead(lead, *, now=None, actor=None, cause="rescore"):
    """Recompute one lead's score from scratch under its row lock and record any change; returns the fresh lead, raises nothing (no promotion: see ``transitions.promote_if_ready``)."""
    with transaction.atomic():
        (locked,) = lock_for_scoring([lead.pk])
        recompute([locked], now=now or timezone.now(), cause=cause, actor=actor)
    return Lead.objects.get(pk=lead.pk)


@dataclass(frozen=True)
class ScoreLine:
    rule: ScoringRule
    matches: int
    points: int  # now: as stored at the lead's last scoring (decayed to then)
    points_then: int  # what the matches gave when they happened (undecayed, capped)

    @property
    def half_life_days(self):
        return self.rule.half_life_days if self.rule.category == ScoringRule.Category.BEHAVIOUR else None

    @property
    def capped(self):
        return self.rule.cap is not None and abs(self.points_then) == self.rule.cap


def explain(lead):
    """Return the rules that make ``lead``'s score, biggest share first, each with its points then and now; raises nothing."""
    rows = LeadRuleScore.objects.filter(lead=lead).select_related("rule").order_by("-points", "rule__name")
    return [
        ScoreLine(rule=row.rule, matches=row.matches, points=row.points, points_then=rule_points(row.rule, row.matches))
        for row in rows
        if row.matches
    ]


def top_reasons(leads, *, limit=3):
    """Set ``lead.top_reasons`` on each of ``leads``: its ``limit`` biggest rule shares, biggest first, in one query for all; raises nothing."""
    rank = Window(RowNumber(), partition_by=[F("lead_id")], order_by=[F("points").desc(), F("rule__name").asc()])
    rows = (
        LeadRuleScore.objects.filter(lead_id__in=[lead.pk for lead in leads], matches__gt=0)
        .select_related("rule")
        .annotate(rank=rank)
        .filter(rank__lte=limit)
        .order_by("lead_id", "rank")
    )
    reasons = defaultdict(list)
    for row in rows:
        reasons[row.lead_id].append(
            ScoreLine(
                rule=row.rule, matches=row.matches, points=row.points, points_then=rule_points(row.rule, row.matches)
            )
        )
    for lead in leads:
        lead.top_reasons = reasons[lead.pk]
    return leads
