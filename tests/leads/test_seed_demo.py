from io import StringIO

from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from leads.models import Lead, LeadEvent, LeadRuleScore, ScoringRule, ScoringRun, Stage


def run_seed(**options):
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def test_seed_demo_is_idempotent_and_prints_one_login_per_role(db):
    first = run_seed(leads=60)
    counts = (Lead.objects.count(), LeadEvent.objects.count())
    second = run_seed(leads=60)

    assert (Lead.objects.count(), LeadEvent.objects.count()) == counts
    assert "already present" in second
    for role in ("rep", "manager", "marketer", "admin"):
        assert f"  {role:<9} {role:<9}" in first
    # django-axes (the sign-in lockout) needs the request a sign-in comes with.
    assert authenticate(RequestFactory().post("/login/"), username="rep", password="funnel-demo") is not None


def test_seed_demo_covers_every_stage_with_consistent_history(db):
    run_seed(leads=150)
    stages = set(Lead.objects.values_list("stage", flat=True))
    assert stages == {Stage.LEAD, Stage.MQL, Stage.SAL, Stage.SQL, Stage.REJECTED}
    # Every lead's latest stage change in history matches its current stage.
    for lead in Lead.objects.all():
        last_move = LeadEvent.objects.filter(lead=lead).exclude(to_stage="").order_by("at", "id").last()
        assert last_move.to_stage == lead.stage, lead
    # The demo rep has a queue to triage.
    assert Lead.objects.filter(owner__username="rep", stage=Stage.MQL).exists()


def test_demo_vp_rule_matches_vp_head_of_and_director_titles(db):
    run_seed(leads=80)
    rule = ScoringRule.objects.get(name="VP, Head of or Director")
    scored = set(LeadRuleScore.objects.filter(rule=rule).values_list("lead__job_title", flat=True))
    assert scored == {"VP Sales", "Head of Marketing", "Head of Revenue Operations", "Operations Director"}


def test_demo_rejection_reasons_fit_the_person(db):
    run_seed(leads=150)
    rejections = LeadEvent.objects.filter(reason__isnull=False).select_related("lead", "reason")
    assert rejections.count() > 10
    for event in rejections:
        lead, code = event.lead, event.reason.code
        if lead.job_title == "Student":
            assert code == "student-job-seeker", lead
        if lead.job_title in ("CEO", "CTO", "CFO") or "Head of" in lead.job_title:
            assert code not in ("not-decision-maker", "student-job-seeker"), lead
        if code == "missing-phone":
            assert lead.phone == "", lead
        if code == "company-too-small":
            assert lead.company_size < 50, lead


def test_fresh_demo_has_no_scoring_changes_waiting_to_be_applied(client, db):
    run_seed(leads=40)
    client.force_login(User.objects.get(username="marketer"))
    page = client.get(reverse("scoring:matrix")).content.decode()
    assert "Changes not applied" not in page
    assert ScoringRun.objects.get().status == ScoringRun.Status.DONE
    assert "30-day half-life" in page
