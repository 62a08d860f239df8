"""Keyset pages of the API's lead list (``cursor=``): every lead once, in order, without a count."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Lead, Stage

from ..factories import lead_in_stage, make_lead
from .test_api import LIST_URL, api, ids

pytestmark = pytest.mark.django_db


def walk(client, params):
    """Follow ``next`` from the first cursor page; return the ids in order and the pages' bodies."""
    response = client.get(LIST_URL, {**params, "cursor": ""})
    seen, bodies = [], []
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        bodies.append(body)
        seen += [lead["id"] for lead in body["results"]]
        if not body["next"]:
            return seen, bodies
        response = client.get(body["next"])


@pytest.fixture
def leads(db):
    now = timezone.now()
    made = [make_lead(now=now - timedelta(minutes=n)) for n in range(7)]
    for n, lead in enumerate(made):
        Lead.objects.filter(pk=lead.pk).update(score=(n * 7) % 5)  # ties: the id orders them
    return made


@pytest.mark.parametrize(
    ("ordering", "order"),
    [
        ("", ("-created_at", "-id")),
        ("-created_at", ("-created_at", "-id")),
        ("created_at", ("created_at", "id")),
        ("-score", ("-score", "-id")),
    ],
)
def test_cursor_pages_give_every_lead_once_in_order(marketer, leads, ordering, order):
    params = {"page_size": 3, **({"ordering": ordering} if ordering else {})}

    seen, bodies = walk(api(marketer), params)

    assert seen == list(Lead.objects.order_by(*order).values_list("id", flat=True))
    assert len(bodies) == 3
    assert all(set(body) == {"next", "results"} for body in bodies)  # no count, no previous


def test_cursor_pages_by_due_time_put_leads_without_one_last(marketer, team):
    now = timezone.now()
    mqls = [lead_in_stage(Stage.MQL, team=team, now=now - timedelta(minutes=n)) for n in range(3)]
    plain = make_lead()

    seen, _bodies = walk(api(marketer), {"ordering": "sla_due_at", "page_size": 2})

    by_due = sorted(mqls, key=lambda lead: (lead.sla_due_at, lead.pk))
    assert seen == [lead.pk for lead in by_due] + [plain.pk]


def test_filters_apply_to_cursor_pages(marketer, leads, team):
    mql = lead_in_stage(Stage.MQL, team=team)

    assert ids(api(marketer).get(LIST_URL, {"cursor": "", "stage": "mql"})) == [mql.pk]


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"cursor": "not-a-cursor"}, "cursor", "damaged"),
        ({"cursor": "", "ordering": "name"}, "ordering", "Cursor pages follow"),
        ({"cursor": "", "page": "2"}, "cursor", "not both"),
    ],
)
def test_bad_cursor_requests_are_400_with_a_sentence(marketer, leads, params, field, says):
    response = api(marketer).get(LIST_URL, params)

    assert response.status_code == 400
    assert says in response.json()[field][0]


def test_a_cursor_of_another_order_is_refused(marketer, leads):
    client = api(marketer)
    following = client.get(LIST_URL, {"cursor": "", "page_size": 2}).json()["next"]
    cursor = following.split("cursor=")[1].split("&")[0]

    response = client.get(LIST_URL, {"cursor": cursor, "ordering": "-score"})

    assert response.status_code == 400
    assert "another order" in response.json()["cursor"][0]


def test_cursor_pages_count_nothing(marketer, leads, django_assert_num_queries):
    client = api(marketer)
    following = client.get(LIST_URL, {"cursor": "", "page_size": 2}).json()["next"]

    # the token with its user (and profile) and the user's roles, the page of leads: no COUNT
    with django_assert_num_queries(2):
        assert len(ids(client.get(following))) == 2


def test_numbered_pages_keep_their_count(marketer, leads):
    body = api(marketer).get(LIST_URL, {"page_size": 3}).json()

    assert body["count"] == 7 and "page=2" in body["next"] and body["previous"] is None
