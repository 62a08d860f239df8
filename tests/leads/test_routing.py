"""Routing that explains itself: the account's rep first, else weighted round-robin, with every decision recorded."""

from collections import Counter
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads import jobs, routing, transitions
from leads.models import EventKind, Lead, OutOfOffice, Stage, TeamMember

from ..factories import lead_in_stage, make_lead, make_user
from .test_api import api

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def promote(**fields):
    lead = make_lead(now=NOW - timedelta(minutes=5), **fields)
    return transitions.promote_to_mql(lead, by=None, now=NOW)


def decision_of(lead, kind=EventKind.PROMOTED):
    return lead.events.filter(kind=kind).latest("id").payload["routing"]


def set_weight(user, weight):
    TeamMember.objects.filter(user=user).update(routing_weight=weight)


def test_weights_give_each_rep_their_share_over_many_assignments(team, rep, other_rep):
    make_user("tess", role="rep", team=team)
    set_weight(rep, 3)
    set_weight(other_rep, 2)
    owners = Counter()
    for n in range(60):
        owner = routing.pick_owner(team, now=NOW + timedelta(seconds=n))
        owners[owner.username] += 1

    assert owners == {"rita": 30, "oscar": 20, "tess": 10}


def test_equal_weights_take_turns_in_a_fixed_order(team, rep, other_rep):
    order = [routing.pick_owner(team, now=NOW).username for _ in range(4)]

    assert order == ["rita", "oscar", "rita", "oscar"]


def test_a_rep_back_from_absence_gets_no_burst(team, rep, other_rep):
    TeamMember.objects.filter(user=other_rep).update(is_available=False)
    for _ in range(10):
        assert routing.pick_owner(team, now=NOW) == rep
    TeamMember.objects.filter(user=other_rep).update(is_available=True)

    order = [routing.pick_owner(team, now=NOW).username for _ in range(4)]
    assert Counter(order) == {"rita": 2, "oscar": 2}


def test_new_mql_goes_to_the_rep_who_owns_an_open_lead_of_its_account(team, rep, other_rep):
    lead_in_stage(Stage.SAL, owner=other_rep, team=team, email="ann@acme.co.uk")
    lead = promote(email="bob@sales.acme.co.uk", team=team)

    assert lead.owner == other_rep
    decision = decision_of(lead)
    assert (decision["rule"], decision["winner"]) == ("account_owner", other_rep.pk)
    assert {row["id"] for row in decision["pool"]} == {rep.pk, other_rep.pk}


def test_account_rep_out_of_office_is_skipped_with_the_reason(team, rep, other_rep):
    lead_in_stage(Stage.SAL, owner=other_rep, team=team, email="ann@acme.co.uk")
    OutOfOffice.objects.create(user=other_rep, starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=1))
    lead = promote(email="bob@acme.co.uk", team=team)

    assert lead.owner == rep
    decision = decision_of(lead)
    assert decision["rule"] == "round_robin"
    assert decision["skipped"] == [
        {"id": other_rep.pk, "name": "Oscar Other", "reason": "owns a lead of the account but is out of office"}
    ]


def test_out_of_office_ended_or_not_started_does_not_skip(team, rep, other_rep):
    OutOfOffice.objects.create(user=rep, starts_at=NOW - timedelta(days=3), ends_at=NOW - timedelta(days=1))
    OutOfOffice.objects.create(user=rep, starts_at=NOW + timedelta(days=1), ends_at=NOW + timedelta(days=3))

    assert {routing.pick_owner(team, now=NOW) for _ in range(2)} == {rep, other_rep}


def test_account_rep_outside_the_window_does_not_count(team, rep, other_rep, settings):
    settings.FUNNEL_ACCOUNT_OWNER_WINDOW_DAYS = 30
    old = lead_in_stage(Stage.SAL, owner=other_rep, team=team, email="ann@acme.co.uk", now=NOW - timedelta(days=40))
    assert old.owner == other_rep
    TeamMember.objects.filter(user=other_rep).update(last_turn=None, routing_pass=0)
    TeamMember.objects.filter(user=rep).update(routing_pass=10**6)

    lead = promote(email="bob@acme.co.uk", team=team)
    assert decision_of(lead)["rule"] == "round_robin"


def test_account_rep_at_capacity_is_skipped(team, rep, other_rep):
    lead_in_stage(Stage.MQL, owner=other_rep, team=team, email="ann@acme.co.uk")
    TeamMember.objects.filter(user=other_rep).update(mql_capacity=1)
    lead = promote(email="bob@acme.co.uk", team=team)

    assert lead.owner == rep
    assert (
        decision_of(lead)["skipped"][0]["reason"] == "owns a lead of the account but is at capacity (1 of 1 open MQLs)"
    )


def test_nobody_available_is_recorded(team, rep, other_rep):
    TeamMember.objects.filter(team=team).update(is_available=False)
    lead = promote(team=team)

    assert lead.owner is None
    decision = decision_of(lead)
    assert decision["rule"] == "nobody"
    assert {row["reason"] for row in decision["skipped"]} == {"marked unavailable"}


def test_deactivating_a_user_hands_on_open_mqls_and_sals(client, team, rep, other_rep, admin):
    mql = lead_in_stage(Stage.MQL, owner=rep, team=team)
    sal = lead_in_stage(Stage.SAL, owner=rep, team=team)
    sql = lead_in_stage(Stage.SQL, owner=rep, team=team)
    client.force_login(admin)

    response = client.post(
        reverse("admin:auth_user_changelist"), {"action": "deactivate", "_selected_action": [rep.pk]}, follow=True
    )

    assert response.status_code == 200
    rep.refresh_from_db()
    assert not rep.is_active
    assert Lead.objects.get(pk=mql.pk).owner == other_rep
    assert Lead.objects.get(pk=sal.pk).owner == other_rep
    assert Lead.objects.get(pk=sql.pk).owner == rep
    decision = decision_of(Lead.objects.get(pk=mql.pk), kind=EventKind.REASSIGNED)
    assert decision["winner"] == other_rep.pk
    # Rita also owns the lead's account: the reason says both.
    assert decision["skipped"] == [
        {"id": rep.pk, "name": "Rita Rep", "reason": "owns a lead of the account but is deactivated"}
    ]


def test_hand_on_keeps_leads_nobody_can_take(team, rep, other_rep, admin):
    mql = lead_in_stage(Stage.MQL, owner=rep, team=team)
    TeamMember.objects.filter(user=other_rep).update(is_available=False)

    assert jobs.hand_on_leads(rep, by=admin, now=NOW) == (0, 1)
    assert Lead.objects.get(pk=mql.pk).owner == rep


def test_lead_page_shows_the_routing_decision(client, team, rep, other_rep, marketer):
    OutOfOffice.objects.create(user=rep, starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1))
    lead = promote(team=team)
    client.force_login(marketer)

    page = client.get(lead.get_absolute_url()).content.decode()
    assert "weighted round-robin" in page
    assert "Rita Rep: out of office" in page


def test_the_out_of_office_link_is_offered_to_people_leads_are_routed_to(client, rep, marketer):
    link = f'href="{reverse("leads:out_of_office")}"'
    client.force_login(rep)
    assert link in client.get(reverse("leads:queue")).content.decode()
    client.force_login(marketer)
    assert link not in client.get(reverse("leads:list")).content.decode()


def test_rep_adds_own_out_of_office_period_and_routing_skips_them(client, team, rep, other_rep):
    client.force_login(rep)
    now = timezone.localtime()
    response = client.post(
        reverse("leads:out_of_office"),
        {
            "starts_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            "note": "Holiday",
        },
    )

    assert response.status_code == 302
    assert OutOfOffice.objects.get().user == rep
    assert {routing.pick_owner(team, now=timezone.now()) for _ in range(3)} == {other_rep}
    assert "Holiday" in client.get(reverse("leads:out_of_office")).content.decode()


@pytest.mark.parametrize(
    ("starts", "ends", "error"),
    [
        (1, -1, "must end after it starts"),
        (-3, -2, "over already"),
        (0, 400, "At most 366 days"),
        ("soon", 1, "Enter a valid date/time"),
    ],
)
def test_bad_out_of_office_period_is_a_400_that_saves_nothing(client, rep, starts, ends, error):
    client.force_login(rep)
    now = timezone.localtime()

    def at(days):
        return days if isinstance(days, str) else (now + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")

    response = client.post(reverse("leads:out_of_office"), {"starts_at": at(starts), "ends_at": at(ends)})

    assert response.status_code == 400
    assert error in response.content.decode()
    assert not OutOfOffice.objects.exists()


def test_only_own_periods_can_be_removed(client, rep, other_rep):
    period = OutOfOffice.objects.create(user=other_rep, starts_at=NOW, ends_at=NOW + timedelta(days=1))
    client.force_login(rep)

    assert client.post(reverse("leads:out_of_office_delete", args=[period.pk])).status_code == 404
    assert OutOfOffice.objects.filter(pk=period.pk).exists()
    client.force_login(other_rep)
    assert client.post(reverse("leads:out_of_office_delete", args=[period.pk])).status_code == 302
    assert not OutOfOffice.objects.exists()


def test_fairness_report_compares_assigned_with_expected_by_weight(client, team, rep, other_rep, manager):
    set_weight(rep, 3)
    for _ in range(8):
        promote(team=team)
    OutOfOffice.objects.create(user=rep, starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1))
    for _ in range(2):
        promote(team=team)
    lead_in_stage(Stage.SAL, owner=other_rep, team=team, email="ann@acme.co.uk", now=NOW)
    promote(team=team, email="bob@acme.co.uk")

    today = timezone.localdate()
    query = {"team": team.pk, "date_from": (today - timedelta(days=1)).isoformat(), "date_to": today.isoformat()}
    data = api(manager).get(reverse("api:routing-fairness"), query).json()

    rows = {row["name"]: row for row in data["rows"]}
    # 8 decisions with both reps (3:1 -> 6 and 2 expected), 2 with Oscar alone (and the
    # SAL's own promotion, Oscar alone too); one MQL went to Oscar as the account's rep.
    assert data["decisions"] == 11
    assert (rows["Rita Rep"]["assigned"], rows["Rita Rep"]["expected"]) == (6, 6.0)
    assert (rows["Oscar Other"]["assigned"], rows["Oscar Other"]["expected"], rows["Oscar Other"]["by_account"]) == (
        5,
        5.0,
        1,
    )
    client.force_login(manager)
    page = client.get(reverse("leads:routing_fairness"), query)
    assert page.status_code == 200 and "Expected by weight" in page.content.decode()


def test_fairness_report_refuses_reps_and_bad_periods(client, rep, manager):
    assert api(rep).get(reverse("api:routing-fairness")).status_code == 403
    bad = {"date_from": "2026-05-02", "date_to": "2026-05-01"}
    assert api(manager).get(reverse("api:routing-fairness"), bad).status_code == 400
    assert api(manager).get(reverse("api:routing-fairness"), {"date_from": "yesterday"}).status_code == 400
    client.force_login(manager)
    assert client.get(reverse("leads:routing_fairness"), bad).status_code == 400
    client.force_login(rep)
    assert client.get(reverse("leads:routing_fairness")).status_code == 403


def test_out_of_office_hands_on_open_mqls_once_when_it_starts(team, rep, other_rep):
    mql = lead_in_stage(Stage.MQL, owner=rep, team=team)
    sal = lead_in_stage(Stage.SAL, owner=rep, team=team)
    OutOfOffice.objects.create(
        user=rep, starts_at=NOW + timedelta(hours=1), ends_at=NOW + timedelta(days=2), hand_on=True
    )

    assert jobs.hand_on_out_of_office(now=NOW) == 0  # not started yet
    assert jobs.hand_on_out_of_office(now=NOW + timedelta(hours=2)) == 1
    assert jobs.hand_on_out_of_office(now=NOW + timedelta(hours=3)) == 0  # once

    assert Lead.objects.get(pk=mql.pk).owner == other_rep
    assert Lead.objects.get(pk=sal.pk).owner == rep
    decision = decision_of(Lead.objects.get(pk=mql.pk), kind=EventKind.REASSIGNED)
    assert any(row["reason"].endswith("out of office") for row in decision["skipped"] if row["id"] == rep.pk)


def test_out_of_office_without_hand_on_keeps_the_mqls(team, rep, other_rep):
    mql = lead_in_stage(Stage.MQL, owner=rep, team=team)
    OutOfOffice.objects.create(user=rep, starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(days=2))

    assert jobs.hand_on_out_of_office(now=NOW) == 0
    assert Lead.objects.get(pk=mql.pk).owner == rep
