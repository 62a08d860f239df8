"""The append-only history of a lead."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from .choices import EventKind, Stage
from .leads import Lead
from .teams import RejectionReason


class AppendOnlyError(Exception):
    pass


class LeadEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Lead history is append-only: events cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Lead history is append-only: events cannot be deleted.")


class LeadEvent(models.Model):
    """One row of a lead's append-only history.

    The database refuses DELETE and TRUNCATE on this table, and every UPDATE but
    one: once a lead has its ``erased`` event, the note and payload of its rows may
    be set to their redacted form (migration 0026), and nothing else may change.
    """

    # History is read per lead only (reports read MqlEpisode), so the one index is
    # leadevent_lead_at_idx. Every other index would be paid by each event written,
    # 100,000 at a time in an SLA catch-up sweep, and read by nothing: actor, owner
    # and reason are never searched, and users and reasons are deactivated, not
    # deleted (the append-only history refuses losing them anyway).
    lead = models.ForeignKey(Lead, on_delete=models.DO_NOTHING, related_name="events", db_index=False)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        help_text=gettext_lazy("Empty when the system acted (scoring, SLA job)."),
    )
    from_stage = models.CharField(max_length=10, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=10, choices=Stage.choices, blank=True)
    # The lead's owner once this event happened, for per-rep reports.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+", db_index=False
    )
    episode = models.PositiveIntegerField(default=0)
    reason = models.ForeignKey(
        RejectionReason, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+", db_index=False
    )
    note = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    # The writing transaction's id, filled in by the database (every writer, COPY and
    # the SLA sweep's SQL included, leaves it to the default). The event feed pages by
    # (txid, id) and shows only transactions older than every one still running, so
    # a reader never skips an event that commits after a later one (leads/feed.py).
    # Events written before the column existed read 0.
    txid = models.BigIntegerField(db_default=RawSQL("pg_current_xact_id()::text::bigint", ()), editable=False)

    objects = LeadEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            # A lead's history page, oldest first.
            models.Index(fields=["lead", "at"], name="leadevent_lead_at_idx"),
            # The event feed (GET /api/events/), a page at a time in commit-safe order; the lead
            # rides along so a scoped reader's filter is checked in the index alone.
            models.Index(fields=["txid", "id"], name="leadevent_feed_idx", include=["lead"]),
            # The routing fairness report (leads.fairness): assignments in a period.
            models.Index(
                fields=["at"], name="leadevent_routing_at_idx", condition=Q(kind__in=["promoted", "reassigned"])
            ),
        ]
        constraints = [
            # A person is erased once; the history guard looks the erasure up through this index.
            models.UniqueConstraint(fields=["lead"], condition=Q(kind="erased"), name="leadevent_one_erasure_per_lead"),
        ]

    def __str__(self):
        return gettext("%(kind)s on lead %(lead)s at %(at)s") % {
            "kind": self.get_kind_display(),
            "lead": self.lead_id,
            "at": f"{self.at:%Y-%m-%d %H:%M}",
        }

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("Lead history is append-only: events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Lead history is append-only: events cannot be deleted.")
