from io import StringIO

from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from leads.models import Lead, LeadEvent, Stage


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
