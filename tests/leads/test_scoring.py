import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from leads import activities, jobs, scoring
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
    Stage,
)

from ..factories import lead_in_stage, make_lead

B = ScoringRule.Category.BEHAVIOUR
D = ScoringRule.Category.DEMOGRAPHIC


def rule(name, points, *, cap=None, **fields):
    category = B if "activity_kind" in fields else D
    return ScoringRule.objects.create(name=name, category=category, points=points, cap=cap, **fields)


def set_threshold(value):
    ScoringConfig.objects.update(mql_threshold=value)


def add_activities(lead, *specs, at=None):
    at = at or datetime(2026, 11, 10, 9, tzinfo=UTC)
    created = [
        Activity.objects.create(lead=lead, kind=kind, url=url, occurred_at=at + timedelta(minutes=i))
        for i, (kind, url) in enumerate(specs)
    ]
    return activities.apply_activities(created, now=at + timedelta(hours=1))[lead.pk]


@pytest.fixture
def matrix(db):
    return {
        "ceo": rule("Title contains CEO", 30, field="job_title", operator="contains", value="ceo"),
        "mid": rule("50-1000 employees", 20, field="company_size", operator="between", min_value=50, max_value=1000),
        "dach": rule("DACH", 10, field="country", operator="one_of", value="DE, AT, CH"),
        "freemail": rule("Free-mail address", -40, field="email_domain", operator="free_mail"),
        "pricing": rule("Visited /pricing", 15, cap=45, activity_kind="website_visit", url_contains="/pricing"),
        "careers": rule("Visited /careers", -10, cap=20, activity_kind="website_visit", url_contains="/careers"),
        "webinar": rule("Attended webinar", 25, activity_kind="webinar"),
    }


def test_demographic_rules_score_a_new_lead_and_explain_it(matrix):
    set_threshold(1000)
    lead = make_lead(job_title="Co-founder & CEO", company_size=120, country="DE")
    assert lead.score == 60
    lines = {line.rule.name: line.points for line in scoring.explain(lead)}
    assert lines == {"Title contains CEO": 30, "50-1000 employees": 20, "DACH": 10}
    event = LeadEvent.objects.get(lead=lead, kind=EventKind.SCORE_CHANGED)
    assert event.payload == {"from": 0, "to": 60, "cause": "created"}


def test_negative_points_and_free_mail(matrix):
    set_threshold(1000)
    lead = make_lead(email="someone@gmail.com", country="US", company_size=5)
    assert lead.score == -40


def test_behaviour_points_add_up_per_activity_and_stop_at_the_cap(matrix):
    set_threshold(1000)
    lead = make_lead(country="US")
    lead = add_activities(lead, *[("website_visit", "https://acme.example/pricing")] * 4)
    assert lead.score == 45  # 4 x 15 = 60, capped at 45
    row = LeadRuleScore.objects.get(lead=lead, rule=matrix["pricing"])
    assert (row.matches, row.points) == (4, 45)
    lead = add_activities(lead, *[("website_visit", "https://acme.example/careers/jobs")] * 3)
    assert lead.score == 45 - 20  # -30 capped at -20


def test_url_condition_is_a_case_insensitive_substring(matrix):
    set_threshold(1000)
    lead = make_lead(country="US")
    lead = add_activities(
        lead, ("website_visit", "https://acme.example/en/PRICING?plan=pro"), ("website_visit", "/blog")
    )
    assert lead.score == 15


def test_incremental_score_equals_a_full_rescore(matrix):
    set_threshold(1000)
    lead = make_lead(job_title="CEO", country="AT")
    lead = add_activities(lead, ("webinar", ""), ("website_visit", "/pricing"), ("website_visit", "/careers"))
    incremental = lead.score
    LeadRuleScore.objects.filter(lead=lead).delete()
    Lead.objects.filter(pk=lead.pk).update(score=0)
    assert scoring.score_lead(lead).score == incremental == 30 + 10 + 25 + 15 - 10


def test_reaching_the_threshold_promotes_and_routes_exactly_once(matrix, rep, other_rep):
    set_threshold(50)
    lead = make_lead(country="US")
    lead = add_activities(lead, ("webinar", ""))
    assert lead.stage == Stage.LEAD
    lead = add_activities(lead, ("webinar", ""))
    assert lead.stage == Stage.MQL
    assert lead.owner in (rep, other_rep)
    lead = add_activities(lead, ("webinar", ""))
    assert lead.score == 75
    assert LeadEvent.objects.filter(lead=lead, kind=EventKind.PROMOTED).count() == 1
    assert MqlEpisode.objects.filter(lead=lead).count() == 1
    promoted = LeadEvent.objects.get(lead=lead, kind=EventKind.PROMOTED)
    assert promoted.actor is None
    assert "reached 50" in promoted.note


def test_a_lead_already_with_sales_keeps_its_stage_when_its_score_drops(matrix, rep):
    set_threshold(20)
    lead = lead_in_stage(Stage.SAL, owner=rep, country="US")
    lead = add_activities(lead, *[("website_visit", "/careers")] * 2)
    assert lead.score == -20
    assert lead.stage == Stage.SAL


def test_rescore_after_rule_change_updates_scores_promotes_and_never_demotes(matrix, rep, other_rep):
    set_threshold(1000)
    cold = make_lead(job_title="CEO", country="US")
    handed_off = lead_in_stage(Stage.SQL, owner=rep, job_title="CEO", country="US")
    scoring.score_lead(handed_off)
    matrix["ceo"].points = 80
    matrix["ceo"].save()
    set_threshold(60)
    run = ScoringRun.objects.create(total=Lead.objects.count())

    run = jobs.rescore_leads(run.pk, batch_size=1)

    assert run.status == ScoringRun.Status.DONE
    assert (run.done, run.total) == (2, 2)
    assert run.changed == 2
    assert run.promoted == 1
    cold.refresh_from_db()
    handed_off.refresh_from_db()
    assert (cold.score, cold.stage) == (80, Stage.MQL)
    assert (handed_off.score, handed_off.stage) == (80, Stage.SQL)


def test_rescore_run_twice_changes_nothing_the_second_time(matrix):
    set_threshold(1000)
    make_lead(job_title="CEO")
    first = jobs.rescore_leads(ScoringRun.objects.create().pk)
    again = jobs.rescore_leads(first.pk)
    assert again.done == first.done
    second = jobs.rescore_leads(ScoringRun.objects.create().pk)
    assert second.changed == 0
    assert LeadEvent.objects.filter(kind=EventKind.SCORE_CHANGED).count() == 1


@pytest.mark.parametrize(("value", "weeks"), [(0, 4), (-5, 4), (100, 0), (100, 53)])
def test_what_if_refuses_out_of_range_input(db, value, weeks):
    with pytest.raises(scoring.ScoringError):
        scoring.what_if(value, weeks=weeks)


@pytest.mark.django_db(transaction=True)
def test_two_activities_arriving_at_once_add_up_and_promote_once(rep, other_rep):
    rule("Attended webinar", 25, activity_kind="webinar")
    set_threshold(50)
    lead = make_lead(country="US")
    webinars = [Activity.objects.create(lead=lead, kind="webinar") for _ in range(2)]
    barrier = threading.Barrier(2)
    errors = []

    def deliver(activity):
        try:
            barrier.wait(timeout=10)
            activities.apply_activities([activity], now=timezone.now())
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(a,)) for a in webinars]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    lead.refresh_from_db()
    assert lead.score == 50
    assert lead.stage == Stage.MQL
    assert LeadEvent.objects.filter(lead=lead, kind=EventKind.PROMOTED).count() == 1
