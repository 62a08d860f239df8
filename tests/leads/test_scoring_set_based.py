"""The rescore's shares computed in SQL equal the Python scorer's, decay, caps and text rules included."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from leads import history, jobs, scoring
from leads.models import (
    Activity,
    EventKind,
    Lead,
    LeadEvent,
    LeadRuleScore,
    MqlEpisode,
    ScoringConfig,
    ScoringRule,
    ScoringRun,
)
from leads.scoring import set_based

from ..factories import make_lead

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
B, D = ScoringRule.Category.BEHAVIOUR, ScoringRule.Category.DEMOGRAPHIC
TITLES = ["CEO", " Co-Founder & CEO ", "VP Sales", "Head of IT", "Student", "", "Operations Director", "cto"]
COUNTRIES = ["DE", "de ", "US", "AT", "", "CH"]
EMAILS = ["{n}@gmail.com", "{n}@Acme.example", "{n}@GMX.de ", "a@b@{n}.example"]
# Every format files bring: numbers, ranges (hyphen, en dash, grouped thousands), open-ended.
SIZES = [None, 0, 10, 60, 999, 5000, 20000, "51-200", "1,001-5,000", "10k+", "5000+", "1 000", "11\u201350", "40-60"]
VISITS = ["https://x.example/pricing", "https://x.example/PRICING/pro", "https://x.example/careers", "", "/blog"]


def matrix():
    rules = [
        {"name": "CEO", "category": D, "field": "job_title", "operator": "contains", "value": " ceo ", "points": 30},
        {
            "name": "VP",
            "category": D,
            "field": "job_title",
            "operator": "contains_any",
            "value": "VP, head of,Director",
            "points": 15,
        },
        {"name": "CTO", "category": D, "field": "job_title", "operator": "equals", "value": "CTO", "points": 25},
        {"name": "DACH", "category": D, "field": "country", "operator": "one_of", "value": "DE, AT, CH", "points": 10},
        {"name": "Free mail", "category": D, "field": "email_domain", "operator": "free_mail", "points": -40},
        {
            "name": "Acme",
            "category": D,
            "field": "email_domain",
            "operator": "equals",
            "value": "acme.example",
            "points": 5,
        },
        {
            "name": "Mid",
            "category": D,
            "field": "company_size",
            "operator": "between",
            "min_value": 50,
            "max_value": 5000,
            "points": 20,
        },
        {"name": "Big", "category": D, "field": "company_size", "operator": "between", "min_value": 10000, "points": 8},
        {
            "name": "At least 200",
            "category": D,
            "field": "company_size",
            "operator": "between",
            "min_value": 200,
            "points": 3,
        },
        {
            "name": "Up to 60",
            "category": D,
            "field": "company_size",
            "operator": "between",
            "max_value": 60,
            "points": -4,
        },
        {"name": "Size 10", "category": D, "field": "company_size", "operator": "contains", "value": "10", "points": 2},
        {
            "name": "Pricing",
            "category": B,
            "activity_kind": "website_visit",
            "url_contains": "/Pricing",
            "points": 20,
            "half_life_days": 14,
            "cap": 45,
        },
        {
            "name": "Careers",
            "category": B,
            "activity_kind": "website_visit",
            "url_contains": "/careers",
            "points": -10,
            "half_life_days": 7,
            "cap": 20,
        },
        {"name": "Any visit", "category": B, "activity_kind": "website_visit", "points": 1, "half_life_days": 3},
        {"name": "Webinar", "category": B, "activity_kind": "webinar", "points": 25, "cap": 50},
        {"name": "Click", "category": B, "activity_kind": "email_click", "points": 5, "half_life_days": 30},
    ]
    return [ScoringRule.objects.create(**fields) for fields in rules]


def varied_leads(rng, count=40):
    ScoringConfig.objects.update(mql_threshold=100_000)
    leads = []
    for n in range(count):
        lead = make_lead(
            email=rng.choice(EMAILS).format(n=f"p{n}"),
            job_title=rng.choice(TITLES),
            country=rng.choice(COUNTRIES),
            company_size=rng.choice(SIZES),
            now=NOW - timedelta(days=90),
        )
        for _ in range(rng.randint(0, 8)):
            kind = rng.choice(["website_visit", "website_visit", "webinar", "email_click", "call"])
            Activity.objects.create(
                lead=lead,
                kind=kind,
                url=rng.choice(VISITS) if kind == "website_visit" else "",
                occurred_at=NOW - timedelta(seconds=rng.randint(-3600, 90 * 86400)),
            )
        leads.append(lead)
    return leads


def test_sql_shares_equal_the_python_scorers(db):
    rules = matrix()
    leads = varied_leads(random.Random(15))
    ids = [lead.pk for lead in leads]
    assert set_based.supports(rules)

    in_sql = set_based.shares_in_sql(ids, rules, now=NOW)

    for lead in leads:
        scoring.score_lead(lead, now=NOW)
    stored = scoring.stored_shares(ids)
    assert {i: dict(in_sql.get(i, {})) for i in ids} == {i: dict(stored.get(i, {})) for i in ids}
    assert any(points not in (0, 20, 40, 45) for shares in stored.values() for _m, points in shares.values())
    # What the Python scorer stored is what the database computes: nothing is stale.
    assert set_based.changed_leads(ids, rules, now=NOW) == []
    share = LeadRuleScore.objects.filter(lead_id=ids[3]).first()
    LeadRuleScore.objects.filter(pk=share.pk).update(points=share.points + 1)
    Lead.objects.filter(pk=ids[7]).update(score=-999)
    assert set_based.changed_leads(ids, rules, now=NOW) == [ids[3], ids[7]]


def test_a_full_rescore_in_sql_changes_nothing_the_python_scorer_wrote(db):
    rules = matrix()
    leads = varied_leads(random.Random(7), count=25)
    for lead in leads:
        scoring.score_lead(lead, now=NOW)
    before = sorted(LeadRuleScore.objects.values_list("lead_id", "rule_id", "matches", "points"))
    scores = dict(Lead.objects.values_list("pk", "score"))

    run = ScoringRun.objects.create(total=len(leads))
    run = jobs.rescore_leads(run.pk, now=NOW, batch_size=10)

    assert (run.done, run.changed) == (25, 0)
    assert sorted(LeadRuleScore.objects.values_list("lead_id", "rule_id", "matches", "points")) == before
    assert dict(Lead.objects.values_list("pk", "score")) == scores
    assert len(rules) == 16


def test_a_run_killed_mid_batch_redoes_that_batch_exactly_once(db, rep, monkeypatch):
    ScoringRule.objects.create(name="Webinar", category=B, activity_kind="webinar", points=25)
    ScoringConfig.objects.update(mql_threshold=100_000)
    leads = [make_lead(country="US", now=NOW - timedelta(days=3)) for _ in range(6)]
    for lead in leads:
        Activity.objects.create(lead=lead, kind="webinar", occurred_at=NOW - timedelta(days=1))
    ScoringConfig.objects.update(mql_threshold=25)
    run = ScoringRun.objects.create(total=6)
    real_promote, calls = jobs.transitions.promote_if_ready, []

    def dies_in_the_second_batch(ids, **kwargs):
        calls.append(ids)
        promoted = real_promote(ids, **kwargs)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the worker is killed: no failure recorded, the run stays "running"
        return promoted

    monkeypatch.setattr(jobs.transitions, "promote_if_ready", dies_in_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        jobs.rescore_leads(run.pk, now=NOW, batch_size=2)
    run.refresh_from_db()
    assert (run.status, run.done, run.promoted) == (ScoringRun.Status.RUNNING, 2, 2)
    # The second batch's scores and promotions went with it.
    assert Lead.objects.filter(stage="mql").count() == 2
    assert Lead.objects.filter(score=25).count() == 2

    monkeypatch.setattr(jobs.transitions, "promote_if_ready", real_promote)
    run = jobs.rescore_leads(run.pk, now=NOW, batch_size=2)

    assert (run.status, run.done, run.changed, run.promoted) == (ScoringRun.Status.DONE, 6, 6, 6)
    for lead in leads:
        events = LeadEvent.objects.filter(lead=lead)
        assert events.filter(kind=EventKind.SCORE_CHANGED).count() == 1
        assert events.filter(kind=EventKind.PROMOTED).count() == 1
    assert MqlEpisode.objects.count() == 6


def test_without_rules_every_stored_share_goes(db):
    rule = ScoringRule.objects.create(name="Webinar", category=B, activity_kind="webinar", points=25)
    lead = make_lead(country="US", now=NOW - timedelta(days=3))
    Activity.objects.create(lead=lead, kind="webinar", occurred_at=NOW - timedelta(days=1))
    scoring.score_lead(lead, now=NOW)
    rule.delete()

    assert set_based.changed_leads([lead.pk], [], now=NOW) == [lead.pk]
    assert scoring.rescore_batch([lead.pk], [], limit=100, now=NOW) == (1, [])
    assert Lead.objects.get(pk=lead.pk).score == 0


def test_the_sql_writer_writes_the_rows_the_python_writer_writes(db, rep, marketer):
    rules = matrix()
    leads = varied_leads(random.Random(21), count=30)
    ids = [lead.pk for lead in leads]
    for lead in leads[:20]:
        scoring.score_lead(lead, now=NOW - timedelta(days=20))  # decayed shares now worth less
    LeadRuleScore.objects.filter(lead_id=ids[2]).delete()
    LeadRuleScore.objects.filter(lead_id=ids[4]).update(matches=99)
    Lead.objects.filter(pk__in=ids[::3]).update(owner=rep, mql_episode=2)
    first_new_event = LeadEvent.objects.order_by("-pk").values_list("pk", flat=True).first()

    def outcome():
        events = LeadEvent.objects.filter(pk__gt=first_new_event).order_by("pk")
        return (
            sorted(LeadRuleScore.objects.values_list("lead_id", "rule_id", "matches", "points")),
            sorted(Lead.objects.values_list("pk", "score", "version", "updated_at")),
            list(events.values_list("lead_id", "kind", "at", "actor", "from_stage", "to_stage", "owner", "episode")),
            list(events.values_list("payload", flat=True)),
        )

    with history.via("slack"):
        with transaction.atomic():
            locked = scoring.lock_for_scoring(ids)
            shares = set_based.shares_in_sql(ids, rules, now=NOW)
            by_python = scoring.write_scores(locked, shares, now=NOW, cause="rescore", actor=marketer)
            python_rows = outcome()
            transaction.set_rollback(True)
        query = set_based.shares_query(ids, rules, now=NOW)
        by_sql = scoring.write_scores(ids, query, now=NOW, cause="rescore", actor=marketer)

    assert by_sql == by_python
    assert len(by_sql) > 20  # the never-scored leads, the tampered ones and decayed shares
    assert outcome() == python_rows
    assert {"from", "to", "cause", "via"} == set(python_rows[3][0]) and python_rows[3][0]["via"] == "slack"
