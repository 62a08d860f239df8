"""POST /api/activities/: behaviour events from integrations, one or a batch, idempotent
by external_id, scored at once; every bad request is a 400 that stores nothing."""

import json
import re
import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from leads import activities, scoring
from leads.api.activities import MAX_BATCH
from leads.models import (
    Activity,
    ActivityKind,
    EventKind,
    Lead,
    LeadEvent,
    LeadRuleScore,
    MqlEpisode,
    ScoringConfig,
    ScoringRule,
    Stage,
)

from ..factories import lead_in_stage, make_lead
from .test_api import api

URL = reverse("api:activities")
B = ScoringRule.Category.BEHAVIOUR


def rule(name, points, *, cap=None, **fields):
    return ScoringRule.objects.create(name=name, category=B, points=points, cap=cap, **fields)


def set_threshold(value):
    # current(): a transactional test's flush also empties the row migration 0007 created.
    config = ScoringConfig.current()
    config.mql_threshold = value
    config.save()


@pytest.fixture
def rules(db):
    set_threshold(1000)
    return {
        "pricing": rule("Visited /pricing", 15, cap=45, activity_kind="website_visit", url_contains="/pricing"),
        "careers": rule("Visited /careers", -10, cap=20, activity_kind="website_visit", url_contains="/careers"),
        "webinar": rule("Attended webinar", 25, activity_kind="webinar"),
        "download": rule("Downloaded content", 5, cap=10, activity_kind="content_download"),
    }


def post(user, payload):
    return api(user).post(URL, payload, format="json")


def visit(lead, path="/pricing", **extra):
    return {"lead": lead.pk, "kind": "website_visit", "url": path, **extra}


def stored():
    """What a refused request must leave untouched."""
    return (
        Activity.objects.count(),
        LeadRuleScore.objects.count(),
        LeadEvent.objects.count(),
        sorted(Lead.objects.values_list("id", "score", "stage", "version")),
    )


def full_rescore(lead):
    """The score a from-scratch recomputation gives (and stores: it must change nothing)."""
    before = set(LeadRuleScore.objects.filter(lead=lead).values_list("rule_id", "matches", "points"))
    score = scoring.score_lead(lead).score
    after = set(LeadRuleScore.objects.filter(lead=lead).values_list("rule_id", "matches", "points"))
    assert before == after
    return score


# Recording ---------------------------------------------------------------------


def test_marketer_records_one_activity_by_email_in_any_case(marketer, rules):
    lead = make_lead(email="Ceo@Acme.example")

    response = post(marketer, {"email": "ceo@ACME.example", "kind": "webinar", "note": "Q4 launch webinar"})

    assert response.status_code == 201, response.content
    activity = Activity.objects.get(lead=lead)
    assert response.json() == {
        "created": 1,
        "duplicates": 0,
        "items": [{"index": 0, "id": activity.pk, "status": "created", "lead": lead.pk, "score": 25, "stage": "lead"}],
    }
    assert (activity.kind, activity.actor, activity.note, activity.external_id) == (
        "webinar",
        marketer,
        "Q4 launch webinar",
        None,
    )
    assert Lead.objects.get(pk=lead.pk).score == 25


def test_batch_records_every_item_by_id_or_email_and_answers_in_order(admin, rules):
    first, second = make_lead(), make_lead(email="buyer@globex.example")
    at = timezone.now() - timedelta(days=3)
    payload = [
        visit(first, "https://www.funnel.example/pricing?plan=pro", occurred_at=at.isoformat(), external_id="e-1"),
        {"email": "buyer@globex.example", "kind": "content_download", "url": "/whitepaper.pdf", "external_id": "e-2"},
        {"lead": first.pk, "kind": "email_click", "url": "https://mail.example/c/1"},
        {"lead": second.pk, "kind": "social"},
    ]

    response = post(admin, payload)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["created"], body["duplicates"]) == (4, 0)
    assert [(i["index"], i["status"], i["lead"], i["score"]) for i in body["items"]] == [
        (0, "created", first.pk, 15),
        (1, "created", second.pk, 5),
        (2, "created", first.pk, 15),
        (3, "created", second.pk, 5),
    ]
    activities = {a.pk: a for a in Activity.objects.all()}
    assert [activities[i["id"]].kind for i in body["items"]] == [
        "website_visit",
        "content_download",
        "email_click",
        "social",
    ]
    assert activities[body["items"][0]["id"]].occurred_at == at
    assert activities[body["items"][1]["id"]].url == "/whitepaper.pdf"


def test_occurred_at_defaults_to_now_and_tolerates_a_little_clock_skew(marketer, rules):
    lead = make_lead()
    ahead = timezone.now() + timedelta(minutes=2)

    response = post(
        marketer,
        [{"lead": lead.pk, "kind": "webinar"}, {"lead": lead.pk, "kind": "social", "occurred_at": ahead.isoformat()}],
    )

    assert response.status_code == 201, response.content
    default, skewed = Activity.objects.order_by("id")
    assert abs(default.occurred_at - timezone.now()) < timedelta(minutes=1)
    assert skewed.occurred_at == ahead


# Scoring -----------------------------------------------------------------------


def test_score_grows_incrementally_and_equals_a_full_rescore(marketer, rules):
    lead, other = make_lead(), make_lead()
    batches = [
        [visit(lead), visit(lead, "/careers"), {"lead": lead.pk, "kind": "webinar"}, visit(other)],
        [visit(lead), visit(lead), visit(lead), {"lead": other.pk, "kind": "content_download", "url": "/a.pdf"}],
        [visit(lead, "/careers")] * 3 + [{"lead": other.pk, "kind": "content_download"}] * 3,
    ]
    scores = []
    for batch in batches:
        response = post(marketer, batch)
        assert response.status_code == 201, response.content
        scores.append((Lead.objects.get(pk=lead.pk).score, Lead.objects.get(pk=other.pk).score))

    # pricing 15/visit capped at 45, careers -10/visit capped at -20, webinar 25, downloads 5 capped at 10
    assert scores == [(15 - 10 + 25, 15), (45 - 10 + 25, 15 + 5), (45 - 20 + 25, 15 + 10)]
    assert full_rescore(lead) == 50
    assert full_rescore(other) == 25
    changes = LeadEvent.objects.filter(lead=lead, kind=EventKind.SCORE_CHANGED, payload__cause="activity")
    assert [(e.payload["from"], e.payload["to"]) for e in changes.order_by("id")] == [(0, 30), (30, 60), (60, 50)]


def test_batch_scoring_writes_what_one_activity_at_a_time_writes(marketer, rules):
    """One batch of activities against the same activities applied one at a time, on a twin lead."""
    via_api, one_by_one = make_lead(), make_lead()
    specs = [
        ("website_visit", "/pricing"),
        ("webinar", ""),
        ("website_visit", "/careers"),
        ("website_visit", "/pricing"),
    ]
    specs += [("content_download", "/x.pdf")] * 3 + [("website_visit", "/pricing")] * 2 + [("social", "")]

    response = post(marketer, [{"lead": via_api.pk, "kind": kind, "url": url} for kind, url in specs])
    assert response.status_code == 201, response.content
    for kind, url in specs:
        activity = Activity.objects.create(lead=one_by_one, kind=kind, url=url)
        activities.apply_activities([activity], now=timezone.now())

    def shares(lead):
        return sorted(LeadRuleScore.objects.filter(lead=lead).values_list("rule_id", "matches", "points"))

    assert shares(via_api) == shares(one_by_one)
    assert Lead.objects.get(pk=via_api.pk).score == Lead.objects.get(pk=one_by_one.pk).score == 45 + 25 - 10 + 10


def test_reaching_the_threshold_promotes_and_routes_the_lead_once(marketer, rules, rep, other_rep):
    set_threshold(50)
    lead = make_lead()

    first = post(marketer, [visit(lead), visit(lead)])
    assert first.json()["items"][0]["stage"] == "lead"
    second = post(marketer, [{"lead": lead.pk, "kind": "webinar"}, {"lead": lead.pk, "kind": "webinar"}])
    third = post(marketer, [{"lead": lead.pk, "kind": "webinar"}])

    assert [item["stage"] for item in second.json()["items"]] == ["mql", "mql"]
    assert [item["score"] for item in second.json()["items"]] == [80, 80]
    lead.refresh_from_db()
    assert third.json()["items"][0]["score"] == lead.score == 105
    assert lead.stage == Stage.MQL
    assert lead.owner in (rep, other_rep)
    assert lead.sla_due_at is not None
    promoted = LeadEvent.objects.get(lead=lead, kind=EventKind.PROMOTED)
    assert promoted.actor is None
    assert "reached 50" in promoted.note
    assert MqlEpisode.objects.filter(lead=lead).count() == 1


# Idempotency -------------------------------------------------------------------


def test_retried_delivery_is_stored_and_scored_once(marketer, rules):
    lead = make_lead()
    batch = [visit(lead, external_id="v-1"), {"lead": lead.pk, "kind": "webinar", "external_id": "w-1"}]
    first = post(marketer, batch)
    before = stored()

    retry = post(marketer, batch)

    assert first.status_code == 201
    assert retry.status_code == 200, retry.content
    assert (retry.json()["created"], retry.json()["duplicates"]) == (0, 2)
    assert [i["status"] for i in retry.json()["items"]] == ["duplicate", "duplicate"]
    assert [i["id"] for i in retry.json()["items"]] == [i["id"] for i in first.json()["items"]]
    assert [i["score"] for i in retry.json()["items"]] == [40, 40]
    assert stored() == before


def test_a_partly_retried_batch_stores_only_the_new_items(marketer, rules):
    lead = make_lead()
    post(marketer, [visit(lead, external_id="v-1")])

    response = post(marketer, [visit(lead, external_id="v-1"), visit(lead, external_id="v-2"), visit(lead)])

    assert response.status_code == 201
    assert [i["status"] for i in response.json()["items"]] == ["duplicate", "created", "created"]
    assert Activity.objects.filter(lead=lead).count() == 3
    assert Lead.objects.get(pk=lead.pk).score == 45


def test_an_external_id_repeated_within_one_batch_is_stored_once(marketer, rules):
    lead = make_lead()

    response = post(marketer, [visit(lead, external_id="same"), visit(lead, external_id="same")])

    items = response.json()["items"]
    assert [i["status"] for i in items] == ["created", "duplicate"]
    assert items[0]["id"] == items[1]["id"]
    assert Activity.objects.filter(lead=lead).count() == 1
    assert Lead.objects.get(pk=lead.pk).score == 15


def race(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # surfaced by the assertion below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(isinstance(result, Exception) or result is None for result in results), results
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_identical_deliveries_at_once_store_and_score_each_activity_once(marketer, attempt):
    set_threshold(10_000)
    rule("Attended webinar", 25, activity_kind="webinar")
    leads = [make_lead() for _ in range(5)]
    batch = [
        {"lead": lead.pk, "kind": "webinar", "external_id": f"w-{lead.pk}-{n}"} for lead in leads for n in range(4)
    ]

    responses = race(*[lambda: post(marketer, batch)] * 3)

    assert sorted(r.status_code for r in responses) == [200, 200, 201], [r.content for r in responses]
    assert Activity.objects.count() == len(batch)
    ids = {tuple(i["id"] for i in r.json()["items"]) for r in responses}
    assert len(ids) == 1
    for lead in leads:
        assert Lead.objects.get(pk=lead.pk).score == 100
        assert full_rescore(lead) == 100


@pytest.mark.django_db(transaction=True)
def test_overlapping_deliveries_at_once_neither_deadlock_nor_double_count(marketer):
    set_threshold(10_000)
    rule("Attended webinar", 25, activity_kind="webinar")
    leads = [make_lead() for _ in range(6)]
    items = [{"lead": lead.pk, "kind": "webinar", "external_id": f"w-{n}"} for n, lead in enumerate(leads * 3)]
    # Overlapping slices in opposite orders: without ordered inserts and locks they could deadlock.
    first, second = items[:12], items[6:][::-1]

    responses = race(lambda: post(marketer, first), lambda: post(marketer, second))

    assert all(r.status_code in (200, 201) for r in responses), [r.content for r in responses]
    assert Activity.objects.count() == len(items)
    for lead in leads:
        assert Lead.objects.get(pk=lead.pk).score == full_rescore(lead) == 75


# Bad input: 400 with field messages, nothing stored ----------------------------


def test_more_than_1000_items_is_refused_and_stores_nothing(marketer, rules):
    lead = make_lead()
    before = stored()

    response = post(marketer, [visit(lead)] * (MAX_BATCH + 1))

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Send at most 1,000 activities per request; this one has 1,001."]}
    assert stored() == before


def test_exactly_1000_items_are_accepted(marketer, rules):
    leads = [make_lead() for _ in range(4)]

    response = post(marketer, [visit(leads[n % 4], external_id=f"v-{n}") for n in range(MAX_BATCH)])

    assert response.status_code == 201
    assert response.json()["created"] == MAX_BATCH
    assert {Lead.objects.get(pk=lead.pk).score for lead in leads} == {45}


def test_a_full_batch_on_1000_different_leads_named_by_email(marketer, rules):
    Lead.objects.bulk_create(Lead(name=f"Bulk {n}", email=f"bulk{n}@globex.example") for n in range(MAX_BATCH))
    kinds = [("website_visit", "/pricing"), ("webinar", ""), ("content_download", "/a.pdf"), ("social", "")]
    batch = [
        {"email": f"BULK{n}@globex.example", "kind": kinds[n % 4][0], "url": kinds[n % 4][1], "external_id": f"b-{n}"}
        for n in range(MAX_BATCH)
    ]

    response = post(marketer, batch)

    assert response.status_code == 201, response.content[:500]
    assert [item["score"] for item in response.json()["items"][:4]] == [15, 25, 5, 0]
    scores = dict(Lead.objects.filter(email__startswith="bulk").values_list("email", "score"))
    assert sorted(scores.values()) == sorted([15, 25, 5, 0] * (MAX_BATCH // 4))
    assert LeadEvent.objects.filter(kind=EventKind.SCORE_CHANGED).count() == MAX_BATCH * 3 // 4


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[]", "The list is empty: send at least one activity."),
        ('"webinar"', "Send one activity (a JSON object) or a list of them."),
        ("null", "Send one activity (a JSON object) or a list of them."),
        ("42", "Send one activity (a JSON object) or a list of them."),
    ],
)
def test_a_body_that_is_not_activities_is_refused(marketer, body, message):
    response = api(marketer).post(URL, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [message]}


def test_an_empty_body_asks_for_the_fields(marketer):
    response = api(marketer).post(URL, "", content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"kind": ["This field is required."]}


def test_a_list_item_that_is_not_an_object_is_named(marketer):
    response = post(marketer, [42])

    assert response.status_code == 400
    assert response.json() == {
        "items": {"0": {"non_field_errors": ["Invalid data. Expected a dictionary, but got int."]}}
    }


def test_malformed_json_is_refused(marketer):
    response = api(marketer).post(URL, '[{"kind": ', content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_one_bad_item_refuses_the_whole_batch_naming_its_index_and_field(marketer, rules):
    lead = make_lead()
    before = stored()
    batch = [visit(lead, external_id=f"v-{n}") for n in range(5)]
    batch[3] = {"lead": lead.pk, "kind": "webinar", "occurred_at": "yesterday"}

    response = post(marketer, batch)

    assert response.status_code == 400
    errors = response.json()["items"]
    assert list(errors) == ["3"]
    assert list(errors["3"]) == ["occurred_at"]
    assert "Datetime has wrong format" in errors["3"]["occurred_at"][0]
    assert stored() == before


def test_unknown_lead_id_or_email_is_refused_per_item(marketer, rules):
    lead = make_lead()
    before = stored()

    response = post(
        marketer,
        [visit(lead), {"lead": 987654, "kind": "webinar"}, {"email": "nobody@nowhere.example", "kind": "social"}],
    )

    assert response.status_code == 400
    assert response.json() == {
        "items": {
            "1": {"lead": ["No lead has the id 987654."]},
            "2": {"email": ["No lead has the e-mail address nobody@nowhere.example."]},
        }
    }
    assert stored() == before


def test_unknown_lead_in_a_single_object_is_a_plain_field_error(marketer):
    response = post(marketer, {"lead": 987654, "kind": "webinar"})

    assert response.status_code == 400
    assert response.json() == {"lead": ["No lead has the id 987654."]}


@pytest.mark.parametrize(
    ("item", "field", "fragment"),
    [
        ({"kind": "tweet"}, "kind", "'tweet' is not a kind of activity; choose one of email_click, website_visit"),
        (
            {"kind": "call"},
            "kind",
            "'call' is a sales activity: the rep logs it on the lead with POST /api/leads/{id}/activities/",
        ),
        ({"kind": ["webinar"]}, "kind", "is not a kind of activity"),
        ({"kind": "webinar", "occurred_at": "2026-13-45T25:00:00Z"}, "occurred_at", "Datetime has wrong format"),
        ({"kind": "webinar", "occurred_at": "1999-12-31T23:59:59Z"}, "occurred_at", "before 2000"),
        ({"kind": "webinar", "occurred_at": "0001-01-01T00:00:00+01:00"}, "occurred_at", ""),
        ({"kind": "webinar", "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at", "in the future"),
        ({"kind": "website_visit"}, "url", "A website visit needs the URL or path"),
        ({"kind": "website_visit", "url": ""}, "url", "A website visit needs the URL or path"),
        ({"kind": "website_visit", "url": "pricing page"}, "url", "absolute http(s) URL or a path starting with /"),
        ({"kind": "website_visit", "url": "javascript:alert(1)"}, "url", "absolute http(s) URL"),
        ({"kind": "website_visit", "url": "//evil.example/x"}, "url", "absolute http(s) URL"),
        ({"kind": "website_visit", "url": "/a b"}, "url", "absolute http(s) URL"),
        ({"kind": "website_visit", "url": "/" + "p" * 500}, "url", "no more than 500 characters"),
        ({"kind": "webinar", "note": "n" * 2001}, "note", "no more than 2000 characters"),
        ({"kind": "webinar", "external_id": "x" * 101}, "external_id", "no more than 100 characters"),
        ({"kind": "webinar", "external_id": "a\x00b"}, "external_id", "Null characters are not allowed"),
        ({"kind": "webinar", "lead": "abc"}, "lead", "A valid integer is required"),
        ({"kind": "webinar", "lead": 0}, "lead", "greater than or equal to 1"),
        ({"kind": "webinar", "lead": 2**64}, "lead", "less than or equal to"),
        ({"kind": "webinar", "email": "not-an-address"}, "email", "Enter a valid email address"),
        ({"kind": "webinar", "email": "a@b.example"}, "lead", "not both"),
        ({"kind": "webinar", "lead": None}, "lead", "may not be null"),
    ],
)
def test_bad_item_gets_a_field_message_and_stores_nothing(marketer, rules, item, field, fragment):
    lead = make_lead()
    item = {**item}
    if ("lead" not in item and "email" not in item) or item.get("email") == "a@b.example":
        item["lead"] = lead.pk
    before = stored()

    single = post(marketer, item)
    batch = post(marketer, [visit(lead), item])

    assert single.status_code == 400, single.content
    assert field in single.json(), single.json()
    assert fragment in single.json()[field][0]
    assert batch.status_code == 400
    # The future-time message names the server's clock, which may tick between the requests.
    assert without_clock(batch.json()) == without_clock({"items": {"1": single.json()}})
    assert stored() == before


def without_clock(body):
    return json.loads(re.sub(r"now is [0-9T:Z-]+", "now is <now>", json.dumps(body)))


def test_item_without_lead_or_email_is_refused(marketer):
    response = post(marketer, {"kind": "webinar"})

    assert response.status_code == 400
    assert response.json() == {"lead": ["Identify the lead: give its id (lead) or its e-mail address (email)."]}


@pytest.mark.parametrize(
    "url", ["/pricing", "/pricing?utm_source=x#plans", "https://funnel.example/pricing", "http://localhost:8000/p"]
)
def test_absolute_urls_and_paths_are_accepted(marketer, rules, url):
    lead = make_lead()

    response = post(marketer, visit(lead, url))

    assert response.status_code == 201, response.content
    assert Activity.objects.get(lead=lead).url == url


def test_a_delivery_that_keeps_colliding_gets_409_and_stores_nothing(marketer, rules, monkeypatch):
    lead = make_lead()
    before = stored()

    def collide(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(Activity.objects, "bulk_create", collide)
    response = post(marketer, [visit(lead, external_id="v-1")])

    assert response.status_code == 409
    assert "retry" in response.json()["detail"]
    assert stored() == before


KINDS = [kind.value for kind in ActivityKind]
items = st.fixed_dictionaries(
    {"kind": st.one_of(st.sampled_from(KINDS), st.text(max_size=20))},
    optional={
        "url": st.one_of(st.text(max_size=40), st.from_regex(r"\A(/|https?://)[^\s]{0,30}\Z")),
        "note": st.text(max_size=50),
        "external_id": st.one_of(st.none(), st.text(max_size=110)),
        "occurred_at": st.one_of(
            st.datetimes(timezones=st.timezones()).map(lambda at: at.isoformat()), st.text(max_size=30)
        ),
        "email": st.one_of(st.emails(), st.text(max_size=30)),
    },
)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(batch=st.lists(items, min_size=1, max_size=5))
def test_arbitrary_items_get_an_answer_never_a_server_error(marketer, rules, batch):
    lead = Lead.objects.order_by("id").first() or make_lead(email="fuzz@acme.example")
    batch = [item if "email" in item else {**item, "lead": lead.pk} for item in batch]
    before = Activity.objects.count()

    response = post(marketer, batch)

    assert response.status_code in (200, 201, 400), response.content
    created = response.json()["created"] if response.status_code != 400 else 0
    assert Activity.objects.count() == before + created
    assert Lead.objects.get(pk=lead.pk).score == full_rescore(lead)


# Who may post --------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["rep", "manager"])
def test_sales_roles_get_403_and_nothing_is_stored(request, rules, team, persona):
    user = request.getfixturevalue(persona)
    lead = lead_in_stage(Stage.MQL, owner=request.getfixturevalue("rep"), team=team)
    before = stored()

    response = post(user, {"lead": lead.pk, "kind": "webinar"})

    assert response.status_code == 403
    assert "Only marketers and admins" in response.json()["detail"]
    assert stored() == before


def test_a_rep_asking_about_an_unknown_lead_gets_403_not_a_lookup(rep):
    assert post(rep, {"lead": 987654, "kind": "webinar"}).status_code == 403


def test_anonymous_client_gets_401(rules):
    lead = make_lead()

    response = APIClient().post(URL, {"lead": lead.pk, "kind": "webinar"}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert not Activity.objects.exists()


def test_integration_token_authenticates(marketer, rules):
    lead = make_lead()
    client = APIClient()
    token = client.post(reverse("api:token"), {"username": "mark", "password": "pw-Funnel-2026"}, format="json")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")

    response = client.post(URL, {"lead": lead.pk, "kind": "webinar"}, format="json")

    assert response.status_code == 201
    assert Activity.objects.get(lead=lead).actor == marketer


def test_only_post_is_allowed(marketer):
    response = api(marketer).get(URL)

    assert response.status_code == 405


# Cost ------------------------------------------------------------------------------


@pytest.mark.parametrize(("activities", "leads"), [(4, 2), (60, 20)])
def test_a_batch_costs_the_same_queries_whatever_its_size(
    marketer, rules, django_assert_num_queries, activities, leads
):
    targets = [make_lead() for _ in range(leads)]
    kinds = [("website_visit", "/pricing"), ("webinar", ""), ("content_download", "/a.pdf"), ("social", "")]
    batch = [
        {"lead": targets[n % leads].pk, "kind": kinds[n % 4][0], "url": kinds[n % 4][1], "external_id": f"x-{n}"}
        for n in range(activities)
    ]
    client = api(marketer)

    # 1 token with user and the user's roles, 2 the leads the batch names, 3 savepoint (the test's
    # transaction; BEGIN in production), 4 external ids stored before, 5 insert the activities,
    # 6 active rules, 7 lock the leads, 8 their rule shares, 9 upsert the shares, 10 update the
    # changed scores, 11 their score_changed events, 12 the MQL threshold, 13 release (COMMIT).
    with django_assert_num_queries(13):
        response = client.post(URL, batch, format="json")

    assert response.status_code == 201
    assert response.json()["created"] == activities


def test_a_retried_batch_costs_even_less(marketer, rules, django_assert_num_queries):
    leads = [make_lead() for _ in range(10)]
    batch = [visit(leads[n % 10], external_id=f"x-{n}") for n in range(50)]
    client = api(marketer)
    client.post(URL, batch, format="json")

    # token with roles, leads, stored external ids (all found), savepoint and its release
    with django_assert_num_queries(5):
        response = client.post(URL, batch, format="json")

    assert response.json()["duplicates"] == 50


def test_schema_documents_the_endpoint_and_its_errors(db):
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/activities/"]["post"]
    assert {"200", "201", "400", "401", "403"} <= set(operation["responses"])
    assert set(operation["requestBody"]["content"]) == {"application/json"}
