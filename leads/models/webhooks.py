"""Outbound webhooks: admins' subscriptions, the delivery outbox, and the log of every attempt.

A history row fans out into one ``WebhookDelivery`` per matching active
subscription in the same statement that wrote it: a trigger on the history
table (migration 0041) joins the statement's new rows with the subscriptions,
so every writer (a verb, an import batch's COPY, the SLA sweep's SQL) queues its
deliveries in its own transaction without knowing about webhooks.
"""

import base64
import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from .choices import EventKind
from .history import LeadEvent

# What a subscription can ask for: "lead." and the history kind.
EVENT_TYPE_PREFIX = "lead."
EVENT_TYPES = tuple(f"{EVENT_TYPE_PREFIX}{kind}" for kind in EventKind.values)


def event_type_of(kind):
    return f"{EVENT_TYPE_PREFIX}{kind}"


def new_webhook_secret():
    """A Standard Webhooks signing secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookSubscription(models.Model):
    url = models.URLField(max_length=500, help_text=gettext_lazy("Where events are POSTed (https in production)."))
    description = models.CharField(max_length=200, blank=True)
    event_types = ArrayField(
        models.CharField(max_length=40), help_text=gettext_lazy("e.g. lead.promoted, lead.accepted")
    )
    is_active = models.BooleanField(default=True)
    # Needed in the clear to sign; shown once, when the subscription is created.
    secret = models.CharField(max_length=100, default=new_webhook_secret, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Set by the first failed attempt after a success, cleared by the next success: a
    # subscription failing since longer than FUNNEL_WEBHOOK_DISABLE_AFTER_SECONDS is switched off.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(event_types=[]), name="webhooksubscription_has_event_types"),
        ]

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    """One event for one subscription: sent until a 2xx answers, retried with backoff, at least once.

    Its ``webhook_id`` stays the same on every attempt and replay, so a receiver
    can drop what it already has.
    """

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(LeadEvent, on_delete=models.DO_NOTHING, related_name="+", db_index=False)
    # When it was queued, or queued again by a replay: retries run for about a day from then.
    queued_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The lease: a worker that dies mid-delivery leaves the claim to expire.
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Set when the retries ran out; a replay clears it.
    failed_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = gettext_lazy("webhook deliveries")
        constraints = [
            # One delivery per event and subscription; a replay resets it rather than adding one.
            models.UniqueConstraint(fields=["subscription", "event"], name="webhookdelivery_once_per_event"),
        ]
        indexes = [
            # The deliverer: pending deliveries, soonest due first.
            models.Index(
                fields=["next_attempt_at"],
                name="webhookdelivery_pending_idx",
                condition=Q(delivered_at__isnull=True, failed_at__isnull=True),
            ),
        ]

    def __str__(self):
        return gettext("%(event)s to %(subscription)s") % {
            "event": self.webhook_id,
            "subscription": self.subscription_id,
        }

    @property
    def webhook_id(self):
        # Per event, like the feed's ids: the same event reaches every endpoint under one id.
        return f"evt_{self.event_id}"

    @property
    def status(self):
        if self.delivered_at:
            return "delivered"
        if self.failed_at:
            return "failed"
        return "retrying" if self.attempts else "pending"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: what came back and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log", db_index=False)
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=gettext_lazy("Empty: no HTTP answer.")
    )
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # A delivery's log, newest first.
            models.Index(fields=["delivery", "at"], name="webhookattempt_delivery_idx"),
        ]

    def __str__(self):
        return gettext("%(outcome)s after %(ms)s ms") % {
            "outcome": self.status_code or self.error,
            "ms": self.latency_ms,
        }

    @property
    def succeeded(self):
        return self.status_code is not None and 200 <= self.status_code < 300
