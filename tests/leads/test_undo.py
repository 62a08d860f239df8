"""Undo: the actor takes back an accept, reject or qualify within ten minutes, as a compensating event."""

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from leads import transitions
from leads.models import EventKind, Lead, LeadEvent, MqlEpisode, Stage
from leads.transitions import ConcurrentUpdate, IllegalTransition

from ..factories import lead_in_stage, make_user

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def now():
    return timezone.now()


def fields(lead):
    """What undo must restore: stage, owner, episode fields and the SLA clock."""
    lead = Lead.objects.get(pk=lead.pk)
    episode = MqlEpisode.objects.get(lead=lead, number=lead.mql_episode)
    return {
        "stage": lead.stage,
        "owner": lead.owner_id,
        "episode": lead.mql_episode,
        "first_follow_up_at": lead.first_follow_up_at,
        "accepted_at": lead.accepted_at,
        "qualified_at": lead.qualified_at,
        "rejected_at": lead.rejected_at,
        "rejection_reason": lead.rejection_reason_id,
        "sla_due_at": lead.sla_due_at,
        "sla_breached_at": lead.sla_breached_at,
        "episode_row": (
            episode.owner_id,
            episode.due_at,
            episode.first_follow_up_at,
            episode.accepted_at,
            episode.qualified_at,
            episode.rejected_at,
            episode.rejected_from,
            episode.rejection_reason_id,
            episode.rejection_note,
        ),
    }


def test_undo_accept_puts_the_mql_back_with_its_due_time(rep, team, now):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team, now=now)
    before = fields(lead)
    accepted = transitions.accept_lead(lead, by=rep, now=now)
    assert Lead.objects.get(pk=lead.pk).first_follow_up_at == now

    undone = transitions.undo_lead(accepted, by=rep, now=now + timedelta(minutes=3), version=accepted.version)

    assert fields(lead) == before
    assert undone.is_awaiting_response
    event = LeadEvent.objects.filter(lead=lead).order_by("-at", "-id").first()
    accept_event = LeadEvent.objects.get(lead=lead, kind=EventKind.ACCEPTED, actor=rep)
    assert (event.kind, event.actor, event.from_stage, event.to_stage) == (EventKind.UNDONE, rep, Stage.SAL, Stage.MQL)
    assert event.payload == {"undone_event": accept_event.pk, "undone_kind": "accepted"}


def test_undo_reject_restores_the_mql_and_clears_the_episodes_rejection(rep, team, now):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team, now=now)
    before = fields(lead)
    rejected = transitions.reject_lead(lead, by=rep, reason="no-budget", note="no money", now=now)

    transitions.undo_lead(rejected, by=rep, now=now + timedelta(minutes=9, seconds=59))

    assert fields(lead) == before


def test_undo_qualify_returns_the_lead_to_accepted(rep, team, now):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team, now=now)
    before = fields(lead)
    qualified = transitions.qualify_lead(lead, by=rep, now=now)

    transitions.undo_lead(qualified, by=rep, now=now + timedelta(minutes=1))

    assert fields(lead) == before


def test_undo_keeps_an_earlier_follow_up(rep, team, now):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team, now=now)
    lead = transitions.log_activity(lead, by=rep, kind="call", occurred_at=now - timedelta(minutes=5), now=now)
    accepted = transitions.accept_lead(lead, by=rep, now=now + timedelta(minutes=11))

    transitions.undo_lead(accepted, by=rep, now=now + timedelta(minutes=12))

    assert Lead.objects.get(pk=lead.pk).first_follow_up_at == now - timedelta(minutes=5)


def test_history_keeps_the_undone_action(rep, team, now):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team, now=now)
    count = LeadEvent.objects.filter(lead=lead).count()
    accepted = transitions.accept_lead(lead, by=rep, now=now)
    transitions.undo_lead(accepted, by=rep, now=now)

    kinds = list(LeadEvent.objects.filter(lead=lead).order_by("at", "id").values_list("kind", flat=True))
    assert len(kinds) == count + 2
    assert kinds[-2:] == [EventKind.ACCEPTED, EventKind.UNDONE]


def test_nothing_to_undo_says_so(rep, team, now):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team, now=now)

    with pytest.raises(IllegalTransition, match="Nothing to undo: you have not accepted, rejected or qualified"):
        transitions.undo_lead(lead, by=rep, now=now)


def test_an_undo_cannot_be_undone_twice(rep, team, now):
    lead = transitions.accept_lead(lead_in_stage(Stage.MQL, owner=rep, team=team, now=now), by=rep, now=now)
    lead = transitions.undo_lead(lead, by=rep, now=now)

    with pytest.raises(IllegalTransition, match="already undid"):
        transitions.undo_lead(lead, by=rep, now=now)


def test_too_late_after_ten_minutes(rep, team, now):
    lead = transitions.accept_lead(lead_in_stage(Stage.MQL, owner=rep, team=team, now=now), by=rep, now=now)
    version = lead.version

    with pytest.raises(IllegalTransition, match="Too late to undo: you accepted this lead 10 minutes ago"):
        transitions.undo_lead(lead, by=rep, now=now + timedelta(minutes=10, seconds=1))
    assert Lead.objects.get(pk=lead.pk).version == version


def test_someone_acting_since_blocks_the_undo(rep, other_rep, manager, team, now):
    lead = transitions.accept_lead(lead_in_stage(Stage.MQL, owner=rep, team=team, now=now), by=rep, now=now)
    transitions.reassign_lead(lead, by=manager, to=other_rep, now=now + timedelta(minutes=1))

    with pytest.raises(IllegalTransition, match=r"Cannot undo: Mona reassigned this lead at .*, after you accepted it"):
        transitions.undo_lead(lead, by=rep, now=now + timedelta(minutes=2))
    assert Lead.objects.get(pk=lead.pk).stage == Stage.SAL


def test_only_the_actor_can_undo(rep, manager, team, now):
    lead = transitions.accept_lead(lead_in_stage(Stage.MQL, owner=rep, team=team, now=now), by=rep, now=now)

    with pytest.raises(IllegalTransition, match="Nothing to undo"):
        transitions.undo_lead(lead, by=manager, now=now)


def test_undo_refuses_a_stale_version(rep, team, now):
    lead = transitions.accept_lead(lead_in_stage(Stage.MQL, owner=rep, team=team, now=now), by=rep, now=now)

    with pytest.raises(ConcurrentUpdate):
        transitions.undo_lead(lead, by=rep, now=now, version=lead.version - 1)


def test_undo_offer_matches_the_rule(rep, manager, team, now):
    lead = transitions.accept_lead(lead_in_stage(Stage.MQL, owner=rep, team=team, now=now), by=rep, now=now)
    events = list(LeadEvent.objects.filter(lead=lead))

    assert transitions.undo_offer(events, by=rep, now=now + timedelta(minutes=10)).kind == EventKind.ACCEPTED
    assert transitions.undo_offer(events, by=rep, now=now + timedelta(minutes=11)) is None
    assert transitions.undo_offer(events, by=manager, now=now) is None


# The API


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_undo_answers_the_restored_lead(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    lead = transitions.accept_lead(lead, by=rep)

    response = api(rep).post(reverse("api:lead-undo", args=[lead.pk]), {"version": lead.version}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "mql"
    assert response["ETag"] == f'"lead-{lead.pk}-v{lead.version + 1}"'


def test_api_undo_with_nothing_to_undo_is_a_409_with_a_sentence(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)

    response = api(rep).post(reverse("api:lead-undo", args=[lead.pk]), {}, format="json")

    assert response.status_code == 409
    assert response.json()["detail"].startswith("Nothing to undo")


def test_api_undo_of_an_invisible_lead_is_a_404(rep, other_rep, team):
    lead = transitions.accept_lead(lead_in_stage(Stage.MQL, owner=other_rep, team=team), by=other_rep)

    assert api(rep).post(reverse("api:lead-undo", args=[lead.pk]), {}, format="json").status_code == 404


def test_api_undo_rejects_a_bad_version(rep, team):
    lead = transitions.accept_lead(lead_in_stage(Stage.MQL, owner=rep, team=team), by=rep)

    response = api(rep).post(reverse("api:lead-undo", args=[lead.pk]), {"version": "x"}, format="json")

    assert response.status_code == 400


# The pages


def test_accepted_row_offers_undo_and_undo_brings_the_queue_row_back(client, rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    client.force_login(rep)
    queue = reverse("leads:queue")

    done = client.post(reverse("leads:accept", args=[lead.pk]), {"version": lead.version, "next": queue}, **HTMX)
    assert done.status_code == 200
    assert b'data-action="undo"' in done.content
    version = Lead.objects.get(pk=lead.pk).version

    back = client.post(reverse("leads:undo", args=[lead.pk]), {"version": version, "next": queue}, **HTMX)

    assert back.status_code == 200
    assert b'data-action="accept"' in back.content  # the live queue row, countdown and all
    assert b"countdown" in back.content
    assert Lead.objects.get(pk=lead.pk).stage == Stage.MQL


def test_undo_too_late_is_an_inline_409(client, rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    lead = transitions.accept_lead(lead, by=rep, now=timezone.now() - timedelta(minutes=15))
    client.force_login(rep)

    response = client.post(reverse("leads:undo", args=[lead.pk]), {"version": lead.version}, **HTMX)

    assert response.status_code == 409
    assert b"Too late to undo" in response.content


def test_lead_page_offers_undo_to_the_actor_only(client, rep, manager, team):
    lead = transitions.accept_lead(lead_in_stage(Stage.MQL, owner=rep, team=team), by=rep)
    client.force_login(rep)
    assert b'data-action="undo"' in client.get(lead.get_absolute_url()).content

    client.force_login(manager)
    assert b'data-action="undo"' not in client.get(lead.get_absolute_url()).content


def test_plain_post_undo_redirects_with_a_message(client, rep, team):
    lead = transitions.accept_lead(lead_in_stage(Stage.MQL, owner=rep, team=team), by=rep)
    client.force_login(rep)

    response = client.post(reverse("leads:undo", args=[lead.pk]), {"version": lead.version}, follow=True)

    assert "Undone: " in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).stage == Stage.MQL


def test_managers_accept_message_names_whose_list_it_went_to(client, manager, team):
    rita = make_user("rreyes", role="rep", team=team, first_name="Rita", last_name="Reyes")
    lead = lead_in_stage(Stage.MQL, owner=rita, team=team)
    client.force_login(manager)

    response = client.post(reverse("leads:accept", args=[lead.pk]), {"version": lead.version}, **HTMX)

    assert "it is now in Rita Reyes' accepted leads" in html.unescape(response.content.decode())


# A lead that went away while the user looked at it


def test_htmx_action_on_a_lead_reassigned_away_answers_in_the_row(client, rep, other_rep, manager, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    transitions.reassign_lead(lead, by=manager, to=other_rep)
    client.force_login(rep)

    response = client.post(reverse("leads:accept", args=[lead.pk]), {"version": lead.version}, **HTMX)

    assert response.status_code == 404
    assert response["HX-Retarget"] == f"#lead-{lead.pk}"
    text = html.unescape(response.content.decode())
    assert "Mona reassigned this lead to Oscar Other at " in text
    assert "it is no longer yours. Nothing was changed." in text
    assert "<form" not in text


def test_plain_action_on_a_vanished_lead_is_a_page_with_a_sentence(client, rep, team):
    client.force_login(rep)

    response = client.post(reverse("leads:accept", args=[987654]), {"next": reverse("leads:detail", args=[987654])})

    assert response.status_code == 404
    assert b"This lead is no longer available to you" in response.content
    assert f'href="{reverse("leads:home")}"'.encode() in response.content
