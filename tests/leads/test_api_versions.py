"""The version the client saw: the lead's ETag, ``version`` in the body or If-Match, 409 when stale."""

import pytest

from leads.models import EventKind, Lead, LeadEvent, Stage, TeamMember

from ..factories import lead_in_stage, make_user
from .test_api import action_url, api, detail_url


@pytest.fixture
def second_manager(team):
    return make_user("max", role="manager", team=team, team_role=TeamMember.Role.MANAGER)


def test_a_leads_get_names_its_version_in_the_etag(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)

    response = api(rep).get(detail_url(lead))

    assert response["ETag"] == f'"lead-{lead.pk}-v{lead.version}"'
    assert response.json()["version"] == lead.version


def test_two_managers_reassign_the_same_lead_with_the_version_they_saw_exactly_one_wins(
    rep, other_rep, manager, second_manager, team
):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    third_rep = make_user("tess", role="rep", team=team)
    seen_by_first = api(manager).get(detail_url(lead))["ETag"]
    seen_by_second = api(second_manager).get(detail_url(lead)).json()["version"]

    first = api(manager).post(action_url(lead, "reassign"), {"to": other_rep.pk}, HTTP_IF_MATCH=seen_by_first)
    second = api(second_manager).post(action_url(lead, "reassign"), {"to": third_rep.pk, "version": seen_by_second})

    assert first.status_code == 200
    assert first["ETag"] == f'"lead-{lead.pk}-v{seen_by_second + 1}"'
    assert second.status_code == 409
    assert "Someone else changed this lead" in second.json()["detail"]
    lead.refresh_from_db()
    assert lead.owner == other_rep
    assert LeadEvent.objects.filter(lead=lead, kind=EventKind.REASSIGNED).count() == 1


@pytest.mark.parametrize("verb", ["accept", "reject", "reassign", "activities"])
def test_a_stale_version_gets_409_and_changes_nothing(rep, other_rep, manager, team, verb):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    stale = lead.version
    Lead.objects.filter(pk=lead.pk).update(version=stale + 1)  # someone changed it meanwhile
    events = LeadEvent.objects.filter(lead=lead).count()
    body = {"reason": "no-budget", "to": other_rep.pk, "kind": "call"}

    by_body = api(manager).post(action_url(lead, verb), {**body, "version": stale})
    by_header = api(manager).post(action_url(lead, verb), body, HTTP_IF_MATCH=f'"lead-{lead.pk}-v{stale}"')

    assert (by_body.status_code, by_header.status_code) == (409, 409)
    assert by_body.json()["code"] == "conflict"
    lead.refresh_from_db()
    assert (lead.stage, lead.owner, lead.version) == (Stage.MQL, rep, stale + 1)
    assert LeadEvent.objects.filter(lead=lead).count() == events


def test_patch_with_a_stale_if_match_gets_409_and_changes_nothing(marketer):
    lead = lead_in_stage(Stage.LEAD, name="Ann")
    etag = api(marketer).get(detail_url(lead))["ETag"]
    assert api(marketer).patch(detail_url(lead), {"name": "Bea"}, format="json", HTTP_IF_MATCH=etag).status_code == 200

    response = api(marketer).patch(detail_url(lead), {"name": "Cleo"}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 409
    lead.refresh_from_db()
    assert lead.name == "Bea"


@pytest.mark.parametrize(
    "header", ["lead-1-v1", 'W/"lead-{id}-v{version}"', '"lead-{id}"', '"lead-{id}-v-1"', '"v{version}"', "nonsense"]
)
def test_a_malformed_if_match_gets_400_and_changes_nothing(rep, team, header):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)

    response = api(rep).post(action_url(lead, "accept"), HTTP_IF_MATCH=header.format(id=lead.pk, version=lead.version))

    assert response.status_code == 400
    assert "If-Match" in response.json()
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL


def test_an_if_match_of_another_lead_gets_400(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    other = lead_in_stage(Stage.MQL, owner=rep, team=team)

    response = api(rep).post(action_url(lead, "accept"), HTTP_IF_MATCH=f'"lead-{other.pk}-v{lead.version}"')

    assert response.status_code == 400
    assert f"not of lead {lead.pk}" in response.json()["If-Match"][0]


def test_body_version_and_if_match_that_disagree_get_400(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)

    response = api(rep).post(
        action_url(lead, "accept"), {"version": lead.version - 1}, HTTP_IF_MATCH=f'"lead-{lead.pk}-v{lead.version}"'
    )

    assert response.status_code == 400
    assert "version" in response.json()


def test_the_current_version_by_body_or_if_match_is_accepted(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    other = lead_in_stage(Stage.MQL, owner=rep, team=team)

    assert api(rep).post(action_url(lead, "accept"), {"version": lead.version}).status_code == 200
    etag = f'"lead-{other.pk}-v{other.version}"'
    assert api(rep).post(action_url(other, "accept"), HTTP_IF_MATCH=etag).status_code == 200


def test_an_action_without_a_version_still_applies_to_the_lead_as_it_is(rep, team):
    # Backwards compatibility for older integrations; the pages always send the version.
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)

    assert api(rep).post(action_url(lead, "accept")).status_code == 200
