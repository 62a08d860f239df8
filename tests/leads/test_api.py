"""The REST API as a client sees it: every endpoint, every action with its role
matrix, and every kind of bad input (which must change nothing)."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.middleware.csrf import CSRF_ALLOWED_CHARS
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from leads import transitions
from leads.models import Activity, Lead, LeadEvent, RejectionReason, Stage, Team
from leads.transitions import ConcurrentUpdate

from ..factories import lead_in_stage, make_lead, make_team, make_user

LIST_URL = reverse("api:lead-list")


def api(user=None):
    """A client that authenticates like an API integration: with the user's token."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def detail_url(lead):
    return reverse("api:lead-detail", args=[lead.pk])


def action_url(lead, verb):
    return reverse(f"api:lead-{verb}", args=[lead.pk])


def post_action(user, lead, verb, payload=None):
    return api(user).post(action_url(lead, verb), payload or {}, format="json")


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def snapshot(lead):
    """What a refused or invalid request must leave untouched."""
    lead = Lead.objects.get(pk=lead.pk)
    return (
        lead.stage,
        lead.owner_id,
        lead.team_id,
        lead.version,
        lead.first_follow_up_at,
        lead.rejection_reason_id,
        LeadEvent.objects.filter(lead=lead).count(),
        Activity.objects.filter(lead=lead).count(),
    )


# Authentication ------------------------------------------------------------


def test_anonymous_client_gets_401_with_token_challenge(db):
    response = APIClient().get(LIST_URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_invalid_token_gets_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert client.get(LIST_URL).status_code == 401


def test_token_obtained_with_password_authenticates_later_calls(rep):
    client = APIClient()
    response = client.post(reverse("api:token"), {"username": "rita", "password": "pw-Funnel-2026"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    assert client.get(LIST_URL).status_code == 200
    assert Token.objects.get(user=rep).key == token


def test_token_endpoint_refuses_wrong_password(rep):
    response = APIClient().post(reverse("api:token"), {"username": "rita", "password": "wrong"}, format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not Token.objects.filter(user=rep).exists()


def csrf_client(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_session_write_without_csrf_token_is_refused_and_changes_nothing(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    before = snapshot(lead)
    client = csrf_client(rep)

    assert client.get(detail_url(lead)).status_code == 200  # reads need no token
    response = client.post(action_url(lead, "accept"), {}, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert snapshot(lead) == before


def test_session_write_with_csrf_token_succeeds(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    client = csrf_client(rep)
    secret = get_random_string(32, CSRF_ALLOWED_CHARS)
    client.cookies[settings.CSRF_COOKIE_NAME] = secret

    response = client.post(action_url(lead, "accept"), {}, format="json", HTTP_X_CSRFTOKEN=secret)

    assert response.status_code == 200
    assert Lead.objects.get(pk=lead.pk).stage == Stage.SAL


# Lead list: visibility, filters, ordering, pagination -----------------------


def test_rep_lists_only_own_leads(rep, other_rep, team):
    own = lead_in_stage(Stage.MQL, owner=rep, team=team)
    lead_in_stage(Stage.MQL, owner=other_rep, team=team)

    assert ids(api(rep).get(LIST_URL)) == [own.pk]


def test_manager_lists_the_teams_leads_and_marketer_lists_all(rep, other_rep, manager, marketer, team):
    mine = lead_in_stage(Stage.MQL, owner=rep, team=team)
    theirs = lead_in_stage(Stage.SAL, owner=other_rep, team=team)
    elsewhere = lead_in_stage(Stage.MQL, team=make_team("South"), owner=make_user(role="rep"))
    unrouted = make_lead()

    assert set(ids(api(manager).get(LIST_URL))) == {mine.pk, theirs.pk}
    assert set(ids(api(marketer).get(LIST_URL))) == {mine.pk, theirs.pk, elsewhere.pk, unrouted.pk}


def test_list_shows_owner_team_and_reason_by_name(rep, team):
    lead = lead_in_stage(Stage.REJECTED, owner=rep, team=team, reason_code="personal-email")

    row = api(rep).get(LIST_URL).json()["results"][0]

    assert row["id"] == lead.pk
    assert row["owner"] == rep.pk
    assert row["owner_name"] == "Rita Rep"
    assert row["team"] == team.pk
    assert row["team_name"] == "North"
    assert row["stage"] == "rejected"
    assert row["rejection_reason"] == "personal-email"
    assert row["url"] == f"http://testserver{detail_url(lead)}"


def test_list_filters_by_stage_owner_and_team(rep, other_rep, manager, team):
    mql = lead_in_stage(Stage.MQL, owner=rep, team=team)
    sal = lead_in_stage(Stage.SAL, owner=rep, team=team)
    other = lead_in_stage(Stage.MQL, owner=other_rep, team=team)
    client = api(manager)

    assert set(ids(client.get(LIST_URL, {"stage": "mql"}))) == {mql.pk, other.pk}
    assert set(ids(client.get(LIST_URL, {"owner": rep.pk}))) == {mql.pk, sal.pk}
    assert ids(client.get(LIST_URL, {"owner": rep.pk, "stage": "sal"})) == [sal.pk]
    assert len(ids(client.get(LIST_URL, {"team": team.pk}))) == 3
    assert ids(client.get(LIST_URL, {"team": team.pk + 1000})) == []


def test_list_filters_by_source_campaign_and_priority(marketer):
    webinar = make_lead(source="webinar", campaign="spring-launch", priority="high")
    make_lead(source="organic", campaign="spring-launch")
    make_lead(source="webinar", campaign="autumn")
    client = api(marketer)

    assert len(ids(client.get(LIST_URL, {"source": "webinar"}))) == 2
    assert ids(client.get(LIST_URL, {"source": "webinar", "campaign": "spring-launch"})) == [webinar.pk]
    assert ids(client.get(LIST_URL, {"priority": "high"})) == [webinar.pk]


def test_list_filters_by_creation_and_mql_dates(marketer, team):
    now = timezone.now()
    old = make_lead(now=now - timedelta(days=10))
    recent = make_lead(now=now - timedelta(days=1))
    mql_last_week = lead_in_stage(Stage.MQL, team=team, now=now - timedelta(days=7))
    client = api(marketer)
    three_days_ago = (now - timedelta(days=3)).isoformat()

    assert set(ids(client.get(LIST_URL, {"created_after": three_days_ago}))) == {recent.pk}
    assert set(ids(client.get(LIST_URL, {"created_before": three_days_ago}))) == {old.pk, mql_last_week.pk}
    assert ids(client.get(LIST_URL, {"mql_before": three_days_ago})) == [mql_last_week.pk]
    assert ids(client.get(LIST_URL, {"mql_after": three_days_ago})) == []
    # A bare date means midnight UTC of that day.
    day = (now - timedelta(days=3)).date().isoformat()
    assert set(ids(client.get(LIST_URL, {"created_after": day}))) == {recent.pk}


def test_list_filters_by_sla_breach(rep, team):
    breached = lead_in_stage(Stage.MQL, owner=rep, team=team)
    on_time = lead_in_stage(Stage.MQL, owner=rep, team=team)
    Lead.objects.filter(pk=breached.pk).update(sla_due_at=timezone.now(), sla_breached_at=timezone.now())
    client = api(rep)

    assert ids(client.get(LIST_URL, {"sla_breached": "true"})) == [breached.pk]
    assert ids(client.get(LIST_URL, {"sla_breached": "false"})) == [on_time.pk]


def test_list_searches_name_email_and_company(marketer):
    by_name = make_lead(name="Grace Hopper")
    by_email = make_lead(email="grace@navy.example")
    by_company = make_lead(company="Grace Industries")
    make_lead(name="Alan Turing")

    found = ids(api(marketer).get(LIST_URL, {"q": "grace"}))

    assert set(found) == {by_name.pk, by_email.pk, by_company.pk}


def test_list_orders_by_requested_fields(marketer):
    low = make_lead(name="Bravo")
    high = make_lead(name="Alpha")
    middle = make_lead(name="Charlie")
    for lead, score in [(low, 5), (high, 90), (middle, 40)]:
        Lead.objects.filter(pk=lead.pk).update(score=score)
    client = api(marketer)

    assert ids(client.get(LIST_URL, {"ordering": "-score"})) == [high.pk, middle.pk, low.pk]
    assert ids(client.get(LIST_URL, {"ordering": "name"})) == [high.pk, low.pk, middle.pk]


def test_list_is_paginated(marketer):
    leads = [make_lead() for _ in range(5)]

    first = api(marketer).get(LIST_URL, {"page_size": 2, "ordering": "created_at"}).json()
    last = api(marketer).get(LIST_URL, {"page_size": 2, "ordering": "created_at", "page": 3}).json()

    assert first["count"] == 5
    assert [row["id"] for row in first["results"]] == [leads[0].pk, leads[1].pk]
    assert "page=2" in first["next"]
    assert [row["id"] for row in last["results"]] == [leads[4].pk]
    assert last["next"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"stage": "won"}, "stage"),
        ({"priority": "urgent"}, "priority"),
        ({"owner": "rita"}, "owner"),
        ({"owner": "1.5"}, "owner"),
        ({"owner": str(10**30)}, "owner"),
        ({"team": "-1"}, "team"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2026-02-30"}, "created_before"),
        ({"mql_after": "0001-01-01T00:00:00+05:00"}, "mql_after"),
        ({"mql_before": "31/12/2026"}, "mql_before"),
        ({"sla_breached": "maybe"}, "sla_breached"),
        ({"ordering": "password"}, "ordering"),
        ({"ordering": "score,-owner"}, "ordering"),
        ({"q": "x" * 201}, "q"),
        ({"source": "web\x00inar"}, "source"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "201"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
    ],
)
def test_list_refuses_bad_filter_values_with_400(marketer, query, field):
    response = api(marketer).get(LIST_URL, query)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_empty_filter_values_mean_no_filter(marketer):
    lead = make_lead(source="webinar")

    response = api(marketer).get(LIST_URL, {"stage": "", "owner": "", "created_after": "", "sla_breached": ""})

    assert ids(response) == [lead.pk]


def test_date_filters_accept_any_utc_offset(marketer):
    lead = make_lead()

    # -22:44 is a valid ISO 8601 offset that PostgreSQL itself would refuse.
    response = api(marketer).get(LIST_URL, {"created_after": "2000-01-01T00:00:00-22:44"})

    assert ids(response) == [lead.pk]


def test_list_page_past_the_end_is_404(marketer):
    make_lead()

    response = api(marketer).get(LIST_URL, {"page": 2})

    assert response.status_code == 404


def test_list_query_count_does_not_grow_with_the_number_of_leads(rep, team, django_assert_num_queries):
    client = api(rep)
    lead_in_stage(Stage.MQL, owner=rep, team=team)
    lead_in_stage(Stage.REJECTED, owner=rep, team=team)

    # 1. token with its user and the user's roles (groups), 2. COUNT for the paginator,
    # 3. the page of leads joined with owner, team and rejection reason.
    with django_assert_num_queries(3):
        assert len(ids(client.get(LIST_URL))) == 2

    for _ in range(5):
        lead_in_stage(Stage.REJECTED, owner=rep, team=team)
        lead_in_stage(Stage.SAL, owner=rep, team=team)

    with django_assert_num_queries(3):
        assert len(ids(client.get(LIST_URL))) == 12


def test_manager_list_query_count_adds_only_the_managed_teams(manager, rep, team, django_assert_num_queries):
    client = api(manager)
    for _ in range(4):
        lead_in_stage(Stage.MQL, owner=rep, team=team)

    # 1. token with user and roles, 2. the teams the manager manages, 3. COUNT, 4. the page.
    with django_assert_num_queries(4):
        assert len(ids(client.get(LIST_URL))) == 4


# One lead ------------------------------------------------------------------


def test_rep_gets_own_lead(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)

    response = api(rep).get(detail_url(lead))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == lead.pk
    assert body["email"] == lead.email
    assert body["stage"] == "mql"
    assert body["mql_episode"] == 1
    assert body["sla_due_at"] is not None


def test_rep_gets_404_for_other_reps_lead(rep, other_rep, team):
    lead = lead_in_stage(Stage.MQL, owner=other_rep, team=team)

    response = api(rep).get(detail_url(lead))

    assert response.status_code == 404
    assert response.json() == {"detail": "No Lead matches the given query."}


def test_list_filters_do_not_hide_a_lead_fetched_by_id(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)

    assert api(rep).get(detail_url(lead), {"stage": "sql"}).status_code == 200


@pytest.mark.parametrize("bad_id", ["999999999", "abc", "1.5", str(10**30), "-1", "1%0A", "%C3%A9"])
def test_unknown_or_malformed_lead_id_is_a_json_404(marketer, bad_id):
    for path in [f"/api/leads/{bad_id}/", f"/api/leads/{bad_id}/history/"]:
        response = api(marketer).get(path)
        assert response.status_code == 404, path
        assert "detail" in response.json()
    response = api(marketer).post(f"/api/leads/{bad_id}/accept/", {}, format="json")
    assert response.status_code == 404


def test_unknown_api_url_is_a_json_404(rep):
    response = api(rep).get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_api_url_without_trailing_slash_gets_a_hint(rep):
    response = api(rep).post("/api/leads", {}, format="json")

    assert response.status_code == 404
    assert "end with a slash" in response.json()["detail"]


# Creating leads ------------------------------------------------------------

NEW_LEAD = {
    "name": "Jane Doe",
    "email": "jane.doe@acme.example",
    "phone": "+49 30 1234567",
    "company": "Acme",
    "job_title": "CEO",
    "company_size": 250,
    "country": "de",
    "source": "webinar",
    "campaign": "spring-launch",
    "priority": "high",
}


@pytest.mark.parametrize("role", ["marketer", "admin"])
def test_marketer_or_admin_creates_a_lead(db, request, role):
    user = request.getfixturevalue(role)

    response = api(user).post(LIST_URL, NEW_LEAD, format="json")

    assert response.status_code == 201, response.content
    lead = Lead.objects.get(email="jane.doe@acme.example")
    assert response["Location"] == f"http://testserver{detail_url(lead)}"
    assert response.json()["stage"] == "lead"
    assert lead.country == "DE"
    assert (lead.company_size, lead.company_size_low, lead.company_size_high) == ("250", 250, 250)
    assert lead.priority == "high"
    event = LeadEvent.objects.get(lead=lead)
    assert (event.kind, event.actor, event.to_stage) == ("created", user, "lead")


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_sales_may_not_create_leads(db, request, role):
    user = request.getfixturevalue(role)

    response = api(user).post(LIST_URL, NEW_LEAD, format="json")

    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_sales_gets_403_before_any_validation_of_the_lead(rep):
    response = api(rep).post(LIST_URL, {"email": "not-an-email"}, format="json")

    assert response.status_code == 403


def test_duplicate_email_in_other_case_is_refused_on_the_email_field(marketer):
    make_lead(email="jane.doe@acme.example")

    response = api(marketer).post(LIST_URL, {**NEW_LEAD, "email": "Jane.Doe@ACME.example"}, format="json")

    assert response.status_code == 400
    assert "already exists" in response.json()["email"][0]
    assert Lead.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "jane at acme"}, "email"),
        ({"email": ""}, "email"),
        ({"email": None}, "email"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": " " + "x" * 200}, "name"),
        ({"country": "Germany"}, "country"),
        ({"country": "D1"}, "country"),
        ({"company_size": -1}, "company_size"),
        ({"company_size": "many"}, "company_size"),
        ({"company_size": 10**12}, "company_size"),
        ({"priority": "urgent"}, "priority"),
        ({"name": "Null\x00byte"}, "name"),
    ],
)
def test_create_refuses_bad_input_with_a_field_message(marketer, changes, field):
    response = api(marketer).post(LIST_URL, {**NEW_LEAD, **changes}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Lead.objects.exists()


def test_create_refuses_missing_required_fields(marketer):
    response = api(marketer).post(LIST_URL, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"name", "email"}


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("[1, 2]", "application/json", 400),
        ('"a string"', "application/json", 400),
        ("null", "application/json", 400),
        ('{"name": ', "application/json", 400),
        ("name=Jane", "text/plain", 415),
    ],
)
def test_create_refuses_bodies_that_are_not_an_object(marketer, body, content_type, status):
    response = api(marketer).generic("POST", LIST_URL, body, content_type=content_type)

    assert response.status_code == status
    assert not Lead.objects.exists()


def test_methods_the_api_does_not_offer_are_405(marketer):
    lead = make_lead()

    assert api(marketer).delete(detail_url(lead)).status_code == 405
    assert api(marketer).put(detail_url(lead), {"stage": "sql"}, format="json").status_code == 405
    assert api(marketer).get(action_url(lead, "accept")).status_code == 405
    assert Lead.objects.get(pk=lead.pk).stage == Stage.LEAD


# Actions: role matrix --------------------------------------------------------

# verb, stage the lead starts in, a valid payload, stage it ends in
SALES_ACTIONS = [
    ("accept", Stage.MQL, {"note": "called back"}, Stage.SAL),
    ("reject", Stage.MQL, {"reason": "no-budget", "note": "no money this year"}, Stage.REJECTED),
    ("qualify", Stage.SAL, {}, Stage.SQL),
    ("disqualify", Stage.SAL, {"reason": "not-decision-maker"}, Stage.REJECTED),
    ("activities", Stage.MQL, {"kind": "call", "note": "left a voicemail"}, Stage.MQL),
]


@pytest.mark.parametrize(("verb", "stage", "payload", "target"), SALES_ACTIONS)
@pytest.mark.parametrize("actor", ["rep", "manager"])
def test_owner_or_manager_performs_sales_actions(request, rep, team, actor, verb, stage, payload, target):
    lead = lead_in_stage(stage, owner=rep, team=team)
    events_before = LeadEvent.objects.filter(lead=lead).count()
    user = request.getfixturevalue(actor)

    response = post_action(user, lead, verb, payload)

    assert response.status_code == 200, response.content
    assert response.json()["stage"] == target
    lead.refresh_from_db()
    assert lead.stage == target
    assert LeadEvent.objects.filter(lead=lead).count() == events_before + 1
    assert LeadEvent.objects.filter(lead=lead).last().actor == user


@pytest.mark.parametrize(("verb", "stage", "payload", "target"), SALES_ACTIONS)
def test_rep_gets_404_for_actions_on_other_reps_lead(rep, other_rep, team, verb, stage, payload, target):
    lead = lead_in_stage(stage, owner=other_rep, team=team)
    before = snapshot(lead)

    response = post_action(rep, lead, verb, payload)

    assert response.status_code == 404
    assert snapshot(lead) == before


@pytest.mark.parametrize(("verb", "stage", "payload", "target"), SALES_ACTIONS)
def test_marketer_sees_the_lead_but_may_not_perform_sales_actions(marketer, rep, team, verb, stage, payload, target):
    lead = lead_in_stage(stage, owner=rep, team=team)
    before = snapshot(lead)

    response = post_action(marketer, lead, verb, payload)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert snapshot(lead) == before


def test_manager_of_another_team_gets_404(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    south = make_team("South")
    stranger = make_user("sam", role="manager", team=south, team_role="manager")
    before = snapshot(lead)

    assert post_action(stranger, lead, "accept").status_code == 404
    assert snapshot(lead) == before


def test_activity_on_an_awaiting_mql_is_its_first_follow_up(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    occurred_at = timezone.now() - timedelta(minutes=5)

    response = post_action(rep, lead, "activities", {"kind": "meeting", "occurred_at": occurred_at.isoformat()})

    assert response.status_code == 200
    activity = Activity.objects.get(lead=lead)
    assert (activity.kind, activity.actor, activity.occurred_at) == ("meeting", rep, occurred_at)
    assert response.json()["first_follow_up_at"] is not None


def test_reject_records_reason_and_note_in_history(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)

    response = post_action(rep, lead, "reject", {"reason": "personal-email", "note": "gmail address"})

    assert response.json()["rejection_reason"] == "personal-email"
    event = LeadEvent.objects.filter(lead=lead).last()
    assert (event.kind, event.reason.code, event.note) == ("rejected", "personal-email", "gmail address")


@pytest.mark.parametrize("role", ["marketer", "admin"])
def test_marketer_or_admin_promotes_a_lead_and_it_is_routed(request, rep, team, role):
    lead = lead_in_stage(Stage.LEAD, team=team)

    response = post_action(request.getfixturevalue(role), lead, "promote", {"team": team.pk})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["stage"] == "mql"
    assert body["owner"] == rep.pk
    assert body["team"] == team.pk
    assert body["sla_due_at"] is not None


def test_promote_without_team_uses_the_leads_team(marketer, rep, team):
    lead = lead_in_stage(Stage.LEAD, team=team)

    response = post_action(marketer, lead, "promote")

    assert response.status_code == 200
    assert response.json()["team"] == team.pk


def test_manager_may_not_promote(manager, team):
    lead = lead_in_stage(Stage.LEAD, team=team)
    before = snapshot(lead)

    response = post_action(manager, lead, "promote")

    assert response.status_code == 403
    assert snapshot(lead) == before


def test_rep_gets_404_for_an_unrouted_lead(rep, team):
    lead = lead_in_stage(Stage.LEAD, team=team)

    assert post_action(rep, lead, "promote").status_code == 404


def test_marketer_recycles_a_rejected_lead(marketer, rep, team):
    lead = lead_in_stage(Stage.REJECTED, owner=rep, team=team)

    response = post_action(marketer, lead, "recycle", {"note": "new budget year"})

    assert response.status_code == 200
    assert response.json()["stage"] == "lead"
    assert response.json()["owner"] is None
    assert Lead.objects.get(pk=lead.pk).stage == Stage.LEAD


def test_rep_may_not_recycle_own_rejected_lead(rep, team):
    lead = lead_in_stage(Stage.REJECTED, owner=rep, team=team)
    before = snapshot(lead)

    response = post_action(rep, lead, "recycle")

    assert response.status_code == 403
    assert snapshot(lead) == before


def test_manager_reassigns_a_lead_to_another_rep(manager, rep, other_rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)

    response = post_action(manager, lead, "reassign", {"to": other_rep.pk, "note": "Rita is on holiday"})

    assert response.status_code == 200
    assert response.json()["owner"] == other_rep.pk
    assert response.json()["owner_name"] == "Oscar Other"
    assert Lead.objects.get(pk=lead.pk).owner == other_rep


@pytest.mark.parametrize("actor", ["rep", "marketer"])
def test_only_managers_reassign(request, rep, other_rep, team, actor):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    before = snapshot(lead)

    response = post_action(request.getfixturevalue(actor), lead, "reassign", {"to": other_rep.pk})

    assert response.status_code == 403
    assert snapshot(lead) == before


# Actions: refused moves and bad input change nothing -------------------------


@pytest.mark.parametrize(
    ("actor", "verb", "stage", "payload"),
    [
        ("rep", "accept", Stage.SAL, {}),
        ("rep", "accept", Stage.REJECTED, {}),
        ("rep", "reject", Stage.SQL, {"reason": "no-budget"}),
        ("rep", "qualify", Stage.MQL, {}),
        ("rep", "disqualify", Stage.MQL, {"reason": "no-budget"}),
        ("rep", "activities", Stage.REJECTED, {"kind": "call"}),
        ("manager", "qualify", Stage.SQL, {}),
        ("manager", "reassign", Stage.REJECTED, {"to": "other_rep"}),
        ("marketer", "promote", Stage.MQL, {}),
        ("marketer", "promote", Stage.SAL, {}),
        ("marketer", "recycle", Stage.MQL, {}),
        ("marketer", "recycle", Stage.SQL, {}),
    ],
)
def test_refused_move_is_409_and_changes_nothing(request, rep, other_rep, team, actor, verb, stage, payload):
    lead = lead_in_stage(stage, owner=rep, team=team)
    payload = {key: (other_rep.pk if value == "other_rep" else value) for key, value in payload.items()}
    before = snapshot(lead)

    response = post_action(request.getfixturevalue(actor), lead, verb, payload)

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "conflict"
    assert "Cannot" in body["detail"]
    assert snapshot(lead) == before


def test_reassign_to_the_current_owner_is_409(manager, rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    before = snapshot(lead)

    response = post_action(manager, lead, "reassign", {"to": rep.pk})

    assert response.status_code == 409
    assert snapshot(lead) == before


def test_concurrent_update_is_409(monkeypatch, rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)

    def lose_the_race(lead, **kwargs):
        raise ConcurrentUpdate("Someone else changed this lead at the same moment; reload it and try again.")

    monkeypatch.setattr(transitions, "accept_lead", lose_the_race)

    response = post_action(rep, lead, "accept")

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


@pytest.mark.parametrize("verb,stage", [("reject", Stage.MQL), ("disqualify", Stage.SAL)])
@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "A rejection reason is required."),
        ({"reason": ""}, "A rejection reason is required."),
        ({"reason": None}, "This field may not be null."),
        ({"reason": "no-such-reason"}, "Unknown rejection reason 'no-such-reason'."),
        ({"reason": "retired"}, "The rejection reason 'retired' is no longer in use."),
    ],
)
def test_missing_or_unknown_reason_is_400_and_changes_nothing(rep, team, verb, stage, payload, message):
    RejectionReason.objects.create(code="retired", label="Retired reason", is_active=False)
    lead = lead_in_stage(stage, owner=rep, team=team)
    before = snapshot(lead)

    response = post_action(rep, lead, verb, payload)

    assert response.status_code == 400
    assert response.json() == {"reason": [message]}
    assert snapshot(lead) == before


LONG_NOTE = "x" * (transitions.MAX_NOTE_LENGTH + 1)


@pytest.mark.parametrize(
    ("verb", "stage", "payload", "field"),
    [
        ("accept", Stage.MQL, {"note": LONG_NOTE}, "note"),
        ("reject", Stage.MQL, {"reason": "no-budget", "note": LONG_NOTE}, "note"),
        ("reject", Stage.MQL, {"reason": ["no-budget"]}, "reason"),
        ("qualify", Stage.SAL, {"note": {"text": "hi"}}, "note"),
        ("recycle", Stage.REJECTED, {"note": LONG_NOTE}, "note"),
        ("promote", Stage.LEAD, {"team": "north"}, "team"),
        ("promote", Stage.LEAD, {"team": 999999}, "team"),
        ("promote", Stage.LEAD, {"team": 10**30}, "team"),
        ("promote", Stage.LEAD, {"team": "inactive"}, "team"),
        ("reassign", Stage.MQL, {}, "to"),
        ("reassign", Stage.MQL, {"to": "oscar"}, "to"),
        ("reassign", Stage.MQL, {"to": 999999}, "to"),
        ("reassign", Stage.MQL, {"to": -1}, "to"),
        ("reassign", Stage.MQL, {"to": "not-a-rep"}, "to"),
        ("activities", Stage.MQL, {}, "kind"),
        ("activities", Stage.MQL, {"kind": "fax"}, "kind"),
        ("activities", Stage.MQL, {"kind": "webinar"}, "kind"),
        ("activities", Stage.MQL, {"kind": "call", "occurred_at": "yesterday"}, "occurred_at"),
        ("activities", Stage.MQL, {"kind": "call", "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ("activities", Stage.MQL, {"kind": "call", "occurred_at": "0001-01-01T00:00:00+05:00"}, "occurred_at"),
        ("activities", Stage.MQL, {"kind": "call", "note": LONG_NOTE}, "note"),
    ],
)
def test_bad_action_input_is_400_on_the_field_and_changes_nothing(admin, rep, team, verb, stage, payload, field):
    lead = lead_in_stage(stage, owner=rep, team=team)
    if payload.get("team") == "inactive":
        payload = {"team": Team.objects.create(name="Closed", is_active=False).pk}
    if payload.get("to") == "not-a-rep":
        payload = {"to": admin.pk}
    before = snapshot(lead)

    response = post_action(admin, lead, verb, payload)

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert snapshot(lead) == before


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("[]", "application/json", 400),
        ("42", "application/json", 400),
        ("{not json", "application/json", 400),
        ("<note/>", "application/xml", 415),
    ],
)
def test_action_refuses_bodies_that_are_not_an_object(rep, team, body, content_type, status):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    before = snapshot(lead)

    response = api(rep).generic("POST", action_url(lead, "reject"), body, content_type=content_type)

    assert response.status_code == status
    assert snapshot(lead) == before


def test_action_accepts_form_encoded_input(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)

    response = api(rep).post(action_url(lead, "reject"), {"reason": "no-budget"})

    assert response.status_code == 200
    assert Lead.objects.get(pk=lead.pk).stage == Stage.REJECTED


# History and rejection reasons ------------------------------------------------


def test_history_lists_every_event_oldest_first(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    post_action(rep, lead, "activities", {"kind": "call", "note": "no answer"})
    post_action(rep, lead, "reject", {"reason": "no-budget", "note": "next year"})

    response = api(rep).get(action_url(lead, "history"))

    assert response.status_code == 200
    events = response.json()
    assert [event["kind"] for event in events] == ["created", "promoted", "activity", "rejected"]
    created, promoted, activity, rejected = events
    assert (created["actor"], created["actor_username"], created["from_stage"]) == (None, None, "")
    assert (promoted["from_stage"], promoted["to_stage"], promoted["episode"]) == ("lead", "mql", 1)
    assert activity["payload"]["activity_kind"] == "call"
    assert activity["note"] == "no answer"
    assert rejected["actor"] == rep.pk
    assert rejected["actor_username"] == "rita"
    assert (rejected["reason"], rejected["reason_label"]) == ("no-budget", "No budget")
    assert rejected["note"] == "next year"
    assert rejected["payload"] == {"reason_code": "no-budget"}


def test_history_of_other_reps_lead_is_404(rep, other_rep, team):
    lead = lead_in_stage(Stage.MQL, owner=other_rep, team=team)

    assert api(rep).get(action_url(lead, "history")).status_code == 404


def test_history_query_count_does_not_grow_with_events(rep, team, django_assert_num_queries):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    client = api(rep)

    # 1. token with user and roles, 2. the lead, 3. its events joined with actor and reason.
    with django_assert_num_queries(3):
        assert len(client.get(action_url(lead, "history")).json()) == 2

    for kind in ["call", "email", "meeting"]:
        transitions.log_activity(lead, by=rep, kind=kind)
    with django_assert_num_queries(3):
        assert len(client.get(action_url(lead, "history")).json()) == 5


def test_rejection_reasons_lists_active_codes_in_order(rep):
    RejectionReason.objects.filter(code="competitor").update(is_active=False)

    response = api(rep).get(reverse("api:rejection-reasons"))

    assert response.status_code == 200
    reasons = response.json()
    codes = [reason["code"] for reason in reasons]
    assert codes[:2] == ["missing-phone", "personal-email"]
    assert "competitor" not in codes
    assert {"code": "no-budget", "label": "No budget"} in reasons


def test_error_bodies_are_json_objects(rep, team):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team)

    response = post_action(rep, lead, "accept")

    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "detail": "Cannot accept a lead in stage SAL (accepted): only a lead in stage MQL can.",
        "code": "conflict",
    }


@pytest.mark.parametrize("role", ["rep", "marketer"])
def test_browsable_api_renders_for_a_signed_in_user(request, rep, team, role):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    client = APIClient()
    client.force_login(request.getfixturevalue(role))

    for url in [LIST_URL, detail_url(lead), action_url(lead, "history"), action_url(lead, "reject")]:
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code in (200, 405), url
        assert response["Content-Type"].startswith("text/html"), url
