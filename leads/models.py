from datetime import time as datetime_time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from .business_hours import BusinessCalendar


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


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def validate_time_zone(value):
    try:
        BusinessCalendar(value, frozenset({0}), datetime_time(9), datetime_time(17))
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class BusinessHours(models.Model):
    """A working-hours calendar: time zone, working weekdays, opening hours and holidays."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone], help_text="IANA name, e.g. Europe/Berlin"
    )
    monday = models.BooleanField(default=True)
    tuesday = models.BooleanField(default=True)
    wednesday = models.BooleanField(default=True)
    thursday = models.BooleanField(default=True)
    friday = models.BooleanField(default=True)
    saturday = models.BooleanField(default=False)
    sunday = models.BooleanField(default=False)
    opens = models.TimeField(default=datetime_time(9))
    closes = models.TimeField(default=datetime_time(17))

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "business hours"
        constraints = [
            models.CheckConstraint(condition=Q(opens__lt=F("closes")), name="businesshours_opens_before_closes"),
            models.CheckConstraint(
                condition=Q(monday=True)
                | Q(tuesday=True)
                | Q(wednesday=True)
                | Q(thursday=True)
                | Q(friday=True)
                | Q(saturday=True)
                | Q(sunday=True),
                name="businesshours_has_a_working_day",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.opens:%H:%M}-{self.closes:%H:%M} {self.time_zone})"

    def clean(self):
        if self.opens is not None and self.closes is not None and self.opens >= self.closes:
            raise ValidationError(
                {"closes": "Closing time must be after opening time (overnight hours are not supported)."}
            )
        if not any(getattr(self, day) for day in WEEKDAYS):
            raise ValidationError("Choose at least one working day.")

    @property
    def working_days(self):
        return frozenset(index for index, day in enumerate(WEEKDAYS) if getattr(self, day))

    def calendar(self):
        """The pure-Python calendar the due-time arithmetic works on (one query for the holidays)."""
        holidays = frozenset(self.holidays.values_list("date", flat=True))
        return BusinessCalendar(self.time_zone, self.working_days, self.opens, self.closes, holidays)


class Holiday(models.Model):
    business_hours = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["business_hours", "date"], name="holiday_unique_date_per_calendar"),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


class SLAPolicy(models.Model):
    """How fast a new MQL must be answered, and what happens when it is not.

    The first active policy (by position) whose source and priority match the lead
    applies; the default policy catches the rest. A lead keeps the due time it was
    promised: editing a policy affects only MQLs routed afterwards.
    """

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(default=100, help_text="Lower positions are tried first.")
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text="Applies when no other policy matches.")
    source = models.CharField(max_length=60, blank=True, help_text="Match leads of this source only; empty: any.")
    priority = models.CharField(
        max_length=10, blank=True, choices=Priority.choices, help_text="Match leads of this priority only; empty: any."
    )
    response_minutes = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 90)],
        help_text="Response window, in working minutes when business hours are set (e.g. 960 = two 8-hour days).",
    )
    business_hours = models.ForeignKey(
        BusinessHours,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
        help_text="Empty: the window runs round the clock.",
    )
    notify_owner = models.BooleanField(default=True, help_text="E-mail the owner when the window is missed.")
    notify_managers = models.BooleanField(default=True, help_text="E-mail the team's managers when it is missed.")
    reassign_on_breach = models.BooleanField(default=False, help_text="Give the lead to another rep after a breach.")
    reassign_after_minutes = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(60 * 24 * 30)],
        help_text="Minutes after the breach before reassigning (0: at once).",
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="slapolicy_one_default"),
            models.CheckConstraint(condition=Q(response_minutes__gte=1), name="slapolicy_window_positive"),
            models.CheckConstraint(
                condition=Q(is_default=False) | (Q(source="") & Q(priority="") & Q(is_active=True)),
                name="slapolicy_default_matches_everything",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.is_default and (self.source or self.priority):
            raise ValidationError("The default policy applies to every lead: leave source and priority empty.")
        if self.is_default and not self.is_active:
            raise ValidationError({"is_active": "The default policy must stay active."})

    @property
    def window(self):
        return timedelta(minutes=self.response_minutes)

    def describe_window(self):
        hours, minutes = divmod(self.response_minutes, 60)
        text = f"{hours} h {minutes} min" if hours and minutes else (f"{hours} h" if hours else f"{minutes} min")
        return f"{text} of business time" if self.business_hours_id else f"{text}, round the clock"


class LeadQuerySet(models.QuerySet):
    def open_mqls(self):
        return self.filter(stage=Stage.MQL)

    def awaiting_response(self):
        return self.filter(stage=Stage.MQL, first_follow_up_at__isnull=True)

    def overdue(self, now):
        return self.awaiting_response().filter(sla_due_at__lte=now)

    def breached(self, now):
        """MQLs whose response SLA is breached: flagged by the sweep, or past due with no follow-up yet."""
        flagged = Q(sla_breached_at__isnull=False)
        past_due = Q(first_follow_up_at__isnull=True, sla_due_at__lte=now)
        return self.filter(flagged | past_due, stage=Stage.MQL)

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
    # Both are the leading columns of composite indexes below; no separate index.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_leads",
        db_index=False,
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="leads", db_index=False
    )
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
    sla_policy = models.ForeignKey(SLAPolicy, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
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
            # The SLA sweep: open MQLs past due with no follow-up. The breach flag
            # is left out of the condition so the sweep's claim is a HOT update.
            models.Index(
                fields=["sla_due_at"],
                name="lead_awaiting_due_idx",
                condition=Q(stage="mql", first_follow_up_at__isnull=True),
            ),
            # The team page's open MQLs (unassigned first, then soonest due) and the
            # breached list, a page at a time. Owner and team ride along so a
            # manager's count reads the index alone; the breach flag stays out so
            # the sweep's claim remains a HOT update.
            models.Index(
                F("sla_due_at").asc(nulls_first=True),
                F("mql_at"),
                F("id"),
                name="lead_open_mqls_idx",
                include=["owner", "team"],
                condition=Q(stage="mql"),
            ),
            # The team page's SALs, newest accepted first; a manager's count reads the index alone.
            models.Index(
                F("accepted_at").desc(),
                F("id").desc(),
                name="lead_sals_idx",
                include=["owner", "team"],
                condition=Q(stage="sal"),
            ),
            # The rejected-leads review, newest rejection first; its filters' choices
            # (sources, campaigns, reps) are read from the index alone.
            models.Index(
                F("rejected_at").desc(),
                F("id").desc(),
                name="lead_rejected_idx",
                include=["source", "campaign", "owner"],
                condition=Q(stage="rejected"),
            ),
        ]

    def __str__(self):
        return f"{self.name} <{self.email}>"

    def get_absolute_url(self):
        return reverse("leads:detail", args=[self.pk])

    @property
    def is_awaiting_response(self):
        return self.stage == Stage.MQL and self.first_follow_up_at is None


class MqlEpisode(models.Model):
    """One MQL episode of a lead, from promotion to its outcome: what reports count.

    A projection of the lead's history kept by ``leads.transitions`` in the same
    transaction as each event. A recycled lead that becomes an MQL again starts a
    new episode, so every MQL is counted once.
    """

    class RejectedFrom(models.TextChoices):
        MQL = "mql", "Rejected as MQL"
        SAL = "sal", "Disqualified after acceptance"

    # Indexed as the leading column of mqlepisode_unique_number_per_lead and mqlepisode_lead_mql_at_idx.
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="episodes", db_index=False)
    number = models.PositiveIntegerField()
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The current owner: updated on reassignment, so per-rep numbers follow the lead.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=60, blank=True)
    campaign = models.CharField(max_length=120, blank=True)
    mql_at = models.DateTimeField()
    # The response window's end; a reassignment that restarts the clock moves it.
    due_at = models.DateTimeField(null=True, blank=True)
    first_follow_up_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    qualified_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejected_from = models.CharField(max_length=3, choices=RejectedFrom.choices, blank=True)
    rejection_reason = models.ForeignKey(
        RejectionReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejection_note = models.TextField(blank=True)
    recycled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-mql_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "number"], name="mqlepisode_unique_number_per_lead"),
            models.CheckConstraint(
                condition=Q(first_follow_up_at__isnull=True) | Q(first_follow_up_at__gte=F("mql_at")),
                name="mqlepisode_follow_up_after_mql",
            ),
        ]
        indexes = [
            # Period reports: MQLs created in a date range.
            models.Index(fields=["mql_at"], name="mqlepisode_mql_at_idx"),
            # Period conversions: SALs, SQLs and rejections in a date range.
            models.Index(fields=["accepted_at"], name="mqlepisode_accepted_at_idx"),
            models.Index(fields=["qualified_at"], name="mqlepisode_qualified_at_idx"),
            models.Index(fields=["rejected_at"], name="mqlepisode_rejected_at_idx"),
            # Per-rep and per-team breakdowns.
            models.Index(fields=["owner", "mql_at"], name="mqlepisode_owner_mql_idx"),
            models.Index(fields=["team", "mql_at"], name="mqlepisode_team_mql_idx"),
            # Conversation rate: had this lead an episode by its first contact? Answered
            # from the index alone, once per contacted lead.
            models.Index(fields=["lead", "mql_at"], name="mqlepisode_lead_mql_at_idx"),
        ]

    def __str__(self):
        return f"MQL episode {self.number} of lead {self.lead_id}"


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Details updated"
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
        help_text="Empty when the system acted (scoring, SLA job).",
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

    objects = LeadEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            # A lead's history page, oldest first.
            models.Index(fields=["lead", "at"], name="leadevent_lead_at_idx"),
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
            # A lead's activity list, and scoring a lead's behaviour.
            models.Index(fields=["lead", "kind", "occurred_at"], name="activity_lead_kind_idx"),
            # Conversation-rate reports: sales activities in a period.
            models.Index(fields=["kind", "occurred_at"], name="activity_kind_occurred_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on lead {self.lead_id}"

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
        ASSIGNED = "assigned", "New MQL assigned"
        SLA_BREACH_OWNER = "sla_breach_owner", "SLA breaches (owner digest)"
        SLA_BREACH_MANAGER = "sla_breach_manager", "SLA breaches (manager digest)"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    # Empty for a digest, whose leads are listed in ``context["lead_ids"]``.
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_email = models.EmailField(max_length=254)
    dedupe_key = models.CharField(max_length=200)
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "outbox e-mail"
        constraints = [models.UniqueConstraint(fields=["dedupe_key"], name="outbox_unique_dedupe_key")]
        indexes = [
            # The delivery job: unsent messages, oldest first.
            models.Index(fields=["created_at"], name="outbox_unsent_idx", condition=Q(sent_at__isnull=True)),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.to_email} (lead {self.lead_id})"


FREE_MAIL_DOMAINS = frozenset(
    """
    gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.de yahoo.fr ymail.com hotmail.com hotmail.co.uk
    hotmail.de hotmail.fr outlook.com outlook.de live.com live.de msn.com aol.com icloud.com me.com mac.com
    gmx.de gmx.net gmx.at gmx.ch gmx.com web.de t-online.de freenet.de posteo.de mailbox.org proton.me
    protonmail.com pm.me mail.ru yandex.ru yandex.com zoho.com tutanota.com libero.it orange.fr free.fr
    laposte.net wanadoo.fr seznam.cz wp.pl o2.pl interia.pl qq.com 163.com 126.com naver.com
    """.split()
)


class ScoringRule(models.Model):
    """One cell of the scoring matrix: points for a behaviour or a demographic trait.

    Behaviour rules count each matching activity (optionally only visits to URLs
    containing ``url_contains``); demographic rules match a lead field once. The
    optional cap limits how many points (positive or negative) the rule can give
    one lead in total.
    """

    class Category(models.TextChoices):
        BEHAVIOUR = "behaviour", "Behaviour"
        DEMOGRAPHIC = "demographic", "Demographic"

    class Field(models.TextChoices):
        JOB_TITLE = "job_title", "Job title"
        COMPANY = "company", "Company"
        COMPANY_SIZE = "company_size", "Company size"
        COUNTRY = "country", "Country"
        EMAIL_DOMAIN = "email_domain", "E-mail domain"
        SOURCE = "source", "Source"
        CAMPAIGN = "campaign", "Campaign"

    class Operator(models.TextChoices):
        CONTAINS = "contains", "contains"
        EQUALS = "equals", "is"
        ONE_OF = "one_of", "is one of (comma-separated)"
        BETWEEN = "between", "is between (numbers)"
        FREE_MAIL = "free_mail", "is a free-mail provider"

    name = models.CharField(max_length=120)
    category = models.CharField(max_length=12, choices=Category.choices)
    activity_kind = models.CharField(max_length=20, choices=ActivityKind.choices, blank=True)
    url_contains = models.CharField(max_length=200, blank=True, help_text="e.g. /pricing; empty: any URL")
    field = models.CharField(max_length=20, choices=Field.choices, blank=True)
    operator = models.CharField(max_length=10, choices=Operator.choices, blank=True)
    value = models.CharField(max_length=500, blank=True)
    min_value = models.IntegerField(null=True, blank=True)
    max_value = models.IntegerField(null=True, blank=True)
    points = models.IntegerField(validators=[MinValueValidator(-1000), MaxValueValidator(1000)])
    cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most points (either sign) this rule may give one lead; empty: no cap."
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=100)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["category", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(points=0), name="scoringrule_points_nonzero"),
            models.CheckConstraint(
                condition=Q(category="demographic") | ~Q(activity_kind=""), name="scoringrule_behaviour_has_kind"
            ),
            models.CheckConstraint(
                condition=Q(category="behaviour") | (~Q(field="") & ~Q(operator="")),
                name="scoringrule_demographic_has_field_and_operator",
            ),
        ]

    def __str__(self):
        sign = "+" if self.points > 0 else ""
        return f"{self.name} ({sign}{self.points})"


class ScoringConfig(models.Model):
    """The single row holding the MQL threshold."""

    mql_threshold = models.PositiveIntegerField(default=100, validators=[MinValueValidator(1)])
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "scoring settings"
        verbose_name_plural = "scoring settings"

    def __str__(self):
        return f"MQL threshold {self.mql_threshold}"

    @classmethod
    def current(cls):
        config = cls.objects.order_by("id").first()
        return config or cls.objects.create()


class LeadRuleScore(models.Model):
    """What one rule currently gives one lead: the explanation of a score."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="rule_scores")
    rule = models.ForeignKey(ScoringRule, on_delete=models.CASCADE, related_name="+")
    matches = models.PositiveIntegerField(default=0)
    points = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lead", "rule"], name="leadrulescore_unique")]

    def __str__(self):
        return f"{self.rule} x{self.matches} = {self.points} for lead {self.lead_id}"


class ScoringRun(models.Model):
    """A background rescore of every lead after the rules or the threshold changed."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    promoted = models.PositiveIntegerField(default=0)
    # Leads with an id above this are done; a restarted run continues from here.
    last_lead_id = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Rescore {self.pk} ({self.get_status_display()}, {self.done}/{self.total})"

    @property
    def percent(self):
        return 100 if not self.total else min(100, round(100 * self.done / self.total))


class ImportJob(models.Model):
    """A CSV file of leads being imported in the background, with its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    # CSV column -> lead field, chosen on the upload page; empty means "by header name".
    mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Progress: bytes of the file read so far, for a bar that needs no row count up front.
    total_bytes = models.PositiveBigIntegerField(default=0)
    processed_bytes = models.PositiveBigIntegerField(default=0)
    rows_seen = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    # The last line of the file whose batch was committed; a restarted job resumes after it.
    committed_line = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Import {self.pk} of {self.original_name} ({self.get_status_display()})"

    @property
    def percent(self):
        if self.status == self.Status.DONE:
            return 100
        if not self.total_bytes:
            return 0
        return min(99, int(100 * self.processed_bytes / self.total_bytes))


class ImportRowError(models.Model):
    """One rejected row of an import: its line number, why, and what it said."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    line = models.PositiveIntegerField()
    reason = models.TextField()
    raw = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "line", "id"]
        indexes = [models.Index(fields=["job", "line"], name="importrowerror_job_line_idx")]

    def __str__(self):
        return f"line {self.line}: {self.reason}"
