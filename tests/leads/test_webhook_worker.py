"""Webhooks through a real `celery worker --beat` process, SIGKILLed in the middle of delivering."""

import time
from collections import Counter

import pytest
from django.utils import timezone

from leads import transitions
from leads.models import LeadEvent, WebhookDelivery, WebhookSubscription

from ..support.receiver import Receiver
from ..support.worker_process import Worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

# Small batches, two parallel requests, a short lease: the kill lands with claims in flight.
WEBHOOK_WORKER = {
    "FUNNEL_WEBHOOK_BATCH": "8",
    "FUNNEL_WEBHOOK_CONCURRENCY": "2",
    "FUNNEL_WEBHOOK_LEASE_SECONDS": "2",
    "WEBHOOK_INTERVAL_SECONDS": "0.3",
    "CHAT_INTERVAL_SECONDS": "5",
    "FUNNEL_OUTBOUND_ALLOW_PRIVATE": "1",
}


def new_leads(count):
    rows = [({"name": f"Kill {n}", "email": f"kill{n}@acme.example", "company": "Acme"}, {}) for n in range(count)]
    ids, _ready = transitions.create_leads(rows, by=None, now=timezone.now())
    return ids


def all_delivered():
    return not WebhookDelivery.objects.filter(delivered_at__isnull=True).exists()


def test_worker_killed_mid_delivery_loses_nothing_and_repeats_only_under_the_same_id(tmp_path):
    with Receiver(delay=0.05) as receiver:
        subscription = WebhookSubscription.objects.create(url=receiver.url, event_types=["lead.created"])
        receiver.secret = subscription.secret
        new_leads(60)
        expected = {f"evt_{pk}" for pk in LeadEvent.objects.values_list("pk", flat=True)}
        assert len(expected) == 60

        first = Worker(tmp_path, "filesystem", **WEBHOOK_WORKER).start()
        try:
            wait_for(lambda: len(receiver.received) >= 15, timeout=60, worker=first, what="the first deliveries")
            first.kill()
        finally:
            first.stop()
        received_before_kill = len(receiver.received)
        assert received_before_kill < 60, "the kill must land in the middle of the deliveries"
        assert WebhookDelivery.objects.filter(delivered_at__isnull=True).exists()

        second = Worker(tmp_path, "filesystem", **WEBHOOK_WORKER).start()
        try:
            wait_for(all_delivered, timeout=90, worker=second, what="the remaining deliveries after the restart")
            time.sleep(1)  # a few more beat ticks: nothing is sent again once delivered
        finally:
            second.stop()

    ids = receiver.ids()
    assert set(ids) == expected, "every event reached the receiver"
    assert all(request.verified for request in receiver.received)
    repeats = {webhook_id: n for webhook_id, n in Counter(ids).items() if n > 1}
    # At least once: only what the killed worker had claimed may arrive twice, under its own id.
    assert sum(n - 1 for n in repeats.values()) <= 8
    assert WebhookDelivery.objects.filter(delivered_at__isnull=False).count() == 60
