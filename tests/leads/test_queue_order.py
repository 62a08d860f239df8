"""The rep's queue: MQLs still answerable in time first, breached ones after (or first, on request);
each row says why the lead is an MQL, how old it is and how to reach it."""

import re
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, ScoringRule, Stage

from ..factories import lead_in_stage

QUEUE = reverse("leads:queue")


def mql(rep, team, name, *, due_in_minutes, **fields):
    # lead_in_stage promotes 20 minutes before ``now`` under the default 60-minute policy.
    now = timezone.now() + timedelta(minutes=due_in_minutes - 40)
    return lead_in_stage(Stage.MQL, owner=rep, team=team, now=now, name=name, **fields)


def row_names(html):
    return re.findall(r'class="lead-name" id="lead-\d+-name" href="[^"]+">([^<]+)</a>', html)


@pytest.fixture
def mixed_queue(rep, team):
    mql(rep, team, "Breached long ago", due_in_minutes=-60 * 24 * 83)
    mql(rep, team, "Due in 30", due_in_minutes=30)
    mql(rep, team, "Breached just now", due_in_minutes=-5)
    mql(rep, team, "Due in 10", due_in_minutes=10)


def test_queue_puts_answerable_mqls_first_then_the_breached(client, rep, mixed_queue):
    client.force_login(rep)

    html = client.get(QUEUE).content.decode()

    assert row_names(html) == ["Due in 10", "Due in 30", "Breached just now", "Breached long ago"]
    assert "Show breached first" in html


def test_queue_toggle_shows_the_breached_first(client, rep, mixed_queue):
    client.force_login(rep)

    html = client.get(QUEUE, {"breached": "first"}).content.decode()

    assert row_names(html) == ["Breached just now", "Breached long ago", "Due in 10", "Due in 30"]
    assert "Show in-time first" in html


def test_a_flagged_breach_stays_breached_once_answered(client, rep, team):
    mql(rep, team, "In time", due_in_minutes=20)
    answered_in_time = mql(rep, team, "Answered in time", due_in_minutes=-10)
    flagged = mql(rep, team, "Flagged, answered late", due_in_minutes=-5)
    Lead.objects.filter(pk=answered_in_time.pk).update(first_follow_up_at=timezone.now() - timedelta(minutes=15))
    Lead.objects.filter(pk=flagged.pk).update(sla_breached_at=timezone.now(), first_follow_up_at=timezone.now())
    client.force_login(rep)

    assert row_names(client.get(QUEUE).content.decode()) == ["Answered in time", "In time", "Flagged, answered late"]


def test_the_database_refuses_a_breach_flag_before_the_due_time(rep, team):
    lead = mql(rep, team, "Not due yet", due_in_minutes=30)

    with pytest.raises(IntegrityError, match="lead_breach_flagged_after_due"), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(sla_breached_at=timezone.now())
    with pytest.raises(IntegrityError, match="lead_breach_flagged_after_due"), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(sla_breached_at=timezone.now(), sla_due_at=None)


def test_queue_row_shows_top_reasons_with_points_age_and_contact(client, rep, team):
    for name, points, value in (("Title contains CEO", 30, "ceo"), ("Title contains Chief", 20, "chief")):
        ScoringRule.objects.create(
            name=name, category="demographic", points=points, field="job_title", operator="contains", value=value
        )
    ScoringRule.objects.create(
        name="Germany", category="demographic", points=5, field="country", operator="one_of", value="DE"
    )
    ScoringRule.objects.create(
        name="Austria", category="demographic", points=3, field="country", operator="one_of", value="AT"
    )
    mql(
        rep,
        team,
        "Jane Cooper",
        due_in_minutes=30,
        job_title="Chief Executive (CEO)",
        country="DE",
        phone="+49 30 1234",
    )
    client.force_login(rep)

    html = client.get(QUEUE).content.decode()

    reasons = re.findall(r'<span class="reason">([^<]+) <span class="points">\+(\d+)</span>', html)
    assert reasons == [("Title contains CEO", "30"), ("Title contains Chief", "20"), ("Germany", "5")]
    assert 'href="tel:+49 30 1234"' in html
    assert "mailto:" in html
    assert re.search(r"MQL for 30.minutes", html)  # promoted 20 minutes before a ``now`` 10 minutes ago
