"""What leads do and what sales does with them (activities), and the e-mail outbox."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from .choices import SALES_ACTIVITY_KINDS, ActivityKind
from .leads import Lead


class Activity(models.Model):
    # No index of its own: activity_lead_kind_idx starts with the lead. A second one on the lead alone
    # made the planner walk all 2.36M activities of the reports benchmark in lead order for the
    # conversation rate (2.3 s for a year instead of 0.8 s, issue #12), and cost every insert.
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="activities", db_index=False)
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    url = models.URLField(max_length=500, blank=True)
    note = models.TextField(blank=True)
    # Integrations may send an id of their own so that a retried delivery is stored once.
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = gettext_lazy("activities")
        indexes = [
            # A lead's activity list, and scoring a lead's behaviour.
            models.Index(fields=["lead", "kind", "occurred_at"], name="activity_lead_kind_idx"),
            # Conversation-rate reports: sales activities in a period.
            models.Index(fields=["kind", "occurred_at"], name="activity_kind_occurred_idx"),
        ]

    def __str__(self):
        return gettext("%(kind)s on lead %(lead)s") % {"kind": self.get_kind_display(), "lead": self.lead_id}

    @property
    def is_sales_activity(self):
        return self.kind in SALES_ACTIVITY_KINDS


class OutboxMessage(models.Model):
    """An e-mail waiting to be sent, written in the same transaction as its cause.

    A worker killed between the cause and the send loses nothing: another run
    picks the row up once its claim lease has expired. ``dedupe_key`` makes the
    same notification impossible to queue twice, and the Message-ID header is
    derived from the row so a receiving server can drop a repeated delivery.
    """

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", gettext_lazy("New MQL assigned")
        SLA_BREACH_OWNER = "sla_breach_owner", gettext_lazy("SLA breaches (owner digest)")
        SLA_BREACH_MANAGER = "sla_breach_manager", gettext_lazy("SLA breaches (manager digest)")
        SLA_RISK = "sla_risk", gettext_lazy("SLA at risk")
        WEBHOOK_DISABLED = "webhook_disabled", gettext_lazy("Webhook subscription disabled")

    kind = models.CharField(max_length=30, choices=Kind.choices)
    # Empty for a digest, whose leads are listed in ``context["lead_ids"]``.
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_email = models.EmailField(max_length=254)
    dedupe_key = models.CharField(max_length=200)
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Held back (the recipient's quiet hours) until then.
    not_before = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = gettext_lazy("outbox e-mail")
        constraints = [models.UniqueConstraint(fields=["dedupe_key"], name="outbox_unique_dedupe_key")]
        indexes = [
            # The delivery job: unsent messages, oldest first.
            models.Index(fields=["created_at"], name="outbox_unsent_idx", condition=Q(sent_at__isnull=True)),
        ]

    def __str__(self):
        return gettext("%(kind)s to %(address)s (lead %(lead)s)") % {
            "kind": self.get_kind_display(),
            "address": self.to_email,
            "lead": self.lead_id,
        }
