"""Changing a lead's details: one writer (``transitions.update_lead`` and its set-wise twin)
behind the API's PATCH, the edit page and the import, with one ``updated`` event each."""

import io
import re
from pathlib import Path

import pytest
from django.urls import reverse

from leads import imports, transitions
from leads.models import EventKind, Lead, LeadEvent, ScoringConfig, ScoringRule, Stage

from ..factories import lead_in_stage, make_lead, make_user
from .test_api import api, detail_url

LEADS_DIR = Path(__file__).resolve().parents[2] / "leads"


def updated_events(lead):
    return list(LeadEvent.objects.filter(lead=lead, kind=EventKind.UPDATED).order_by("id"))


@pytest.fixture
def ceo_rule(db):
    return ScoringRule.objects.create(
        name="CEO", category="demographic", field="job_title", operator="contains", value="ceo", points=60
    )


# The verb ----------------------------------------------------------------------


def test_update_records_one_event_with_before_and_after_and_bumps_the_version(marketer):
    lead = make_lead(job_title="CTO", company_size=40, phone="")
    version = lead.version

    lead = transitions.update_lead(lead, by=marketer, job_title="CEO", company_size=400, phone="+49 30 1234567")

    (event,) = updated_events(lead)
    assert event.actor == marketer
    assert event.payload == {
        "fields": {
            "job_title": ["CTO", "CEO"],
            "company_size": ["40", "400"],
            "company_size_low": [40, 400],
            "company_size_high": [40, 400],
            "phone": ["", "+49 30 1234567"],
        }
    }
    assert (lead.job_title, lead.company_size, lead.phone) == ("CEO", "400", "+49 30 1234567")
    assert lead.version == version + 1


def test_update_that_changes_nothing_records_nothing(marketer):
    lead = make_lead(job_title="CTO")
    version = lead.version

    lead = transitions.update_lead(lead, by=marketer, job_title="CTO")

    assert updated_events(lead) == []
    assert lead.version == version


def test_update_rescores_and_promotes_a_lead_that_reaches_the_threshold(marketer, rep, ceo_rule):
    ScoringConfig.objects.update(mql_threshold=50)
    lead = make_lead(job_title="Intern")
    assert (lead.score, lead.stage) == (0, Stage.LEAD)

    lead = transitions.update_lead(lead, by=marketer, job_title="CEO")

    assert (lead.score, lead.stage, lead.owner) == (60, Stage.MQL, rep)
    kinds = list(LeadEvent.objects.filter(lead=lead).order_by("id").values_list("kind", flat=True))
    assert kinds[-3:] == [EventKind.UPDATED, EventKind.SCORE_CHANGED, EventKind.PROMOTED]


def test_update_never_demotes_a_lead_sales_already_has(marketer, rep, ceo_rule):
    lead = lead_in_stage(Stage.SAL, owner=rep, job_title="CEO")

    lead = transitions.update_lead(lead, by=marketer, job_title="Intern")

    assert (lead.score, lead.stage) == (0, Stage.SAL)


def test_update_by_a_stale_version_is_refused_and_changes_nothing(marketer):
    lead = make_lead(job_title="CTO")
    seen = lead.version
    transitions.update_lead(lead, by=marketer, job_title="CFO")

    with pytest.raises(transitions.ConcurrentUpdate):
        transitions.update_lead(lead, by=marketer, version=seen, job_title="CEO")

    assert Lead.objects.get(pk=lead.pk).job_title == "CFO"


def test_only_marketers_and_admins_may_update(rep, manager):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    for user in (rep, manager):
        with pytest.raises(transitions.NotPermitted):
            transitions.update_lead(lead, by=user, name="Changed")
    assert updated_events(lead) == []


def test_update_refuses_a_taken_email_and_unknown_fields(marketer):
    lead, other = make_lead(), make_lead()
    with pytest.raises(transitions.InvalidInput, match="already exists"):
        transitions.update_lead(lead, by=marketer, email=other.email.upper())
    with pytest.raises(transitions.InvalidInput, match="cannot be set: stage"):
        transitions.update_lead(lead, by=marketer, stage="sql")
    assert updated_events(lead) == []


# The API -----------------------------------------------------------------------


def test_marketer_patches_a_lead_and_the_history_shows_before_and_after(marketer):
    lead = make_lead(company="Acme", country="")

    response = api(marketer).patch(detail_url(lead), {"company": "Acme GmbH", "country": "de"}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["company"], response.json()["country"]) == ("Acme GmbH", "DE")
    (event,) = updated_events(lead)
    assert event.payload["fields"] == {"company": ["Acme", "Acme GmbH"], "country": ["", "DE"]}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"stage": "sql"}, "stage"),
        ({"owner": 1}, "owner"),
        ({"email": "not an address"}, "email"),
        ({"name": ""}, "name"),
        ({"company_size": -1}, "company_size"),
        ({"version": "seven"}, "version"),
    ],
)
def test_patch_refuses_bad_or_unknown_fields_and_changes_nothing(marketer, payload, field):
    lead = make_lead()
    before = Lead.objects.filter(pk=lead.pk).values().get()

    response = api(marketer).patch(detail_url(lead), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Lead.objects.filter(pk=lead.pk).values().get() == before


def test_patch_with_nothing_to_change_is_refused(marketer):
    response = api(marketer).patch(detail_url(make_lead()), {}, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Send at least one detail to change."]}


def test_patch_with_the_version_seen_before_another_change_is_a_conflict(marketer):
    lead = make_lead(job_title="CTO")
    client = api(marketer)
    seen = client.get(detail_url(lead)).json()["version"]
    client.patch(detail_url(lead), {"job_title": "CFO"}, format="json")

    response = client.patch(detail_url(lead), {"job_title": "CEO", "version": seen}, format="json")

    assert response.status_code == 409
    assert Lead.objects.get(pk=lead.pk).job_title == "CFO"


def test_rep_may_not_patch_and_another_reps_lead_is_404(rep, other_rep):
    own, others = lead_in_stage(Stage.MQL, owner=rep), lead_in_stage(Stage.MQL, owner=other_rep)
    assert api(rep).patch(detail_url(own), {"name": "X"}, format="json").status_code == 403
    assert api(rep).patch(detail_url(others), {"name": "X"}, format="json").status_code == 404
    assert api(rep).put(detail_url(own), {"name": "X"}, format="json").status_code == 405
    assert updated_events(own) == []


# The page ----------------------------------------------------------------------


def test_marketer_edits_a_lead_on_its_page(client, marketer):
    lead = make_lead(job_title="CTO")
    client.force_login(marketer)
    url = reverse("leads:edit", args=[lead.pk])
    form = client.get(url)
    assert form.status_code == 200

    response = client.post(url, {**_form_data(lead), "job_title": "CEO"}, follow=True)

    assert "Saved the changes" in response.content.decode()
    (event,) = updated_events(lead)
    assert event.payload == {"fields": {"job_title": ["CTO", "CEO"]}}
    page = client.get(lead.get_absolute_url()).content.decode()
    assert re.search(r"Job title: <del>CTO</del>.*<ins>CEO</ins>", page)


def test_edit_page_refuses_a_stale_form_with_a_sentence(client, marketer):
    lead = make_lead(job_title="CTO")
    stale = _form_data(lead)
    transitions.update_lead(lead, by=marketer, job_title="CFO")
    client.force_login(marketer)

    response = client.post(reverse("leads:edit", args=[lead.pk]), {**stale, "job_title": "CEO"})

    assert response.status_code == 400
    assert "Someone else changed this lead since you loaded it" in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).job_title == "CFO"


def test_reps_have_no_edit_page(client, rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    client.force_login(rep)
    assert client.get(reverse("leads:edit", args=[lead.pk])).status_code == 403
    assert "Edit details" not in client.get(lead.get_absolute_url()).content.decode()


def _form_data(lead):
    return {
        "version": lead.version,
        **{
            field: getattr(lead, field) if getattr(lead, field) is not None else ""
            for field in transitions.EDITABLE_FIELDS
        },
    }


# One writer --------------------------------------------------------------------


def test_an_import_and_a_hand_edit_leave_the_same_history(marketer, ceo_rule):
    by_hand = make_lead(email="hand@example.com", job_title="CTO", country="FR")
    by_import = make_lead(email="file@example.com", job_title="CTO", country="FR")

    transitions.update_lead(by_hand, by=marketer, job_title="CEO", country="DE")
    job = imports.start_import(
        io.BytesIO(b"email,job_title,country\nfile@example.com,CEO,DE\n"), by=marketer, queue=False
    )
    imports.run_import(job.pk)

    def story(lead):
        return [
            (event.kind, event.actor_id, event.payload.get("fields"), event.payload.get("cause"))
            for event in LeadEvent.objects.filter(lead=lead).exclude(kind=EventKind.CREATED).order_by("id")
        ]

    assert (
        story(by_hand)
        == story(by_import)
        == [
            (EventKind.UPDATED, marketer.pk, {"job_title": ["CTO", "CEO"], "country": ["FR", "DE"]}, None),
            (EventKind.SCORE_CHANGED, None, None, "updated"),
        ]
    )
    assert updated_events(by_import)[0].payload["import"] == job.pk


def test_history_rows_are_built_in_one_place():
    """Every LeadEvent is made by leads.history (grep the code, not the tests or migrations)."""
    builders = []
    for path in LEADS_DIR.rglob("*.py"):
        if "migrations" in path.parts or path.name == "history.py":
            continue
        text = path.read_text()
        if re.search(r"(?<!class )LeadEvent\(|LeadEvent\.objects\.(create|bulk_create)|insert_rows\(LeadEvent", text):
            builders.append(path.name)
    assert builders == []


# The admin ---------------------------------------------------------------------


def test_admin_shows_a_lead_without_save_and_refuses_a_change(client, rep):
    superuser = make_user("root-admin", role="admin", is_staff=True, is_superuser=True)
    lead = lead_in_stage(Stage.MQL, owner=rep)
    client.force_login(superuser)
    url = reverse("admin:leads_lead_change", args=[lead.pk])

    page = client.get(url)

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(url, {"name": "Forged"}).status_code == 403
    assert Lead.objects.get(pk=lead.pk).name == lead.name
    assert client.get(reverse("admin:leads_lead_add")).status_code == 403
