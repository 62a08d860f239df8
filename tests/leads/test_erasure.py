"""Erasure (GDPR Art. 17): the person's data goes, the funnel facts stay, and the
history permits exactly one change — the redaction — enforced by the database."""

import json
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from leads import audit as log
from leads import imports, privacy, transitions
from leads.models import (
    Activity,
    ActivityKind,
    ErasedAddress,
    EventKind,
    ImportJob,
    ImportRowError,
    Lead,
    LeadEvent,
    MqlEpisode,
    Stage,
)
from leads.transitions import IllegalTransition, InvalidInput, NotPermitted

from ..factories import lead_in_stage, make_lead, make_user
from .test_api import action_url, api

NOW = timezone.now()


@pytest.fixture
def worked_lead(rep, marketer, team):
    """A lead with a personal history: details changed, notes on its moves, a rejected episode, activities."""
    lead = lead_in_stage(
        Stage.MQL,
        owner=rep,
        team=team,
        now=NOW - timedelta(days=2),
        name="Jane Roe",
        email="Jane.Roe@Example.com",
        phone="+49 30 1234567",
        company="Roe Consulting",
        job_title="CEO",
        source="webinar",
        campaign="spring",
    )
    lead = transitions.update_lead(
        lead, by=marketer, phone="+49 30 7654321", job_title="Founder", now=NOW - timedelta(days=2)
    )
    lead = transitions.log_activity(
        lead, by=rep, kind="call", note="Jane said call back Tuesday", now=NOW - timedelta(days=1)
    )
    lead = transitions.reject_lead(
        lead, by=rep, reason="no-budget", note="Jane's budget frozen", now=NOW - timedelta(hours=20)
    )
    Activity.objects.create(
        lead=lead,
        kind=ActivityKind.WEBSITE_VISIT,
        url="https://ex.example/pricing?email=jane.roe@example.com",
        external_id="hubspot:4711",
        occurred_at=NOW - timedelta(hours=30),
    )
    return lead


def facts(lead):
    """What reports and routing read of a lead: everything but the person."""
    lead.refresh_from_db()
    keep = (
        "stage",
        "owner_id",
        "team_id",
        "score",
        "source",
        "campaign",
        "priority",
        "country",
        "company_size",
        "mql_episode",
        "created_at",
        "mql_at",
        "first_follow_up_at",
        "accepted_at",
        "qualified_at",
        "rejected_at",
        "rejection_reason_id",
        "sla_policy_id",
        "sla_due_at",
        "sla_breached_at",
    )
    return {field: getattr(lead, field) for field in keep}


def event_facts(lead):
    return list(
        LeadEvent.objects.filter(lead=lead)
        .exclude(kind=EventKind.ERASED)
        .order_by("id")
        .values_list("id", "kind", "at", "actor_id", "from_stage", "to_stage", "owner_id", "episode", "reason_id")
    )


def episode_facts(lead):
    return list(MqlEpisode.objects.filter(lead=lead).values().order_by("number"))


def test_erasing_blanks_the_person_and_keeps_every_funnel_fact(worked_lead, admin):
    before_facts, before_events = facts(worked_lead), event_facts(worked_lead)
    episodes = episode_facts(worked_lead)

    lead = transitions.erase_lead(worked_lead, by=admin, now=NOW)

    lead.refresh_from_db()
    assert (lead.name, lead.phone, lead.company, lead.job_title) == ("Erased person", "", "", "")
    assert lead.email == f"erased-{lead.pk}@erased.invalid"
    assert lead.erased_at == NOW
    assert facts(lead) == before_facts
    assert event_facts(lead) == before_events
    for before, after in zip(episodes, episode_facts(lead), strict=True):
        assert after.pop("rejection_note") == "[erased]"
        before.pop("rejection_note")
        assert after == before


def test_erasing_redacts_every_note_and_personal_value_the_history_holds(worked_lead, admin):
    transitions.erase_lead(worked_lead, by=admin, now=NOW)

    events = LeadEvent.objects.filter(lead=worked_lead).order_by("id")
    text = repr([(e.note, e.payload) for e in events])
    for personal in ("Jane", "Roe", "+49", "CEO", "Founder", "example.com"):
        assert personal not in text
    notes = [e.note for e in events if e.kind in (EventKind.ACTIVITY, EventKind.REJECTED)]
    assert notes == ["[erased]", "[erased]"]
    updated = events.get(kind=EventKind.UPDATED)
    assert updated.payload["fields"] == {"phone": ["[erased]", "[erased]"], "job_title": ["[erased]", "[erased]"]}
    created = events.get(kind=EventKind.CREATED)
    assert created.payload == {"source": "webinar"}


def test_erasing_records_one_erased_event_by_the_admin(worked_lead, admin):
    transitions.erase_lead(worked_lead, by=admin, now=NOW)

    erased = LeadEvent.objects.get(lead=worked_lead, kind=EventKind.ERASED)
    assert (erased.actor, erased.at, erased.note) == (admin, NOW, "")
    assert erased.payload == {"blanked": ["name", "email", "phone", "company", "job_title"]}


def test_erasing_strips_activities_to_their_kind_and_time(worked_lead, admin):
    before = list(Activity.objects.filter(lead=worked_lead).order_by("id").values_list("kind", "occurred_at", "actor"))

    transitions.erase_lead(worked_lead, by=admin, now=NOW)

    activities = Activity.objects.filter(lead=worked_lead).order_by("id")
    assert list(activities.values_list("kind", "occurred_at", "actor")) == before
    assert {(a.url, a.note, a.external_id) for a in activities} == {("", "[erased]", None), ("", "", None)}


def test_erasing_twice_is_refused_and_changes_nothing(worked_lead, admin):
    transitions.erase_lead(worked_lead, by=admin, now=NOW)
    with pytest.raises(IllegalTransition, match="already erased"):
        transitions.erase_lead(worked_lead, by=admin, now=NOW + timedelta(minutes=1))
    assert LeadEvent.objects.filter(lead=worked_lead, kind=EventKind.ERASED).count() == 1


@pytest.mark.parametrize("persona", ["rep", "manager", "marketer"])
def test_only_admins_may_erase(worked_lead, persona, request):
    with pytest.raises(NotPermitted):
        transitions.erase_lead(worked_lead, by=request.getfixturevalue(persona), now=NOW)
    worked_lead.refresh_from_db()
    assert worked_lead.name == "Jane Roe" and worked_lead.erased_at is None


def test_an_erased_address_cannot_be_created_again(worked_lead, admin, marketer):
    transitions.erase_lead(worked_lead, by=admin, now=NOW)

    with pytest.raises(
        InvalidInput, match=rf"jane.roe@example.com belongs to a person whose data was erased on {NOW:%Y-%m-%d}"
    ):
        make_lead(by=marketer, email=" JANE.ROE@example.com ")
    assert not Lead.objects.filter(email__iexact="jane.roe@example.com").exists()


def test_an_erased_address_cannot_be_given_to_another_lead(worked_lead, admin, marketer):
    transitions.erase_lead(worked_lead, by=admin, now=NOW)
    other = make_lead(by=marketer)
    with pytest.raises(InvalidInput, match="erased on"):
        transitions.update_lead(other, by=marketer, email="jane.roe@example.com")
    with pytest.raises(InvalidInput, match="placeholder of an erased lead"):
        transitions.update_lead(other, by=marketer, email="erased-999999@erased.invalid")


def test_only_a_keyed_hash_of_the_erased_address_is_stored(worked_lead, admin):
    transitions.erase_lead(worked_lead, by=admin, now=NOW)

    (row,) = ErasedAddress.objects.all()
    assert re.fullmatch(r"[0-9a-f]{64}", row.digest)
    assert row.digest == privacy.address_digests("jane.roe@example.com")[0]
    assert "jane" not in row.digest


def test_an_erased_lead_cannot_be_given_its_details_back(worked_lead, admin, marketer):
    transitions.erase_lead(worked_lead, by=admin, now=NOW)
    with pytest.raises(IllegalTransition, match="cannot be set again"):
        transitions.update_lead(worked_lead, by=marketer, name="Jane Roe")
    worked_lead.refresh_from_db()
    assert worked_lead.name == "Erased person"


def test_an_erased_lead_takes_no_more_notes(rep, team, admin):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    transitions.erase_lead(lead, by=admin)
    with pytest.raises(InvalidInput, match="no more notes"):
        transitions.accept_lead(lead, by=rep, note="Spoke to Jane")
    accepted = transitions.accept_lead(lead, by=rep)
    assert accepted.stage == Stage.SAL


def test_rotating_the_erasure_key_keeps_old_erasures_when_the_old_key_is_a_fallback(
    worked_lead, admin, marketer, settings
):
    settings.FUNNEL_ERASURE_KEY = "first-key"
    transitions.erase_lead(worked_lead, by=admin, now=NOW)

    settings.FUNNEL_ERASURE_KEY, settings.FUNNEL_ERASURE_KEY_FALLBACKS = "second-key", ["first-key"]
    with pytest.raises(InvalidInput, match="erased on"):
        make_lead(by=marketer, email="jane.roe@example.com")

    settings.FUNNEL_ERASURE_KEY_FALLBACKS = []
    assert make_lead(by=marketer, email="jane.roe@example.com").name


def test_erasure_redacts_bad_import_rows_that_carried_the_address(worked_lead, admin, marketer):
    job = ImportJob.objects.create(original_name="leads.csv", created_by=marketer)
    ImportRowError.objects.create(
        job=job, line=7, reason="duplicate of line 3", raw="Jane Roe;jane.roe@example.com;CEO"
    )
    ImportRowError.objects.create(job=job, line=8, reason="bad country", raw="Max;max@example.org;XX")

    transitions.erase_lead(worked_lead, by=admin, now=NOW)

    assert list(ImportRowError.objects.order_by("line").values_list("raw", flat=True)) == [
        "[erased]",
        "Max;max@example.org;XX",
    ]


# ---------- the database guard, tested with raw SQL ----------


def raw_update(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_database_refuses_a_forged_redaction_of_a_lead_that_was_not_erased(worked_lead):
    with pytest.raises(DatabaseError, match="append-only"):
        raw_update("UPDATE leads_leadevent SET note = leads_redacted_text(note) WHERE lead_id = %s", [worked_lead.pk])
    assert LeadEvent.objects.filter(lead=worked_lead, note="Jane's budget frozen").exists()


@pytest.mark.parametrize(
    "assignment",
    [
        "at = at - interval '1 day'",
        "reason_id = NULL",
        "kind = 'accepted'",
        "owner_id = NULL",
        "episode = episode + 1",
        "to_stage = 'sql'",
    ],
)
def test_database_refuses_changing_a_funnel_fact_of_an_erased_lead(worked_lead, admin, assignment):
    transitions.erase_lead(worked_lead, by=admin, now=NOW)
    before = event_facts(worked_lead)
    with pytest.raises(DatabaseError, match="nothing else"):
        raw_update(
            f"UPDATE leads_leadevent SET {assignment} WHERE lead_id = %s AND kind = 'rejected'", [worked_lead.pk]
        )
    assert event_facts(worked_lead) == before


def test_database_refuses_writing_anything_but_the_redacted_form(worked_lead, admin):
    transitions.erase_lead(worked_lead, by=admin, now=NOW)
    with pytest.raises(DatabaseError, match="redacted form"):
        raw_update("UPDATE leads_leadevent SET note = 'Jane Roe, again' WHERE lead_id = %s", [worked_lead.pk])
    with pytest.raises(DatabaseError, match="redacted form"):
        raw_update(
            'UPDATE leads_leadevent SET payload = \'{"fields": {"name": ["x", "Jane"]}}\' WHERE lead_id = %s '
            "AND kind = 'updated'",
            [worked_lead.pk],
        )
    assert not LeadEvent.objects.filter(lead=worked_lead, note__contains="Jane").exists()


def test_database_still_refuses_deleting_an_erased_leads_history(worked_lead, admin):
    transitions.erase_lead(worked_lead, by=admin, now=NOW)
    with pytest.raises(DatabaseError, match="append-only"):
        raw_update("DELETE FROM leads_leadevent WHERE lead_id = %s", [worked_lead.pk])


def test_database_redaction_covers_exactly_the_personal_fields(db):
    payload = json.dumps({"fields": {field: ["a", "b"] for field in transitions.EDITABLE_FIELDS}})
    with connection.cursor() as cursor:
        cursor.execute("SELECT leads_redacted_payload(%s::jsonb)", [payload])
        (redacted,) = cursor.fetchone()
    redacted = json.loads(redacted) if isinstance(redacted, str) else redacted
    blanked = {field for field, pair in redacted["fields"].items() if pair == ["[erased]", "[erased]"]}
    assert blanked == set(privacy.PERSONAL_FIELDS)
    assert set(privacy.blanked_fields(Lead(pk=1))) == set(privacy.PERSONAL_FIELDS)


# ---------- API and page ----------


def test_admin_erases_through_the_api_and_gets_the_blanked_lead(worked_lead, admin):
    response = api(admin).post(action_url(worked_lead, "erase"), {"version": worked_lead.version}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Erased person" and body["erased_at"] is not None
    assert body["stage"] == "rejected"


def test_api_erase_with_a_stale_version_is_409_and_erases_nothing(worked_lead, admin):
    response = api(admin).post(action_url(worked_lead, "erase"), {"version": worked_lead.version - 1}, format="json")
    assert response.status_code == 409
    worked_lead.refresh_from_db()
    assert worked_lead.erased_at is None


def test_marketer_gets_403_from_the_erase_api(worked_lead, marketer):
    response = api(marketer).post(action_url(worked_lead, "erase"), {}, format="json")
    assert response.status_code == 403


def test_api_create_of_an_erased_address_is_a_clear_400(worked_lead, admin, marketer):
    transitions.erase_lead(worked_lead, by=admin, now=NOW)
    response = api(marketer).post(
        reverse("api:lead-list"), {"name": "J", "email": "jane.roe@example.com"}, format="json"
    )
    assert response.status_code == 400
    assert "was erased on" in response.json()["email"][0]


def test_admin_erases_from_the_lead_page_only_with_the_box_ticked(worked_lead, admin, client):
    client.force_login(admin)
    url = reverse("leads:erase", args=[worked_lead.pk])
    response = client.post(url, {"version": worked_lead.version}, follow=True)
    assert "Tick the box to confirm" in response.content.decode()
    worked_lead.refresh_from_db()
    assert worked_lead.erased_at is None

    response = client.post(url, {"confirm": "yes", "version": worked_lead.version}, follow=True)
    page = response.content.decode()
    assert "Personal data erased" in page
    assert "Jane" not in page and "Edit details" not in page and "Erase personal data…" not in page


def test_lead_page_offers_erasure_to_admins_only(worked_lead, admin, marketer, client):
    client.force_login(marketer)
    assert "Erase personal data" not in client.get(worked_lead.get_absolute_url()).content.decode()
    client.force_login(admin)
    assert "Erase personal data" in client.get(worked_lead.get_absolute_url()).content.decode()


def test_behaviour_for_an_erased_person_is_refused_by_id_and_by_address(worked_lead, admin, marketer):
    transitions.erase_lead(worked_lead, by=admin, now=NOW)
    url = reverse("api:activities")
    by_id = api(marketer).post(url, {"lead": worked_lead.pk, "kind": "webinar"}, format="json")
    assert by_id.status_code == 400 and "was erased on" in by_id.json()["lead"][0]
    by_address = api(marketer).post(url, {"email": "jane.roe@example.com", "kind": "webinar"}, format="json")
    assert by_address.status_code == 400 and "was erased on" in by_address.json()["email"][0]
    assert not Activity.objects.filter(lead=worked_lead, kind="webinar").exists()


def test_import_reports_an_erased_address_as_a_bad_row_and_imports_the_rest(
    worked_lead, admin, marketer, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    transitions.erase_lead(worked_lead, by=admin, now=NOW)
    content = (
        "name,email\n"
        "Jane Roe,Jane.Roe@example.com\n"
        "Max Mustermann,max@example.org\n"
        f"Ghost,erased-{worked_lead.pk}@erased.invalid\n"
    )
    job = imports.start_import(
        SimpleUploadedFile("leads.csv", content.encode(), content_type="text/csv"), by=marketer, queue=False
    )
    job = imports.run_import(job.pk)

    reasons = dict(ImportRowError.objects.filter(job=job).values_list("line", "reason"))
    assert reasons[2].startswith(f"Jane.Roe@example.com belongs to a person whose data was erased on {NOW:%Y-%m-%d}")
    assert "placeholder of an erased lead" in reasons[4]
    assert (job.created_count, job.failed_count) == (1, 2)
    worked_lead.refresh_from_db()
    assert worked_lead.name == "Erased person"


def test_admin_releases_an_erased_address_for_a_person_who_came_back(worked_lead, marketer, client):
    root = make_user("root", role="admin", is_staff=True, is_superuser=True, first_name="Root")
    transitions.erase_lead(worked_lead, by=root, now=NOW)
    client.force_login(root)
    url = reverse("admin:leads_erasedaddress_release")

    unknown = client.post(url, {"address": "nobody@example.com"})
    assert "This address was not erased" in unknown.content.decode()
    response = client.post(url, {"address": "Jane.Roe@example.com"})

    assert response.status_code == 302
    assert not ErasedAddress.objects.exists()
    assert make_lead(by=marketer, email="jane.roe@example.com").email == "jane.roe@example.com"
    released = log.entries(log.events(kind="ErasedAddressEvent")[:1])[0]
    assert (released.action, released.who) == ("released", "Root")
