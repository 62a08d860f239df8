"""Outbound webhooks against a real HTTP receiver on 127.0.0.1 that verifies signatures with standardwebhooks."""

import itertools
import socket
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from leads import outbound, sla, transitions, webhooks
from leads.models import (
    EventKind,
    Lead,
    LeadEvent,
    OutboxMessage,
    Stage,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

from ..factories import lead_in_stage, make_lead, make_user
from ..support.receiver import Receiver


@pytest.fixture(autouse=True)
def local_receivers_allowed(settings):
    """The receivers these tests start listen on 127.0.0.1 (on under DEBUG, whatever CI sets)."""
    settings.FUNNEL_OUTBOUND_ALLOW_PRIVATE = True
    # A receiver thread on a busy test machine may take seconds to answer: a timeout
    # would count as a failed attempt and change what the tests count.
    settings.FUNNEL_OUTBOUND_CONNECT_TIMEOUT = settings.FUNNEL_OUTBOUND_READ_TIMEOUT = 60


def subscribe(url, *types, **fields):
    return WebhookSubscription.objects.create(url=url, event_types=list(types), **fields)


def admin_client(admin):
    client = APIClient()
    client.force_authenticate(admin)
    return client


# --- managing subscriptions -------------------------------------------------------------------


def test_admin_creates_a_subscription_and_gets_its_secret_once(admin):
    client = admin_client(admin)

    response = client.post(
        "/api/webhooks/",
        {"url": "https://crm.example.com/hooks", "event_types": ["lead.accepted", "lead.promoted"]},
        format="json",
    )

    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["lead.accepted", "lead.promoted"]
    shown_again = client.get(f"/api/webhooks/{created['id']}/").json()
    assert "secret" not in shown_again
    assert "secret" not in client.get("/api/webhooks/").json()["results"][0]


@pytest.mark.parametrize("persona", ["rep", "manager", "marketer"])
def test_only_admins_manage_webhooks(db, request, persona):
    client = APIClient()
    client.force_authenticate(request.getfixturevalue(persona))

    assert client.get("/api/webhooks/").status_code == 403
    response = client.post(
        "/api/webhooks/", {"url": "https://x.example", "event_types": ["lead.created"]}, format="json"
    )
    assert response.status_code == 403
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://crm.example.com/", "event_types": ["lead.created"]}, "url"),
        ({"url": "https://crm.example.com/", "event_types": []}, "event_types"),
        ({"url": "https://crm.example.com/", "event_types": ["lead.exploded"]}, "event_types"),
        ({"url": "http://10.1.2.3/hook", "event_types": ["lead.created"]}, "url"),
        ({"url": "http://169.254.169.254/latest", "event_types": ["lead.created"]}, "url"),
    ],
)
def test_bad_subscriptions_are_refused_with_the_field_named(admin, settings, body, field):
    settings.FUNNEL_OUTBOUND_ALLOW_PRIVATE = False

    response = admin_client(admin).post("/api/webhooks/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not WebhookSubscription.objects.exists()


def test_switching_a_disabled_subscription_back_on_clears_its_failure(admin):
    now = timezone.now()
    subscription = subscribe(
        "https://crm.example.com/", "lead.created", is_active=False, disabled_at=now, failing_since=now
    )

    response = admin_client(admin).patch(f"/api/webhooks/{subscription.pk}/", {"is_active": True}, format="json")

    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.is_active and subscription.disabled_at is None and subscription.failing_since is None


# --- queueing: in the transaction of the change, on every path --------------------------------


def test_every_path_that_writes_history_queues_deliveries_in_its_own_transaction(rep, marketer):
    subscription = subscribe("https://crm.example.com/", *[f"lead.{kind}" for kind in EventKind.values])
    lead = lead_in_stage(Stage.MQL, owner=rep)  # create, promote: verbs and the set-wise create_leads
    Lead.objects.filter(pk=lead.pk).update(sla_due_at=timezone.now() - timedelta(minutes=1))
    sla.flag_overdue_leads()  # the sweep's single SQL statement

    events = LeadEvent.objects.filter(lead=lead).order_by("id")
    queued = WebhookDelivery.objects.filter(subscription=subscription).order_by("event_id")
    assert [d.event_id for d in queued] == [event.pk for event in events]
    assert [event.kind for event in events] == ["created", "promoted", "sla_breached"]


def test_a_change_rolled_back_queues_nothing(rep):
    subscribe("https://crm.example.com/", "lead.accepted")
    lead = lead_in_stage(Stage.MQL, owner=rep)

    with pytest.raises(RuntimeError), transaction.atomic():
        transitions.accept_lead(lead, by=rep)
        raise RuntimeError("the request failed after the accept")

    assert not WebhookDelivery.objects.exists()


def test_only_active_subscriptions_for_the_events_type_get_a_delivery(rep):
    accepted = subscribe("https://a.example.com/", "lead.accepted")
    subscribe("https://b.example.com/", "lead.rejected")
    subscribe("https://c.example.com/", "lead.accepted", is_active=False)
    lead = lead_in_stage(Stage.MQL, owner=rep)

    transitions.accept_lead(lead, by=rep)

    assert list(WebhookDelivery.objects.values_list("subscription_id", flat=True)) == [accepted.pk]


# --- delivering -------------------------------------------------------------------------------


def test_delivery_is_signed_so_the_standard_webhooks_library_verifies_it(rep, manager):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    with Receiver() as receiver:
        subscription = subscribe(receiver.url, "lead.accepted")
        receiver.secret = subscription.secret
        transitions.accept_lead(lead, by=manager, note="looks great")

        delivered, more = webhooks.deliver_webhooks()

    assert (delivered, more) == (1, False)
    [request] = receiver.received
    assert request.verified is True
    event = LeadEvent.objects.get(lead=lead, kind=EventKind.ACCEPTED)
    assert request.webhook_id == f"evt_{event.pk}"
    body = request.json()
    assert body["type"] == "lead.accepted"
    assert body["data"]["lead"]["id"] == lead.pk
    assert body["data"]["actor"]["username"] == "mona"
    assert (body["data"]["from_stage"], body["data"]["to_stage"]) == ("mql", "sal")
    assert body["data"]["note"] == "looks great"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.last_status == 200
    [attempt] = WebhookAttempt.objects.all()
    assert attempt.status_code == 200 and '"ok": true' in attempt.response_excerpt


def test_a_signature_made_with_another_secret_is_refused_by_the_receiver(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    with Receiver(secret=WebhookSubscription().secret) as receiver:
        subscribe(receiver.url, "lead.accepted")
        transitions.accept_lead(lead, by=rep)
        webhooks.deliver_webhooks()

    assert [request.verified for request in receiver.received] == [False]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "retrying" and delivery.last_status == 401


def test_a_failing_receiver_is_retried_with_growing_waits_under_one_id_until_it_recovers(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    with Receiver(answer=lambda number: 503 if number < 4 else 204) as receiver:
        subscription = subscribe(receiver.url, "lead.accepted")
        receiver.secret = subscription.secret
        transitions.accept_lead(lead, by=rep)
        now = timezone.now()
        waits = []
        for _ in range(5):
            webhooks.deliver_webhooks(now=now)
            delivery = WebhookDelivery.objects.get()
            if delivery.delivered_at:
                break
            waits.append(delivery.next_attempt_at - now)
            assert webhooks.deliver_webhooks(now=delivery.next_attempt_at - timedelta(seconds=1)) == (0, False)
            now = delivery.next_attempt_at

    assert delivery.status == "delivered" and delivery.attempts == 5
    assert len(set(receiver.ids())) == 1 and len(receiver.ids()) == 5
    assert all(request.verified for request in receiver.received)
    # x4 each time, each wait ±20%: a wait is never under 4 * 0.8 / 1.2 = 2.67 times the one before.
    assert all(later > 2.6 * earlier for earlier, later in itertools.pairwise(waits)), waits
    log = list(WebhookAttempt.objects.order_by("at").values_list("status_code", flat=True))
    assert log == [503, 503, 503, 503, 204]
    subscription.refresh_from_db()
    assert subscription.failing_since is None


def test_retry_waits_grow_fourfold_with_jitter_up_to_the_cap(settings):
    settings.FUNNEL_WEBHOOK_FIRST_RETRY_SECONDS = 10
    settings.FUNNEL_WEBHOOK_MAX_RETRY_SECONDS = 6 * 3600
    for attempts, nominal in [(1, 10), (2, 40), (3, 160), (6, 10240), (7, 21600), (12, 21600)]:
        waits = {webhooks.retry_delay(attempts).total_seconds() for _ in range(20)}
        assert all(0.8 * nominal <= wait <= 1.2 * nominal for wait in waits)
        assert len(waits) > 1, "jittered"


def test_a_receiver_down_for_a_day_gets_the_subscription_switched_off_and_admins_told(rep, admin):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    with Receiver(answer=lambda number: 500) as receiver:
        subscription = subscribe(receiver.url, "lead.accepted", "lead.qualified")
        transitions.accept_lead(lead, by=rep)
        start = timezone.now()
        now = start
        for _ in range(20):
            webhooks.deliver_webhooks(now=now)
            subscription.refresh_from_db()
            if not subscription.is_active:
                break
            now = WebhookDelivery.objects.get().next_attempt_at
        transitions.qualify_lead(lead, by=rep)

    assert not subscription.is_active
    assert start + timedelta(hours=16) <= subscription.disabled_at <= start + timedelta(hours=25)
    assert "HTTP 500" in subscription.disabled_reason
    delivery = WebhookDelivery.objects.get()
    assert delivery.failed_at is not None, "retries ran out after about a day"
    assert 6 <= len(receiver.received) <= 12
    [notice] = OutboxMessage.objects.filter(kind=OutboxMessage.Kind.WEBHOOK_DISABLED)
    assert notice.recipient == admin and subscription.url in notice.context["subscription_url"]
    assert WebhookDelivery.objects.count() == 1, "a switched-off subscription queues nothing new"


def test_replaying_one_delivery_sends_it_again_under_the_same_id(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    with Receiver() as receiver:
        subscribe(receiver.url, "lead.accepted")
        transitions.accept_lead(lead, by=rep)
        webhooks.deliver_webhooks()
        delivery = WebhookDelivery.objects.get()

        response = admin_client(make_user("root", role="admin")).post(
            f"/api/webhooks/{delivery.subscription_id}/deliveries/{delivery.pk}/replay/"
        )
        assert response.status_code == 202
        webhooks.deliver_webhooks()

    assert receiver.ids() == [f"evt_{delivery.event_id}"] * 2
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2


def test_replaying_a_time_range_sends_every_event_of_the_range_again(rep, admin):
    old = lead_in_stage(Stage.MQL, owner=rep, now=timezone.now() - timedelta(days=3))
    recent = lead_in_stage(Stage.MQL, owner=rep)
    with Receiver() as receiver:
        subscription = subscribe(receiver.url, "lead.created", "lead.promoted")
        start = timezone.now() - timedelta(hours=2)

        response = admin_client(admin).post(
            f"/api/webhooks/{subscription.pk}/replay/",
            {"start": start.isoformat(), "end": timezone.now().isoformat()},
            format="json",
        )
        assert response.status_code == 202 and response.json() == {"queued": 2}
        webhooks.deliver_webhooks()

    sent = {request.json()["data"]["lead"]["id"] for request in receiver.received}
    assert sent == {recent.pk}
    assert old.pk not in sent
    assert sorted(request.json()["type"] for request in receiver.received) == ["lead.created", "lead.promoted"]


def test_a_replay_range_that_ends_before_it_starts_is_a_400(admin):
    subscription = subscribe("https://crm.example.com/", "lead.created")
    now = timezone.now()

    response = admin_client(admin).post(
        f"/api/webhooks/{subscription.pk}/replay/",
        {"start": now.isoformat(), "end": (now - timedelta(hours=1)).isoformat()},
        format="json",
    )

    assert response.status_code == 400 and "end" in response.json()


def test_deliveries_list_and_detail_show_status_and_each_attempt(admin, rep, django_assert_num_queries):
    with Receiver(answer=lambda number: 500 if number == 0 else 200) as receiver:
        subscription = subscribe(receiver.url, "lead.created")
        make_lead()
        webhooks.deliver_webhooks()
        make_lead()
        webhooks.deliver_webhooks()
    client = admin_client(admin)

    # Roles, the subscription, the page's count, the page of deliveries.
    with django_assert_num_queries(4):
        response = client.get(f"/api/webhooks/{subscription.pk}/deliveries/")
    deliveries = response.json()["results"]
    assert sorted(d["status"] for d in deliveries) == ["delivered", "retrying"]
    failed = next(d for d in deliveries if d["status"] == "retrying")
    detail = client.get(f"/api/webhooks/{subscription.pk}/deliveries/{failed['id']}/").json()
    assert [(a["status_code"], a["error"]) for a in detail["log"]] == [(500, "")]
    assert detail["log"][0]["latency_ms"] >= 0
    assert client.get(f"/api/webhooks/{subscription.pk}/deliveries/", {"status": "failed"}).json()["results"] == []
    assert client.get(f"/api/webhooks/{subscription.pk}/deliveries/", {"status": "lost"}).status_code == 400


# --- where requests may go --------------------------------------------------------------------


def test_loopback_receivers_are_refused_unless_the_setting_allows_them(rep, settings):
    settings.FUNNEL_OUTBOUND_ALLOW_PRIVATE = False
    lead = lead_in_stage(Stage.MQL, owner=rep)
    with Receiver() as receiver:
        subscribe(receiver.url, "lead.accepted")
        transitions.accept_lead(lead, by=rep)
        webhooks.deliver_webhooks()

    assert receiver.received == []
    [attempt] = WebhookAttempt.objects.all()
    assert attempt.status_code is None and "loopback" in attempt.error


def test_a_host_name_is_refused_if_any_address_it_resolves_to_is_private(settings, monkeypatch):
    settings.FUNNEL_OUTBOUND_ALLOW_PRIVATE = False

    def resolves_to_public_and_private(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolves_to_public_and_private)

    with pytest.raises(outbound.RefusedURL, match=r"10\.0\.0\.7, a private address"):
        outbound.resolve("rebind.example.com", 443)
    answer = outbound.post("https://rebind.example.com/hook", b"{}", {})
    assert answer.status is None and "private" in answer.error


def test_the_request_goes_to_the_checked_address_with_the_host_name_kept(db):
    with Receiver() as receiver:
        url = receiver.url.replace("127.0.0.1", "localhost")
        answer = outbound.post(url, b"{}", {"Content-Type": "application/json"})

    assert answer.status == 200
    assert receiver.received[0].headers["host"] == f"localhost:{receiver.server.server_address[1]}"


def test_redirects_are_not_followed(db):
    with Receiver(answer=lambda number: 307) as receiver:
        answer = outbound.post(receiver.url, b"{}", {})

    assert answer.status == 307 and not answer.ok
    assert len(receiver.received) == 1


def test_admins_add_a_subscription_and_replay_a_range_in_the_admin(client, admin, rep):
    client.force_login(admin)
    response = client.post(
        "/admin/leads/webhooksubscription/add/",
        {"url": "https://crm.example.com/hooks", "event_types": ["lead.created"], "is_active": "on"},
        follow=True,
    )
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret in response.content.decode(), "the secret is shown once, on creation"
    make_lead()
    WebhookDelivery.objects.all().delete()
    now = timezone.now()

    response = client.post(
        f"/admin/leads/webhooksubscription/{subscription.pk}/replay/",
        {
            "start": (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            "end": (now + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
        },
    )

    assert response.status_code == 302
    assert WebhookDelivery.objects.filter(subscription=subscription).count() == 1
    assert (
        subscription.secret
        not in client.get(f"/admin/leads/webhooksubscription/{subscription.pk}/change/").content.decode()
    )
