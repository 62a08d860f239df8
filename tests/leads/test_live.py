"""Rows that stay true: a page asks what others did to its rows since it was drawn."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads import live, transitions
from leads.models import Stage, TeamMember

from ..factories import lead_in_stage

CHANGES = reverse("leads:changes")


def test_a_row_accepted_by_someone_else_reads_who_and_when(rep, manager, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    other = lead_in_stage(Stage.MQL, owner=rep, team=team)
    cursor = live.cursor()
    now = timezone.now()
    transitions.accept_lead(lead, by=manager, now=now - timedelta(minutes=2))

    newest, lines = live.changes(rep, [lead.pk, other.pk], after=cursor, now=now)

    assert lines == {lead.pk: "Mona accepted this 2\xa0minutes ago."}
    assert newest > cursor
    assert live.changes(rep, [lead.pk, other.pk], after=newest, now=now) == (newest, {})


def test_own_actions_and_score_changes_do_not_make_a_row_stale(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    cursor = live.cursor()
    transitions.accept_lead(lead, by=rep)

    assert live.changes(rep, [lead.pk], after=cursor)[1] == {}


def test_a_lead_reassigned_away_says_to_whom(rep, other_rep, manager, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    cursor = live.cursor()
    transitions.reassign_lead(lead, by=manager, to=other_rep)

    assert live.changes(rep, [lead.pk], after=cursor)[1][lead.pk].startswith("Mona reassigned this to Oscar Other ")


def test_leads_never_visible_tell_nothing(rep, other_rep, manager, team):
    lead = lead_in_stage(Stage.MQL, owner=other_rep, team=team)
    cursor = live.cursor()
    transitions.accept_lead(lead, by=manager)

    assert live.changes(rep, [lead.pk], after=cursor)[1] == {}


def test_changes_endpoint_answers_json_in_a_fixed_number_of_queries(
    client, rep, manager, team, django_assert_num_queries
):
    leads = [lead_in_stage(Stage.MQL, owner=rep, team=team) for _ in range(3)]
    cursor = live.cursor()
    transitions.accept_lead(leads[0], by=manager)
    client.force_login(rep)

    # session, user (with the profile), the user's role groups, the events (with actor and owner) of visible leads
    with django_assert_num_queries(4):
        response = client.get(CHANGES, {"after": cursor, "ids": ",".join(str(lead.pk) for lead in leads)})

    assert response.status_code == 200
    data = response.json()
    assert list(data["changes"]) == [str(leads[0].pk)]
    assert data["changes"][str(leads[0].pk)].startswith("Mona accepted this ")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"after": "x", "ids": "1"},
        {"after": "1", "ids": "1,x"},
        {"after": "9" * 30, "ids": "1"},
        {"after": "1", "ids": ",".join(["1"] * 201)},
        {"after": "1", "ids": "9" * 40},
    ],
)
def test_changes_endpoint_bad_input_is_a_400(client, rep, params):
    client.force_login(rep)

    assert client.get(CHANGES, params).status_code == 400


def test_pages_carry_the_live_cursor(client, rep, team):
    lead_in_stage(Stage.MQL, owner=rep, team=team)
    client.force_login(rep)

    for url in (reverse("leads:queue"), reverse("leads:list")):
        assert f'data-live-cursor="{live.cursor()}"' in client.get(url).content.decode()


def unassigned_mql(team):
    TeamMember.objects.filter(team=team, role=TeamMember.Role.REP).update(is_available=False)
    lead = lead_in_stage(Stage.MQL, team=team)
    TeamMember.objects.filter(team=team, role=TeamMember.Role.REP).update(is_available=True)
    assert lead.owner_id is None
    return lead


def test_new_mqls_given_to_the_rep_since_the_page_was_drawn_are_counted(client, rep, other_rep, team):
    shown = lead_in_stage(Stage.MQL, owner=rep, team=team)
    since = live.cursor()
    transitions.reassign_lead(unassigned_mql(team), by=None, to=other_rep)  # someone else's
    arrived = transitions.reassign_lead(unassigned_mql(team), by=None, to=rep)
    client.force_login(rep)

    data = client.get(CHANGES, {"after": since, "since": since, "ids": str(shown.pk)}).json()

    assert data["new_mqls"] == 1
    assert live.new_mqls(rep, [shown.pk, arrived.pk], after=since) == []


def test_an_empty_queue_still_hears_of_new_mqls(client, rep, team):
    since = live.cursor()
    transitions.reassign_lead(unassigned_mql(team), by=None, to=rep)
    client.force_login(rep)

    assert client.get(CHANGES, {"after": since, "since": since, "ids": ""}).json()["new_mqls"] == 1
