"""Merging a duplicate into the lead that survives, and unmerging: both histories stay, reports come back equal."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads import transitions
from leads.models import EventKind, Lead, LeadEvent, MqlEpisode, Stage
from reports import metrics
from reports.metrics import Filters, Period

from ..factories import lead_in_stage, make_lead
from .test_api import api

pytestmark = pytest.mark.django_db


def merge_url(lead):
    return reverse("api:lead-merge", args=[lead.pk])


AS_OF = timezone.now() + timedelta(days=3)


def reports_now():
    today = timezone.localdate()
    period = Period(today - timedelta(days=7), today)
    as_of = AS_OF
    return (
        metrics.ignore_rate(period, Filters(), as_of=as_of),
        metrics.conversion(period, Filters(), as_of=as_of),
        Lead.objects.filter(stage=Stage.MQL).count(),
    )


@pytest.fixture
def pair(rep, team):
    survivor = lead_in_stage(Stage.SAL, owner=rep, team=team, email="jane@acme.com", name="Jane Doe")
    duplicate = lead_in_stage(Stage.MQL, owner=rep, team=team, email="jane+webinar@acme.com", name="Jane Doe")
    return survivor, duplicate


def test_dry_run_says_what_would_happen_and_writes_nothing(marketer, pair):
    survivor, duplicate = pair
    events = LeadEvent.objects.count()

    response = api(marketer).post(merge_url(duplicate), {"into": survivor.pk, "dry_run": True}, format="json")

    assert response.status_code == 200
    plan = response.json()
    assert (plan["dry_run"], plan["from_stage"], plan["to_stage"], plan["into"]) == (True, "mql", "merged", survivor.pk)
    assert LeadEvent.objects.count() == events
    assert Lead.objects.get(pk=duplicate.pk).stage == Stage.MQL


def test_merge_closes_the_duplicate_and_unmerge_restores_both_with_reports_equal(marketer, pair):
    survivor, duplicate = pair
    before = reports_now()

    response = api(marketer).post(merge_url(duplicate), {"into": survivor.pk}, format="json")
    assert response.status_code == 200
    merged = Lead.objects.get(pk=duplicate.pk)
    assert (merged.stage, merged.merged_into_id) == (Stage.MERGED, survivor.pk)
    assert merged.events.filter(kind=EventKind.CREATED).exists()  # its history stays
    assert merged.events.latest("id").kind == EventKind.MERGED
    assert survivor.events.latest("id").payload == {"merged": duplicate.pk}
    # Every episode is still counted once: none moves, none is copied.
    assert MqlEpisode.objects.filter(lead__in=[survivor, duplicate]).count() == 2

    response = api(marketer).post(reverse("api:lead-unmerge", args=[duplicate.pk]), {}, format="json")
    assert response.status_code == 200
    restored = Lead.objects.get(pk=duplicate.pk)
    assert (restored.stage, restored.merged_into_id, restored.owner_id) == (Stage.MQL, None, duplicate.owner_id)
    assert restored.events.latest("id").kind == EventKind.UNMERGED
    assert reports_now() == before


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"into": "x"}, 400),
        ({"into": 999999}, 400),
        ({"into": "self"}, 400),
        ({"into": "survivor", "dry_run": "perhaps"}, 400),
    ],
)
def test_bad_merge_requests_are_4xx_and_change_nothing(marketer, pair, body, status):
    survivor, duplicate = pair
    body = {key: {"self": duplicate.pk, "survivor": survivor.pk}.get(value, value) for key, value in body.items()}
    events = LeadEvent.objects.count()

    assert api(marketer).post(merge_url(duplicate), body, format="json").status_code == status
    assert LeadEvent.objects.count() == events


def test_merging_twice_or_into_a_merged_lead_is_409(marketer, pair):
    survivor, duplicate = pair
    third = make_lead(email="j.doe@acme.com")
    client = api(marketer)
    assert client.post(merge_url(duplicate), {"into": survivor.pk}, format="json").status_code == 200

    assert client.post(merge_url(duplicate), {"into": third.pk}, format="json").status_code == 409
    assert client.post(merge_url(third), {"into": duplicate.pk}, format="json").status_code == 409
    assert client.post(reverse("api:lead-unmerge", args=[third.pk]), {}, format="json").status_code == 409


def test_reps_may_not_merge(rep, pair):
    survivor, duplicate = pair

    assert api(rep).post(merge_url(duplicate), {"into": survivor.pk}, format="json").status_code == 403
    assert Lead.objects.get(pk=duplicate.pk).stage == Stage.MQL


def test_merge_by_the_service_layer_records_the_note(marketer, pair):
    survivor, duplicate = pair
    lead, plan = transitions.merge_lead(duplicate, by=marketer, into=survivor, note="Same person, webinar form.")

    assert plan["dry_run"] is False
    assert lead.events.latest("id").note == "Same person, webinar form."


def test_lead_page_merges_and_unmerges_by_hand(client, marketer, pair):
    survivor, duplicate = pair
    client.force_login(marketer)
    page = client.get(duplicate.get_absolute_url()).content.decode()
    assert reverse("leads:merge", args=[duplicate.pk]) in page

    response = client.post(
        reverse("leads:merge", args=[duplicate.pk]), {"into": survivor.pk, "version": duplicate.version}
    )
    assert response.status_code == 302
    merged = Lead.objects.get(pk=duplicate.pk)
    assert merged.stage == Stage.MERGED
    page = client.get(duplicate.get_absolute_url()).content.decode()
    assert f"lead #{survivor.pk}" in page and reverse("leads:unmerge", args=[duplicate.pk]) in page

    client.post(reverse("leads:unmerge", args=[duplicate.pk]), {"version": merged.version})
    assert Lead.objects.get(pk=duplicate.pk).stage == Stage.MQL


@pytest.mark.parametrize("into", ["", "abc", "999999", "self"])
def test_bad_merge_by_hand_changes_nothing(client, marketer, pair, into):
    _survivor, duplicate = pair
    client.force_login(marketer)
    into = str(duplicate.pk) if into == "self" else into

    response = client.post(reverse("leads:merge", args=[duplicate.pk]), {"into": into}, HTTP_HX_REQUEST="true")

    assert response.status_code == 400
    assert Lead.objects.get(pk=duplicate.pk).stage == Stage.MQL
