"""GET /api/events/: the history a page at a time, in a stable order, scoped like every read."""

import threading
import time

import psycopg
import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from leads import feed, history, transitions
from leads.models import EventKind, LeadEvent, Stage

from ..factories import lead_in_stage, make_lead, make_user


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def read_all(client, *, page_size=3, after=None):
    """Follow next_cursor until a page comes back empty; return every event and the last cursor."""
    seen = []
    while True:
        params = {"page_size": page_size, **({"after": after} if after else {})}
        response = client.get("/api/events/", params)
        assert response.status_code == 200, response.content
        body = response.json()
        if not body["results"]:
            return seen, body["next_cursor"]
        seen.extend(body["results"])
        after = body["next_cursor"]


def test_feed_pages_through_the_whole_history_oldest_first_without_repeats(admin, rep):
    lead_in_stage(Stage.SQL, owner=rep)
    lead_in_stage(Stage.REJECTED, owner=rep)

    events, cursor = read_all(client_for(admin))

    expected = list(LeadEvent.objects.order_by("id").values_list("id", flat=True))
    assert [event["id"] for event in events] == expected
    assert cursor is not None


def test_polling_with_the_last_cursor_returns_only_what_happened_since(admin, rep, marketer):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    client = client_for(admin)
    _events, cursor = read_all(client)

    transitions.accept_lead(lead, by=rep)
    response = client.get("/api/events/", {"after": cursor})

    body = response.json()
    assert [event["type"] for event in body["results"]] == ["lead.accepted"]
    assert client.get("/api/events/", {"after": body["next_cursor"]}).json()["results"] == []


def test_each_event_names_its_lead_kind_actor_time_stages_and_reason(manager, rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    transitions.reject_lead(lead, by=manager, reason="no-budget", note="frozen until Q3")

    events, _cursor = read_all(client_for(manager), page_size=50)

    rejected = events[-1]
    assert rejected["type"] == "lead.rejected"
    assert rejected["kind"] == "rejected"
    assert rejected["lead"]["id"] == lead.pk
    assert rejected["lead"]["name"] == lead.name
    assert rejected["actor"] == {"id": manager.pk, "username": "mona", "name": "Mona"}
    assert rejected["from_stage"] == "mql" and rejected["to_stage"] == "rejected"
    assert rejected["reason"] == {"code": "no-budget", "label": "No budget"}
    assert rejected["note"] == "frozen until Q3"
    assert rejected["at"]


def test_a_rep_sees_only_the_events_of_own_leads(rep, other_rep):
    mine = lead_in_stage(Stage.SAL, owner=rep)
    theirs = lead_in_stage(Stage.SAL, owner=other_rep)
    make_lead()

    events, _cursor = read_all(client_for(rep))

    assert {event["lead"]["id"] for event in events} == {mine.pk}
    assert theirs.pk not in {event["lead"]["id"] for event in events}


def test_a_manager_of_many_leads_sees_the_same_events_through_the_subquery(manager, rep, monkeypatch):
    for _ in range(3):
        lead_in_stage(Stage.SAL, owner=rep)
    inline, _cursor = read_all(client_for(manager))
    monkeypatch.setattr(feed, "SCOPE_IDS_INLINE", 1)

    by_subquery, _cursor = read_all(client_for(manager))

    assert [event["id"] for event in by_subquery] == [event["id"] for event in inline]
    assert len(inline) == 9


def test_a_user_without_a_role_sees_no_events(db, rep):
    lead_in_stage(Stage.MQL, owner=rep)
    nobody = make_user("nobody")

    response = client_for(nobody).get("/api/events/")

    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    "params",
    [{"after": "not-a-cursor"}, {"after": "djE6eDp5"}, {"page_size": "0"}, {"page_size": "501"}, {"page_size": "x"}],
)
def test_bad_cursor_or_page_size_is_a_400_naming_the_parameter(admin, params):
    response = client_for(admin).get("/api/events/", params)

    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_feed_needs_authentication(db):
    assert APIClient().get("/api/events/").status_code == 401


def test_a_page_costs_the_same_few_queries_however_many_events(admin, rep, django_assert_num_queries):
    for _ in range(3):
        lead_in_stage(Stage.SQL, owner=rep)
    client = client_for(admin)
    # The user's roles, the ids of the page (keyset on (txid, id)), those events with lead, actor, owner and reason.
    with django_assert_num_queries(3):
        response = client.get("/api/events/", {"page_size": 20})
    assert len(response.json()["results"]) == 12


def test_a_reps_page_costs_the_same_few_queries(rep, django_assert_num_queries):
    lead_in_stage(Stage.SQL, owner=rep)
    client = client_for(rep)
    # The rep's roles, the rep's lead ids, the ids of the page, the events with their relations.
    with django_assert_num_queries(4):
        response = client.get("/api/events/", {"page_size": 20})
    assert len(response.json()["results"]) == 4


def test_cursors_are_opaque_and_round_trip():
    cursor = feed.encode_cursor(123456789, 42)
    assert "123456789" not in cursor
    assert feed.decode_cursor(cursor) == (123456789, 42)
    with pytest.raises(feed.InvalidCursor):
        feed.decode_cursor(cursor[:-2] + "!!")


@pytest.mark.django_db(transaction=True)
def test_an_event_committed_after_a_later_one_is_not_skipped(admin, rep):
    """A slow transaction takes a lower id first and commits last; a poller must still get it."""
    lead = lead_in_stage(Stage.MQL, owner=rep)
    slow_started, slow_may_commit, slow_done = threading.Event(), threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                history.record(lead, EventKind.ACTIVITY, by=None, now=lead.mql_at, note="slow import batch")
                slow_started.set()
                slow_may_commit.wait(10)
        finally:
            connections.close_all()
            slow_done.set()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert slow_started.wait(10)
    # A quick transaction commits while the slow one is still open, with a higher id.
    quick = history.record(lead, EventKind.ACTIVITY, by=None, now=lead.mql_at, note="quick accept")
    client = client_for(admin)

    seen, cursor = read_all(client)
    assert "slow import batch" not in [event["note"] for event in seen]
    assert quick.pk not in [event["id"] for event in seen], "held back until the older transaction ends"

    slow_may_commit.set()
    assert slow_done.wait(10)
    thread.join()
    # Any writing transaction of this database that began before the slow one holds the
    # feed back too: poll, as a client does, until it ends.
    deadline = time.monotonic() + 60
    while not (later := read_all(client, after=cursor)[0]) and time.monotonic() < deadline:
        time.sleep(0.2)

    assert [event["note"] for event in later] == ["slow import batch", "quick accept"]
    assert connection.in_atomic_block is False


@pytest.mark.django_db(transaction=True)
def test_a_long_transaction_in_another_database_does_not_hold_the_feed_back(admin, rep):
    settings = connection.settings_dict
    elsewhere = psycopg.connect(
        dbname="postgres",
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    )
    try:
        elsewhere.execute("SELECT pg_current_xact_id()")  # a transaction with an id, left open
        lead = lead_in_stage(Stage.MQL, owner=rep)

        seen, _cursor = read_all(client_for(admin))

        assert lead.pk in {event["lead"]["id"] for event in seen}
    finally:
        elsewhere.rollback()
        elsewhere.close()
