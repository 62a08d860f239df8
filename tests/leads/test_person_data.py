"""A person's data: the JSON export (GDPR Art. 15/20) and opt-outs recorded with their source and time."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads import transitions
from leads.models import EventKind, LeadEvent, OptOut, OutboxMessage, Stage
from leads.transitions import IllegalTransition, InvalidInput, NotPermitted

from ..factories import lead_in_stage, make_lead
from .test_api import LIST_URL, action_url, api, ids

NOW = timezone.now()


@pytest.fixture
def jane(rep, team):
    lead = lead_in_stage(
        Stage.MQL, owner=rep, team=team, now=NOW - timedelta(days=1), name="Jane Roe", email="jane@roe.example"
    )
    return transitions.log_activity(lead, by=rep, kind="call", note="Jane wants a quote", now=NOW - timedelta(hours=2))


def export_url(lead):
    return reverse("api:lead-export", args=[lead.pk])


# ---------- export ----------


def test_export_holds_everything_about_the_person(jane, admin, rep):
    transitions.opt_out_lead(jane, by=rep, source="conversation", now=NOW)

    response = api(admin).get(export_url(jane))

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="funnel-lead-{jane.pk}-personal-data.json"'
    body = response.json()
    assert body["format"] == "funnel-person-export/1"
    assert (body["lead"]["name"], body["lead"]["email"], body["lead"]["id"]) == (
        "Jane Roe",
        "jane@roe.example",
        jane.pk,
    )
    assert [a["note"] for a in body["activities"]] == ["Jane wants a quote"]
    kinds = [e["kind"] for e in body["history"]]
    assert kinds == ["created", "promoted", "activity", "opted_out"]
    assert body["history"][2]["note"] == "Jane wants a quote"
    assert [e["number"] for e in body["mql_episodes"]] == [1]
    assert body["opt_outs"] == [
        {
            "at": NOW.isoformat(),
            "source": "conversation",
            "source_label": "Said so in a conversation with sales",
            "by": "Rita Rep",
        }
    ]
    assert [m["kind"] for m in body["emails_about_them"]] == [OutboxMessage.Kind.ASSIGNED]


def test_export_includes_the_digests_that_listed_the_person(jane, admin, rep):
    OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.SLA_BREACH_OWNER,
        recipient=rep,
        to_email=rep.email,
        dedupe_key="d1",
        context={"lead_ids": [jane.pk + 1000, jane.pk]},
    )
    body = api(admin).get(export_url(jane)).json()
    assert OutboxMessage.Kind.SLA_BREACH_OWNER in [m["kind"] for m in body["emails_about_them"]]


@pytest.mark.parametrize("persona", ["rep", "manager", "marketer"])
def test_only_admins_may_export_a_person(jane, persona, request):
    response = api(request.getfixturevalue(persona)).get(export_url(jane))
    assert response.status_code == 403
    assert "Only admins" in response.json()["detail"]


def test_export_of_an_unknown_lead_is_404(admin, db):
    assert api(admin).get(reverse("api:lead-export", args=[999999])).status_code == 404


def test_export_query_count_does_not_grow_with_the_history(jane, admin, rep, django_assert_num_queries):
    for hour in range(5):
        transitions.log_activity(jane, by=rep, kind="email", now=NOW - timedelta(minutes=50 - hour))
    client = api(admin)
    # token auth with the roles, the lead, opt-outs, activities, history, shares, episodes, outbox
    with django_assert_num_queries(8):
        assert client.get(export_url(jane)).status_code == 200


def test_admin_downloads_the_export_from_the_lead_page(jane, admin, client):
    client.force_login(admin)
    page = client.get(jane.get_absolute_url()).content.decode()
    assert reverse("leads:export", args=[jane.pk]) in page
    response = client.get(reverse("leads:export", args=[jane.pk]))
    assert response.status_code == 200 and response.json()["lead"]["name"] == "Jane Roe"
    client.force_login(jane.owner)
    assert client.get(reverse("leads:export", args=[jane.pk])).status_code == 403


# ---------- opt-out ----------


def test_opt_out_is_recorded_with_its_source_time_and_who(jane, marketer):
    lead = transitions.opt_out_lead(jane, by=marketer, source="unsubscribe_link", now=NOW)

    assert lead.opted_out_at == NOW
    (opt_out,) = OptOut.objects.filter(lead=jane)
    assert (opt_out.at, opt_out.source, opt_out.recorded_by) == (NOW, "unsubscribe_link", marketer)
    event = LeadEvent.objects.get(lead=jane, kind=EventKind.OPTED_OUT)
    assert (event.actor, event.at, event.payload["source"]) == (marketer, NOW, "unsubscribe_link")


def test_opting_out_keeps_the_lead_in_the_funnel(jane, marketer):
    before = (jane.stage, jane.owner_id, jane.score, jane.sla_due_at)
    lead = transitions.opt_out_lead(jane, by=marketer, source="email_request", now=NOW)
    assert (lead.stage, lead.owner_id, lead.score, lead.sla_due_at) == before


def test_opting_out_twice_is_refused(jane, marketer):
    transitions.opt_out_lead(jane, by=marketer, source="unsubscribe_link", now=NOW)
    with pytest.raises(IllegalTransition, match="already opted out"):
        transitions.opt_out_lead(jane, by=marketer, source="dpo_request", now=NOW)
    assert OptOut.objects.filter(lead=jane).count() == 1


def test_opt_out_needs_a_known_source(jane, marketer):
    with pytest.raises(InvalidInput, match="Unknown opt-out source"):
        transitions.opt_out_lead(jane, by=marketer, source="twitter")


def test_the_owner_records_an_opt_out_heard_on_a_call_but_another_rep_may_not(jane, rep, other_rep):
    with pytest.raises(NotPermitted):
        transitions.opt_out_lead(jane, by=other_rep, source="conversation")
    assert transitions.opt_out_lead(jane, by=rep, source="conversation").opted_out_at is not None


def test_integration_records_an_opt_out_through_the_api(jane, marketer):
    response = api(marketer).post(action_url(jane, "opt-out"), {"source": "integration"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["opted_out_at"] is not None


def test_api_opt_out_with_an_unknown_source_is_400(jane, marketer):
    response = api(marketer).post(action_url(jane, "opt-out"), {"source": "pigeon"}, format="json")
    assert response.status_code == 400 and "source" in response.json()
    jane.refresh_from_db()
    assert jane.opted_out_at is None


def test_leads_can_be_filtered_by_opt_out(jane, marketer):
    other = make_lead()
    transitions.opt_out_lead(jane, by=marketer, source="unsubscribe_link")
    assert ids(api(marketer).get(LIST_URL, {"opted_out": "true"})) == [jane.pk]
    assert jane.pk not in ids(api(marketer).get(LIST_URL, {"opted_out": "false"}))
    assert other.pk in ids(api(marketer).get(LIST_URL, {"opted_out": "false"}))


def test_lead_page_shows_the_opt_out_and_records_one(jane, marketer, client):
    client.force_login(marketer)
    page = client.get(jane.get_absolute_url()).content.decode()
    assert "Not opted out" in page and "Record opt-out" in page

    response = client.post(reverse("leads:opt_out", args=[jane.pk]), {"source": "dpo_request"}, follow=True)

    page = response.content.decode()
    assert "Recorded the opt-out of Jane Roe." in page
    assert "Opted out" in page and "Request to the data protection officer" in page
    assert "Record opt-out" not in page


def test_opt_out_records_survive_erasure(jane, marketer, admin):
    transitions.opt_out_lead(jane, by=marketer, source="unsubscribe_link", now=NOW)
    transitions.erase_lead(jane, by=admin, now=NOW + timedelta(minutes=1))
    jane.refresh_from_db()
    assert jane.opted_out_at == NOW
    assert OptOut.objects.filter(lead=jane, source="unsubscribe_link").exists()
