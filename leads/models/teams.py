"""Sales teams, their members and the rejection reasons reps choose from."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext, gettext_lazy


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=True)
    # Round-robin counter: each routed MQL takes the next turn.
    routing_turns = models.PositiveBigIntegerField(default=0, editable=False)
    # Stride scheduling's global pass: the pass of the last rep who took a turn. A rep who
    # joins or comes back starts from here, so absence earns no burst of MQLs.
    routing_pass = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class TeamMember(models.Model):
    """A user's place in a team: rep or manager, with routing state for reps."""

    class Role(models.TextChoices):
        REP = "rep", gettext_lazy("Sales rep")
        MANAGER = "manager", gettext_lazy("Sales manager")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.REP)
    is_available = models.BooleanField(
        default=True, help_text=gettext_lazy("Unavailable reps (holiday, sick) receive no new MQLs.")
    )
    mql_capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text=gettext_lazy("Most open MQLs this rep may hold at once; empty means no cap.")
    )
    routing_weight = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=gettext_lazy("Share of round-robin MQLs: a rep of weight 2 gets twice as many as one of weight 1."),
    )
    # Stride scheduling (leads.routing): each turn adds STRIDE // weight; the lowest pass goes next.
    routing_pass = models.PositiveBigIntegerField(default=0, editable=False)
    # Round-robin cursor: among equal passes, the rep whose last turn is oldest goes next.
    last_turn = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    last_routed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["team", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="teammember_unique_user_per_team"),
        ]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()}, {self.team})"


class OutOfOffice(models.Model):
    """A period a rep is away: routing gives them no MQLs from ``starts_at`` until ``ends_at``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="out_of_office")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    hand_on = models.BooleanField(
        default=False,
        help_text=gettext_lazy("When the period starts, give this rep's open MQLs to the rest of the team."),
    )
    # Set by the job that handed the open MQLs on (leads.jobs.hand_on_out_of_office), once.
    handed_on_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = gettext_lazy("out-of-office period")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="outofoffice_ends_after_start"
            ),
        ]
        indexes = [
            # Routing: is this rep away now?
            models.Index(fields=["user", "ends_at"], name="outofoffice_user_ends_idx"),
            # The hand-on job: periods that asked for it and have not had it yet.
            models.Index(
                fields=["starts_at"],
                name="outofoffice_hand_on_due_idx",
                condition=models.Q(hand_on=True, handed_on_at__isnull=True),
            ),
        ]

    def __str__(self):
        return gettext("%(user)s away %(start)s to %(end)s") % {
            "user": self.user,
            "start": f"{self.starts_at:%Y-%m-%d %H:%M}",
            "end": f"{self.ends_at:%Y-%m-%d %H:%M}",
        }


class RejectionReason(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["position", "label"]

    def __str__(self):
        return self.label
