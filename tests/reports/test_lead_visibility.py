"""A rep's reports count the rep's own MQL episodes, but lead details follow visible_leads: a lead
recycled, re-promoted and now another rep's keeps its row and loses its name, company, e-mail and link."""

import csv
import io
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from leads import transitions
from leads.models import Lead, MqlEpisode

from ..factories import make_lead
from .conftest import AS_OF, NOVEMBER

DRILL_DOWN = {**NOVEMBER, "as_of": AS_OF.isoformat(), "metric": "rejection_reasons", "bucket": "rejected"}


@pytest.fixture
def moved_on(rep, other_rep, marketer, team):
    """Rita's rejected MQL of November, recycled, promoted again in December and now Oscar's."""
    start = AS_OF - timedelta(days=30)
    lead = make_lead(team=team, name="Jane Cooper", company="Northwind", email="jane@northwind.example", now=start)
    lead = transitions.promote_to_mql(lead, by=marketer, team=team, now=start + timedelta(minutes=1))
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    MqlEpisode.objects.filter(lead=lead).update(owner=rep)
    lead.refresh_from_db()
    lead = transitions.reject_lead(lead, by=rep, reason="no-budget", note="Call in Q3", now=start + timedelta(hours=1))
    lead = transitions.recycle_lead(lead, by=marketer, now=start + timedelta(days=20))
    lead = transitions.promote_to_mql(lead, by=marketer, team=team, now=start + timedelta(days=25))
    Lead.objects.filter(pk=lead.pk).update(owner=other_rep)
    return lead


def test_a_reps_drill_down_keeps_the_row_of_a_lead_now_another_reps_but_not_its_details(client, rep, moved_on):
    client.force_login(rep)

    page = client.get("/reports/leads/", DRILL_DOWN).content.decode()

    assert "A lead you no longer see" in page
    assert "Jane Cooper" not in page and "Northwind" not in page
    assert f'href="/leads/{moved_on.pk}/"' not in page


def test_a_reps_csv_export_has_no_e_mail_of_a_lead_now_another_reps(client, rep, moved_on):
    client.force_login(rep)

    response = client.get("/reports/leads/", {**DRILL_DOWN, "format": "csv"})

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["lead_id"] for row in rows] == [str(moved_on.pk)]
    assert (rows[0]["name"], rows[0]["company"], rows[0]["email"]) == ("", "", "")
    assert rows[0]["rejection_reason"] == "no-budget"


def test_the_reps_api_drill_down_hides_the_details_too(rep, moved_on):
    client = APIClient()
    client.force_authenticate(rep)

    row = client.get("/api/reports/leads/", DRILL_DOWN).json()["results"][0]

    assert row["lead"] == moved_on.pk
    assert (row["lead_visible"], row["lead_url"], row["name"], row["company"]) == (False, None, "", "")


def test_the_rejection_review_shows_the_reps_note_but_not_the_lead_it_no_longer_sees(client, rep, moved_on):
    client.force_login(rep)

    page = client.get("/reports/rejection-reasons/", {**NOVEMBER, "as_of": AS_OF.isoformat()}).content.decode()

    assert "Call in Q3" in page
    assert "A lead you no longer see" in page
    assert "Jane Cooper" not in page


def test_the_teams_manager_still_sees_the_lead_in_the_lists(client, manager, moved_on):
    client.force_login(manager)

    page = client.get("/reports/leads/", DRILL_DOWN).content.decode()

    assert "Jane Cooper" in page
    assert f'href="/leads/{moved_on.pk}/"' in page
