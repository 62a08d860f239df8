"""Outbound webhooks: deliver the queued events, signed as Standard Webhooks says, at least once.

Deliveries are queued by the history trigger in the transaction of their event
(migration 0041). ``deliver_webhooks`` claims due deliveries with a lease (a
worker killed mid-way leaves its claim to expire and another run sends them
again, under the same ``webhook-id``), POSTs them in parallel, and records each
attempt. A failure is retried with exponential backoff and jitter for about a
day; a subscription that has not had one success for that long is switched
off and the admins are told. Replays queue a delivery, or every event of a
time range, again.
"""

import json
import logging
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook

from . import access, feed, outbound
from .models import (
    LeadEvent,
    OutboxMessage,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
    event_type_of,
)
from .notifications import site_url
from .sql import update_rows

log = logging.getLogger(__name__)

_executor = None

_CLAIM_SQL = """
UPDATE leads_webhookdelivery delivery
   SET claimed_at = %(now)s, claim_token = %(token)s
 WHERE delivery.id IN (
       SELECT due.id
         FROM leads_webhookdelivery due
         JOIN leads_webhooksubscription subscription ON subscription.id = due.subscription_id
        WHERE due.delivered_at IS NULL AND due.failed_at IS NULL AND due.next_attempt_at <= %(now)s
          AND (due.claimed_at IS NULL OR due.claimed_at < %(expired)s)
          AND subscription.is_active
        ORDER BY due.next_attempt_at
        LIMIT %(limit)s
          FOR UPDATE OF due SKIP LOCKED)
RETURNING delivery.id, delivery.subscription_id, delivery.event_id, delivery.attempts, delivery.queued_at
"""


def _pool():
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(settings.FUNNEL_WEBHOOK_CONCURRENCY, thread_name_prefix="webhook")
    return _executor


def retry_delay(attempts):
    """Return the wait after the ``attempts``-th failed attempt: exponential (x4) from the first, capped, with ±20% jitter; raises nothing."""
    base = settings.FUNNEL_WEBHOOK_FIRST_RETRY_SECONDS * 4 ** (attempts - 1)
    seconds = min(base, settings.FUNNEL_WEBHOOK_MAX_RETRY_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def body_of(event):
    """The JSON body of an event's delivery, as bytes (the signature covers exactly these); raises nothing."""
    message = {"type": event_type_of(event.kind), "timestamp": event.at.isoformat(), "data": feed.as_json(event)}
    return json.dumps(message, separators=(",", ":"), default=str).encode()


def signed_headers(subscription_secret, webhook_id, body, sent_at):
    signature = Webhook(subscription_secret).sign(webhook_id, sent_at, body)
    return {
        "Content-Type": "application/json",
        "User-Agent": "Funnel-Webhooks/1",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }


def _claim(now, limit):
    token = uuid.uuid4().hex
    lease = timedelta(seconds=settings.FUNNEL_WEBHOOK_LEASE_SECONDS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, {"now": now, "token": token, "expired": now - lease, "limit": limit})
        return cursor.fetchall()


def _send(job, tripped):
    delivery_id, subscription, webhook_id, body = job
    if subscription.pk in tripped:
        return delivery_id, None
    sent_at = datetime.now(UTC)
    answer = outbound.post(subscription.url, body, signed_headers(subscription.secret, webhook_id, body, sent_at))
    if not answer.ok:
        # One failure is enough to know: the subscription's other deliveries of this batch wait with it.
        tripped.add(subscription.pk)
    return delivery_id, (sent_at, answer)


def deliver_batch(*, now=None, limit=None):
    """Claim, send and record one batch of due deliveries; returns (claimed, delivered), raises nothing."""
    now = now or timezone.now()
    limit = limit or settings.FUNNEL_WEBHOOK_BATCH
    rows = _claim(now, limit)
    if not rows:
        return 0, 0
    events = feed.with_relations(LeadEvent.objects).in_bulk({row[2] for row in rows})
    subscriptions = WebhookSubscription.objects.in_bulk({row[1] for row in rows})
    # A subscription deleted since the claim took its deliveries with it.
    rows = [row for row in rows if row[1] in subscriptions]
    jobs = []
    for delivery_id, subscription_id, event_id, _attempts, _queued_at in rows:
        jobs.append((delivery_id, subscriptions[subscription_id], f"evt_{event_id}", body_of(events[event_id])))
    tripped = set()
    results = dict(_pool().map(lambda job: _send(job, tripped), jobs))
    return len(rows), _record(rows, results, subscriptions, now)


def _record(rows, results, subscriptions, now):
    tries_before = {row[0]: row[3] for row in rows}
    attempts, delivered, changed = [], [], []
    retry_for = timedelta(seconds=settings.FUNNEL_WEBHOOK_RETRY_FOR_SECONDS)
    failed_subscriptions, ok_subscriptions, next_try, gave_up = {}, set(), {}, {}
    for delivery_id, subscription_id, _event_id, tries, queued_at in rows:
        result = results[delivery_id]
        if result is None:
            continue
        sent_at, answer = result
        attempts.append(
            WebhookAttempt(
                delivery_id=delivery_id,
                at=sent_at,
                status_code=answer.status,
                latency_ms=answer.latency_ms,
                response_excerpt=answer.excerpt,
                error=answer.error,
            )
        )
        if answer.ok:
            delivered.append((delivery_id, answer.status))
            ok_subscriptions.add(subscription_id)
            continue
        error = answer.error or f"HTTP {answer.status}"
        retry_at = now + retry_delay(tries + 1)
        gives_up = retry_at > queued_at + retry_for
        next_try.setdefault(subscription_id, retry_at)
        changed.append((delivery_id, retry_at, tries + 1, now if gives_up else None, answer.status, error, None, ""))
        failed_subscriptions[subscription_id] = error
        if gives_up:
            gave_up.setdefault(subscription_id, []).append(delivery_id)
    for delivery_id, subscription_id, *_rest, tries, _queued_at in rows:
        if results[delivery_id] is None:
            # Not sent: its subscription failed earlier in this batch; it waits for the same retry.
            retry_at = next_try.get(subscription_id, now)
            changed.append((delivery_id, retry_at, tries, None, None, "waiting: the endpoint is failing", None, ""))
    with transaction.atomic():
        WebhookAttempt.objects.bulk_create(attempts)
        if delivered:
            update_rows(
                WebhookDelivery,
                ("delivered_at", "attempts", "last_status", "last_error", "claimed_at", "claim_token"),
                [(pk, now, tries_before[pk] + 1, status, "", None, "") for pk, status in delivered],
            )
        update_rows(
            WebhookDelivery,
            ("next_attempt_at", "attempts", "failed_at", "last_status", "last_error", "claimed_at", "claim_token"),
            changed,
        )
        if ok_subscriptions:
            WebhookSubscription.objects.filter(pk__in=ok_subscriptions, failing_since__isnull=False).update(
                failing_since=None
            )
        for subscription_id, error in failed_subscriptions.items():
            _note_failure(subscriptions[subscription_id], error, now, gave_up.get(subscription_id, []))
    return len(delivered)


def _note_failure(subscription, error, now, gave_up):
    """Start the subscription's failing clock; switch it off once it has failed throughout.

    Failing throughout: a delivery used up its day of retries without the
    subscription succeeding once since its first attempt, or nothing has
    succeeded for FUNNEL_WEBHOOK_DISABLE_AFTER_SECONDS.
    """
    WebhookSubscription.objects.filter(pk=subscription.pk, failing_since__isnull=True).update(failing_since=now)
    failing_since = subscription.failing_since or now
    limit = now - timedelta(seconds=settings.FUNNEL_WEBHOOK_DISABLE_AFTER_SECONDS)
    first_attempts = WebhookAttempt.objects.filter(delivery_id__in=gave_up).values("delivery").annotate(first=Min("at"))
    throughout = failing_since <= limit or any(failing_since <= row["first"] for row in first_attempts)
    if not throughout:
        return
    switched_off = WebhookSubscription.objects.filter(pk=subscription.pk, is_active=True).update(
        is_active=False,
        disabled_at=now,
        disabled_reason=f"No delivery has succeeded since {failing_since:%Y-%m-%d %H:%M} UTC; last error: {error}"[
            :2000
        ],
    )
    if switched_off:
        log.warning("webhook subscription %s switched off: %s", subscription.pk, error)
        _tell_admins(subscription, error, now)


def _tell_admins(subscription, error, now):
    context = {
        "subscription_id": subscription.pk,
        "subscription_url": subscription.url,
        "error": error[:500],
        "url": site_url(reverse("admin:leads_webhooksubscription_change", args=[subscription.pk])),
    }
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                kind=OutboxMessage.Kind.WEBHOOK_DISABLED,
                recipient=admin,
                to_email=admin.email,
                dedupe_key=f"webhook_disabled:{subscription.pk}:{now:%Y%m%dT%H%M%S.%f}:{admin.pk}",
                context=context,
                created_at=now,
            )
            for admin in access.admins().exclude(email="")
        ],
        ignore_conflicts=True,
    )


def deliver_webhooks(*, now=None, budget_seconds=None):
    """Deliver due webhooks batch after batch until none is due (or the time budget is spent); returns (delivered, whether more are due), raises nothing."""
    started = timezone.now()
    delivered = 0
    while True:
        claimed, sent = deliver_batch(now=now)
        delivered += sent
        if claimed == 0:
            return delivered, False
        if budget_seconds is not None and (timezone.now() - started).total_seconds() > budget_seconds:
            return delivered, True


def replay_delivery(delivery, *, now=None):
    """Queue one delivery again (same webhook-id), whatever became of it; returns it fresh, raises nothing."""
    now = now or timezone.now()
    _requeue(WebhookDelivery.objects.filter(pk=delivery.pk), now)
    return WebhookDelivery.objects.get(pk=delivery.pk)


_REPLAY_RANGE_SQL = """
INSERT INTO leads_webhookdelivery AS delivery (subscription_id, event_id, queued_at, next_attempt_at, attempts,
                                               claim_token, last_error)
SELECT %(subscription)s, event.id, %(now)s, %(now)s, 0, '', ''
  FROM leads_leadevent event
 WHERE event.at >= %(start)s AND event.at < %(end)s AND 'lead.' || event.kind = ANY (%(types)s)
    ON CONFLICT (subscription_id, event_id) DO UPDATE
   SET queued_at = EXCLUDED.queued_at, next_attempt_at = EXCLUDED.next_attempt_at, attempts = 0,
       delivered_at = NULL, failed_at = NULL, claimed_at = NULL, claim_token = '', last_error = ''
"""


def replay_range(subscription, *, start, end, now=None):
    """Queue again every event of the subscription's types that happened in [start, end), sent before or not; returns how many, raises ValueError for an empty range."""
    if end <= start:
        raise ValueError("The end of the range must be after its start.")
    now = now or timezone.now()
    params = {
        "subscription": subscription.pk,
        "now": now,
        "start": start,
        "end": end,
        "types": subscription.event_types,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_REPLAY_RANGE_SQL, params)
        return cursor.rowcount


def _requeue(deliveries, now):
    return deliveries.update(
        queued_at=now,
        next_attempt_at=now,
        attempts=0,
        delivered_at=None,
        failed_at=None,
        claimed_at=None,
        claim_token="",
        last_error="",
    )
