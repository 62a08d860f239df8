"""Every action form on every page sends the version of the lead it showed; a stale one is
refused in words and changes nothing."""

import re

import pytest
from django.urls import reverse

from leads import sla
from leads.models import EventKind, Lead, LeadEvent, Stage

from ..factories import lead_in_stage
from .test_views import mql_for

ACTION_FORM = re.compile(r'<form[^>]*\baction="/leads/(\d+)/(\w+)/"[^>]*>(.*?)</form>', re.S)


def action_forms(html):
    """(lead id, verb, the version the form sends or None) for each lead action form of a page."""
    found = []
    for lead_id, verb, body in ACTION_FORM.findall(html):
        version = re.search(r'<input type="hidden" name="version" value="(\d+)">', body)
        found.append((int(lead_id), verb, int(version[1]) if version else None))
    return found


@pytest.fixture
def leads_everywhere(rep, team):
    breached = mql_for(rep, team, minutes_ago=90, name="Breached Lead")
    sla.flag_overdue_leads()
    return {
        "mql": mql_for(rep, team, name="Fresh MQL"),
        "breached": breached,
        "sal": lead_in_stage(Stage.SAL, owner=rep, team=team),
        "rejected": lead_in_stage(Stage.REJECTED, owner=rep, team=team),
        "lead": lead_in_stage(Stage.LEAD, team=team),
    }


@pytest.mark.parametrize(
    ("who", "page"),
    [
        ("rep", "leads:queue"),
        ("rep", "leads:accepted"),
        ("manager", "leads:team"),
        ("manager", "leads:breached"),
        ("marketer", "leads:rejected"),
        ("manager", "mql"),
        ("rep", "sal"),
        ("marketer", "rejected"),
        ("marketer", "lead"),
        ("admin", "mql"),
    ],
)
def test_every_action_form_sends_the_version_the_page_showed(client, request, leads_everywhere, who, page):
    client.force_login(request.getfixturevalue(who))
    url = reverse(page) if ":" in page else leads_everywhere[page].get_absolute_url()

    forms = action_forms(client.get(url).content.decode())

    assert forms, f"no action form on {url}"
    versions = dict(Lead.objects.values_list("pk", "version"))
    assert [(verb, version) for lead_id, verb, version in forms] == [
        (verb, versions[lead_id]) for lead_id, verb, _ in forms
    ]


def page_version(client, lead, verb):
    html = client.get(lead.get_absolute_url()).content.decode()
    return next(version for lead_id, form_verb, version in action_forms(html) if form_verb == verb)


@pytest.mark.parametrize("htmx", [False, True])
def test_two_managers_reassigning_from_their_pages_exactly_one_wins_and_the_other_is_told(
    client, manager, admin, rep, other_rep, team, htmx
):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    client.force_login(manager)
    seen_by_manager = page_version(client, lead, "reassign")
    client.force_login(admin)
    seen_by_admin = page_version(client, lead, "reassign")
    url = reverse("leads:reassign", args=[lead.pk])
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    first = client.post(url, {"to": other_rep.pk, "version": seen_by_admin}, **headers)
    client.force_login(manager)
    second = client.post(url, {"to": rep.pk, "version": seen_by_manager}, follow=not htmx, **headers)

    assert first.status_code in (200, 302)
    words = "Someone else changed this lead since you loaded it; reload it and try again."
    if htmx:
        assert second.status_code == 409
    assert words in second.content.decode()
    assert Lead.objects.get(pk=lead.pk).owner == other_rep
    assert LeadEvent.objects.filter(lead=lead, kind=EventKind.REASSIGNED).count() == 1


def test_a_garbled_version_is_refused_in_words(client, rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    client.force_login(rep)

    response = client.post(reverse("leads:accept", args=[lead.pk]), {"version": "1e309"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 400
    assert "This page is out of date: reload it and try again." in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).stage == Stage.MQL
