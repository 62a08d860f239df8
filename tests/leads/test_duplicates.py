"""Possible duplicates at intake (API, import, by hand): same e-mail once normalised, same phone, close name."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from leads import duplicates, transitions
from leads.models import EventKind, ImportJob, Lead, Stage

from ..factories import lead_in_stage, make_lead
from .test_api import api
from .test_imports import import_csv, media_in_tmp  # noqa: F401  (the import's media folder)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("email", "key"),
    [
        ("Jane.Doe@Acme.com", "jane.doe@acme.com"),
        ("jane.doe+news@acme.com", "jane.doe@acme.com"),
        ("Jane.Doe+news@gmail.com", "janedoe@gmail.com"),
        ("j.a.n.e.doe@googlemail.com", "janedoe@gmail.com"),
        ("+only@acme.com", ""),
        ("no-at-sign", ""),
        ("", ""),
    ],
)
def test_email_key_ignores_case_plus_tags_and_gmail_dots(email, key):
    assert duplicates.email_key(email) == key


@pytest.mark.parametrize(
    ("phone", "country", "e164"),
    [
        ("+44 20 7946 0000", "", "+442079460000"),
        ("020 7946 0000", "GB", "+442079460000"),
        ("(030) 1234-5678", "de", "+493012345678"),
        ("+1 (415) 555-0123", "", "+14155550123"),
        ("020 7946 0000", "", ""),
        ("call me", "GB", ""),
        ("", "GB", ""),
    ],
)
def test_phone_is_compared_in_e164(phone, country, e164):
    assert duplicates.phone_e164(phone, country) == e164


def test_plus_addressed_variant_is_accepted_and_marked(marketer):
    first = make_lead(email="jane.doe@acme.com")
    response = api(marketer).post(
        reverse("api:lead-list"), {"name": "Jane D.", "email": "Jane.Doe+webinar@acme.com"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["possible_duplicates"] == [first.pk]


def test_gmail_dots_mark_a_duplicate_and_the_history_says_so():
    first = make_lead(email="janedoe@gmail.com")
    second = make_lead(email="jane.doe@googlemail.com")

    assert second.possible_duplicates == [first.pk]
    assert first.possible_duplicates == []
    created = second.events.get(kind=EventKind.CREATED)
    assert created.payload["possible_duplicates"] == [first.pk]


def test_same_phone_in_another_format_is_a_possible_duplicate():
    first = make_lead(email="ann@acme.co.uk", phone="+44 20 7946 0000")
    second = make_lead(email="ann.smith@other.example", phone="020 7946 0000", country="GB")

    assert second.possible_duplicates == [first.pk]


def test_close_name_at_the_same_account_is_a_possible_duplicate():
    first = make_lead(name="John Smith", email="john@acme.com")
    close = make_lead(name="Jon Smith", email="j.smith@sales.acme.com")
    elsewhere = make_lead(name="John Smith", email="john@globex.com")
    other_person = make_lead(name="Mary Jones", email="mary@acme.com")

    assert close.possible_duplicates == [first.pk]
    assert elsewhere.possible_duplicates == []
    assert other_person.possible_duplicates == []


def test_different_people_are_not_marked():
    make_lead(name="Ann Archer", email="ann@acme.com", phone="+44 20 7946 0000")
    lead = make_lead(name="Bob Baker", email="bob@globex.com", phone="+44 20 7946 0001")

    assert lead.possible_duplicates == []


def test_import_marks_duplicates_of_earlier_leads_and_of_earlier_rows(marketer):
    first = make_lead(email="jane.doe@acme.com", name="Jane Doe")
    import_csv(
        "name,email,phone,country\n"
        "Jane Doe,jane.doe+csv@acme.com,,\n"
        "Max Muster,max@example.org,030 12345678,DE\n"
        "Maximilian Muster,m.muster@example.net,+49 30 12345678,\n",
        by=marketer,
    )

    jane = Lead.objects.get(email="jane.doe+csv@acme.com")
    max_ = Lead.objects.get(email="max@example.org")
    again = Lead.objects.get(email="m.muster@example.net")
    assert jane.possible_duplicates == [first.pk]
    assert max_.possible_duplicates == []
    assert again.possible_duplicates == [max_.pk]


def test_editing_the_email_marks_and_unmarks(marketer):
    first = make_lead(email="jane@acme.com", name="Jane Doe")
    lead = make_lead(email="someone@globex.com", name="Someone Else")

    lead = transitions.update_lead(lead, by=marketer, email="Jane+x@acme.com")
    assert lead.possible_duplicates == [first.pk]
    lead = transitions.update_lead(lead, by=marketer, email="someone@globex.com")
    assert lead.possible_duplicates == []


def test_erasure_blanks_the_duplicate_keys(admin):
    lead = make_lead(email="jane@acme.com", phone="+44 20 7946 0000")
    lead = transitions.erase_lead(lead, by=admin)

    assert (lead.email_normalised, lead.phone_e164) == ("", "")


def test_queue_and_api_list_show_the_mark(client, rep, team, marketer):
    first = make_lead(email="jane@acme.com")
    duplicate = lead_in_stage(Stage.MQL, owner=rep, team=team, email="jane+again@acme.com")
    client.force_login(rep)

    page = client.get(reverse("leads:queue")).content.decode()
    assert "Possible duplicate" in page
    listed = api(marketer).get(reverse("api:lead-list"), {"possible_duplicate": "true"}).json()
    assert [row["id"] for row in listed["results"]] == [duplicate.pk]
    assert listed["results"][0]["possible_duplicates"] == [first.pk]
    assert api(marketer).get(reverse("api:lead-list"), {"possible_duplicate": "maybe"}).status_code == 400


def test_duplicate_check_is_answered_from_the_indexes():
    """Each rule of the intake check can be read from its index (lead_email_normalised_idx,
    lead_phone_e164_idx, lead_account_stage_idx), one probe per candidate, not a scan of every lead."""
    lead = make_lead(name="Jane Doe", email="jane@acme.com", phone="+44 20 7946 0000")
    params = {
        "ids": [lead.pk + 1],
        "emails": [lead.email_normalised],
        "phones": [lead.phone_e164],
        "accounts": [lead.account_id],
        "names": [lead.name],
        "similarity": 0.5,
        "limit": 50,
    }
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + duplicates._FIND, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "lead_email_normalised_idx" in plan
    assert "lead_phone_e164_idx" in plan
    assert "lead_account_stage_idx" in plan
    assert "Seq Scan on leads_lead" not in plan
    # One probe per candidate (an Index Cond on its key), never the whole index into a hash.
    assert "Hash Join" not in plan
    assert "Index Cond: ((email_normalised)::text = v.email_normalised)" in plan


def test_import_page_gives_unchanged_rows_and_says_when_a_file_has_no_data_rows(
    client, marketer, django_capture_on_commit_callbacks
):
    make_lead(email="jane@northwind.example", company="Northwind")
    client.force_login(marketer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("scoring:import"),
            {"file": SimpleUploadedFile("a.csv", b"email,company\njane@northwind.example,Northwind\n", "text/csv")},
        )
        client.post(reverse("scoring:import"), {"file": SimpleUploadedFile("b.csv", b"email,company\n", "text/csv")})
    unchanged, empty = ImportJob.objects.order_by("id")

    html = client.get(reverse("scoring:import_job", args=[unchanged.pk])).content.decode()
    assert "<dt>Unchanged</dt><dd>1</dd>" in html
    html = client.get(reverse("scoring:import_job", args=[empty.pk])).content.decode()
    assert "no data rows" in html
