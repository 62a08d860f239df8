"""Real threads racing on one lead against PostgreSQL's row locks."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from leads import transitions
from leads.models import EventKind, Lead, LeadEvent, Stage, TeamMember

from ..factories import lead_in_stage, make_lead, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def race(*actions):
    """Run each action in its own thread and connection, released at the same instant."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = ("ok", action())
        except transitions.LeadError as exc:
            outcomes[index] = ("refused", exc)
        except Exception as exc:  # surfaced by the assertion below
            outcomes[index] = ("crashed", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(outcome is not None and outcome[0] != "crashed" for outcome in outcomes), outcomes
    return outcomes


@pytest.mark.parametrize("attempt", range(5))
def test_accept_and_reject_at_once_exactly_one_wins(rep, manager, attempt):
    lead = lead_in_stage(Stage.MQL, owner=rep)

    outcomes = race(
        lambda: transitions.accept_lead(lead, by=rep),
        lambda: transitions.reject_lead(lead, by=manager, reason="no-budget"),
    )

    results = sorted(kind for kind, _ in outcomes)
    assert results == ["ok", "refused"]
    refused = next(value for kind, value in outcomes if kind == "refused")
    assert refused.status_code == 409
    lead.refresh_from_db()
    decisions = LeadEvent.objects.filter(lead=lead, kind__in=[EventKind.ACCEPTED, EventKind.REJECTED])
    assert decisions.count() == 1
    assert lead.stage == (Stage.SAL if decisions.get().kind == EventKind.ACCEPTED else Stage.REJECTED)


def test_two_accepts_at_once_write_one_event(rep, manager):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    outcomes = race(
        lambda: transitions.accept_lead(lead, by=rep),
        lambda: transitions.accept_lead(lead, by=manager),
    )
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"]
    assert LeadEvent.objects.filter(lead=lead, kind=EventKind.ACCEPTED).count() == 1


def test_mqls_promoted_at_the_same_instant_take_different_turns(rep, other_rep, marketer):
    leads = [make_lead(), make_lead()]
    outcomes = race(*[lambda lead=lead: transitions.promote_to_mql(lead, by=marketer) for lead in leads])
    assert [kind for kind, _ in outcomes] == ["ok", "ok"]
    owners = set(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("owner", flat=True))
    assert owners == {rep.pk, other_rep.pk}


@pytest.mark.parametrize("attempt", range(3))
def test_two_managers_reassigning_one_lead_through_the_api_at_once_exactly_one_wins(
    rep, other_rep, manager, team, attempt
):
    second_manager = make_user("max", role="manager", team=team, team_role=TeamMember.Role.MANAGER)
    third_rep = make_user("tess", role="rep", team=team)
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    url = f"/api/leads/{lead.pk}/reassign/"

    def reassign(by, to):
        client = APIClient()
        client.force_authenticate(by)
        return client.post(url, {"to": to.pk, "version": lead.version}).status_code

    outcomes = race(lambda: reassign(manager, other_rep), lambda: reassign(second_manager, third_rep))

    assert sorted(status for _, status in outcomes) == [200, 409]
    assert LeadEvent.objects.filter(lead=lead, kind=EventKind.REASSIGNED).count() == 1
