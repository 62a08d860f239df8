from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from leads.models.audit import track_objects


class MonthlyTarget(models.Model):
    """How many MQLs marketing means to hand to sales in a month (for all teams, or one)."""

    month = models.DateField(help_text="The first day of the month.")
    team = models.ForeignKey("leads.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="A rep's own target; a target has a team or a rep or neither (overall), never both.",
    )
    mql_target = models.PositiveIntegerField(validators=[MaxValueValidator(10_000_000)])
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(
                fields=["month"],
                condition=Q(team__isnull=True, rep__isnull=True),
                name="monthlytarget_one_overall_per_month",
            ),
            models.UniqueConstraint(
                fields=["month", "team"], condition=Q(team__isnull=False), name="monthlytarget_one_per_team_month"
            ),
            models.UniqueConstraint(
                fields=["month", "rep"], condition=Q(rep__isnull=False), name="monthlytarget_one_per_rep_month"
            ),
            models.CheckConstraint(
                condition=Q(team__isnull=True) | Q(rep__isnull=True), name="monthlytarget_team_or_rep_not_both"
            ),
        ]

    def __str__(self):
        scope = self.rep or self.team or "all teams"
        return f"{self.month:%B %Y}: {self.mql_target} MQLs ({scope})"

    def clean(self):
        if self.month and self.month.day != 1:
            raise ValidationError({"month": "Give the first day of the month."})


@track_objects(name="MonthlyTargetEvent", app_label="reports")
class TrackedMonthlyTarget(MonthlyTarget):
    """MQL targets in the configuration audit log (``leads.audit``)."""

    class Meta:
        proxy = True


class WeeklyDigest(models.Model):
    """One weekly digest e-mail claimed for a user and a week: the row is the claim, so each is sent at most once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week = models.DateField(help_text="The Monday (in the recipient's time zone) the digest was due.")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "week"], name="weeklydigest_one_per_user_week")]

    def __str__(self):
        return f"Digest of {self.week} for {self.user}"


class DigestOptOut(models.Model):
    """A user who does not want the weekly digest e-mail."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    opted_out_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.user} opted out of the weekly digest"
