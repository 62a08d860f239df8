from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone


class Stage(models.TextChoices):
    LEAD = "lead", "Lead"
    MQL = "mql", "MQL"
    SAL = "sal", "SAL (accepted)"
    SQL = "sql", "SQL (qualified)"
    REJECTED = "rejected", "Rejected"


# Stages in which a rep owns the lead and is expected to work it.
OWNED_STAGES = (Stage.MQL, Stage.SAL, Stage.SQL)


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=True)
    # Round-robin counter: each routed MQL takes the next turn.
    routing_turns = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class TeamMember(models.Model):
    """A user's place in a team: rep or manager, with routing state for reps."""

    class Role(models.TextChoices):
        REP = "rep", "Sales rep"
        MANAGER = "manager", "Sales manager"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.REP)
    is_available = models.BooleanField(default=True, help_text="Unavailable reps (holiday, sick) receive no new MQLs.")
    mql_capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most open MQLs this rep may hold at once; empty means no cap."
    )
    # Round-robin cursor: the rep whose last turn is oldest (or who never had one) goes next.
    last_turn = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    last_routed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["team", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="teammember_unique_user_per_team"),
        ]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()}, {self.team})"


class RejectionReason(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["position", "label"]

    def __str__(self):
        return self.label


class LeadQuerySet(models.QuerySet):
    def open_mqls(self):
        return self.filter(stage=Stage.MQL)

    def awaiting_response(self):
        return self.filter(stage=Stage.MQL, first_follow_up_at__isnull=True)

    def overdue(self, now):
        return self.awaiting_response().filter(sla_due_at__lte=now)

    def owned_by(self, user):
        return self.filter(owner=user)


class Lead(models.Model):
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=40, blank=True)
    company = models.CharField(max_length=200, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    company_size = models.PositiveIntegerField(null=True, blank=True, help_text="Number of employees")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code")
    source = models.CharField(max_length=60, blank=True, help_text="e.g. webinar, organic, paid-search")
    campaign = models.CharField(max_length=120, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)

    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.LEAD)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_leads"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="leads")
    score = models.IntegerField(default=0)
    # Bumped by every write through leads.transitions; a conditional UPDATE on it
    # makes exactly one of two concurrent actions win.
    version = models.PositiveIntegerField(default=0)
    # Counts MQL episodes: a recycled lead that becomes an MQL again starts a new one.
    mql_episode = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Milestones of the current episode; the full story is in LeadEvent.
    mql_at = models.DateTimeField(null=True, blank=True)
    first_follow_up_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    qualified_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.ForeignKey(
        RejectionReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # SLA: due time of the response window and the moment a breach was flagged.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_breached_at = models.DateTimeField(null=True, blank=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="lead_email_unique_ci"),
            # An MQL may wait unassigned when no rep can take it; worked stages cannot.
            models.CheckConstraint(
                condition=~Q(stage__in=["sal", "sql"]) | Q(owner__isnull=False),
                name="lead_worked_stages_have_owner",
            ),
            models.CheckConstraint(
                condition=~Q(stage="mql") | Q(mql_at__isnull=False),
                name="lead_mql_has_mql_at",
            ),
            models.CheckConstraint(
                condition=~Q(stage="rejected") | Q(rejection_reason__isnull=False),
                name="lead_rejected_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(first_follow_up_at__isnull=True) | Q(first_follow_up_at__gte=F("mql_at")),
                name="lead_follow_up_after_mql",
            ),
        ]
        indexes = [
            # The rep's queue: own open MQLs by due time.
            models.Index(fields=["owner", "stage", "sla_due_at"], name="lead_queue_idx"),
            # The manager's team views and the API's team filter.
            models.Index(fields=["team", "stage"], name="lead_team_stage_idx"),
            # The SLA sweep: open MQLs past due with no follow-up.
            models.Index(
                fields=["sla_due_at"],
                name="lead_awaiting_due_idx",
                condition=Q(stage="mql", first_follow_up_at__isnull=True, sla_breached_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.name} <{self.email}>"

    def get_absolute_url(self):
        return reverse("leads:detail", args=[self.pk])

    @property
    def is_awaiting_response(self):
        return self.stage == Stage.MQL and self.first_follow_up_at is None


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    PROMOTED = "promoted", "Became MQL"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    QUALIFIED = "qualified", "Qualified to SQL"
    DISQUALIFIED = "disqualified", "Disqualified"
    RECYCLED = "recycled", "Recycled to nurture"
    REASSIGNED = "reassigned", "Reassigned"
    ACTIVITY = "activity", "Sales activity"
    SCORE_CHANGED = "score_changed", "Score changed"
    SLA_BREACHED = "sla_breached", "SLA breached"


class AppendOnlyError(Exception):
    pass


class LeadEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Lead history is append-only: events cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Lead history is append-only: events cannot be deleted.")


class LeadEvent(models.Model):
    """One row of a lead's append-only history.

    The database refuses UPDATE and DELETE on this table (triggers installed by
    migration 0002), so nothing written here is ever lost.
    """

    lead = models.ForeignKey(Lead, on_delete=models.DO_NOTHING, related_name="events", db_constraint=True)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        help_text="Empty when the system acted (scoring, SLA job).",
    )
    from_stage = models.CharField(max_length=10, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=10, choices=Stage.choices, blank=True)
    # The lead's owner once this event happened, for per-rep reports.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    episode = models.PositiveIntegerField(default=0)
    reason = models.ForeignKey(RejectionReason, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+")
    note = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)

    objects = LeadEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            # A lead's history page, oldest first.
            models.Index(fields=["lead", "at"], name="leadevent_lead_at_idx"),
            # Reports: events of one kind in a period.
            models.Index(fields=["kind", "at"], name="leadevent_kind_at_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on lead {self.lead_id} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("Lead history is append-only: events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Lead history is append-only: events cannot be deleted.")


class ActivityKind(models.TextChoices):
    # Sales activities: logged by reps, they count as follow-up.
    CALL = "call", "Call"
    EMAIL = "email", "E-mail"
    MEETING = "meeting", "Meeting"
    CONVERSATION = "conversation", "Conversation"
    # Marketing behaviour: recorded by integrations, they feed scoring.
    EMAIL_CLICK = "email_click", "E-mail click-through"
    WEBSITE_VISIT = "website_visit", "Website visit"
    WEBINAR = "webinar", "Webinar attendance"
    CONTENT_DOWNLOAD = "content_download", "Content download"
    FORM_COMPLETION = "form_completion", "Form completion"
    SOCIAL = "social", "Social interaction"


SALES_ACTIVITY_KINDS = (ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING, ActivityKind.CONVERSATION)


class Activity(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="activities")
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
        verbose_name_plural = "activities"
        indexes = [
            # Conversation-rate reports and a lead's activity list.
            models.Index(fields=["lead", "kind", "occurred_at"], name="activity_lead_kind_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on lead {self.lead_id}"

    @property
    def is_sales_activity(self):
        return self.kind in SALES_ACTIVITY_KINDS
