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


class EpisodeRollup(models.Model):
    """The MQL episodes' counts per UTC hour and per UTC day, in total and per rep, team, source and campaign.

    Written only by PostgreSQL: statement triggers on ``leads_mqlepisode``
    (migration 0012) add each inserted, changed or deleted episode's part in the
    same transaction as the write, whatever makes it (a transition, an import, an
    erasure, a fix by hand), so a committed rollup always equals the episodes.
    ``reports.metrics.rollup`` reads it for the counts of periods made of whole
    UTC hours (whole days from the day rows, the hours of a day cut by a period's
    boundary from the hour rows), judged as of an instant no event lies after;
    everything else is counted from the episodes.

    Each count sits at the hour and the day of the date that places it in a
    period: the episode's MQL time for the ``mqls`` .. ``slow_sqls`` columns
    (``cohort_*``: of those MQLs, how many were accepted or qualified), the
    acceptance, qualification and rejection times for ``sals``, ``sqls`` and
    ``rejected``. ``key`` is '' for the total (``dimension`` "all"), an
    unassigned owner, no team or no source or campaign.
    """

    DIMENSIONS = ("all", "rep", "team", "source", "campaign")
    GRAINS = ("hour", "day")

    grain = models.CharField(max_length=4)
    start = models.DateTimeField()
    dimension = models.CharField(max_length=8)
    key = models.CharField(max_length=120, blank=True)
    mqls = models.IntegerField(default=0)
    followed_up = models.IntegerField(default=0)
    # Followed up by the window's end (or with no window).
    within_window = models.IntegerField(default=0)
    # Followed up within an hour of becoming an MQL.
    within_hour = models.IntegerField(default=0)
    cohort_sals = models.IntegerField(default=0)
    cohort_sqls = models.IntegerField(default=0)
    # Qualified, of those followed up within the hour and of those followed up later.
    fast_sqls = models.IntegerField(default=0)
    slow_sqls = models.IntegerField(default=0)
    sals = models.IntegerField(default=0)
    sqls = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)

    class Meta:
        constraints = [
            # The triggers' upsert target; also the reads of one rep, team, source or campaign.
            models.UniqueConstraint(
                fields=["dimension", "key", "grain", "start"], name="episoderollup_one_row_per_grain"
            ),
            models.CheckConstraint(condition=Q(grain__in=["hour", "day"]), name="episoderollup_grain_hour_or_day"),
        ]
        indexes = [
            # Breakdowns: every key of a dimension over a period.
            models.Index(fields=["dimension", "grain", "start"], name="episoderollup_breakdown_idx"),
        ]

    def __str__(self):
        return f"{self.grain} {self.start:%Y-%m-%d %H:00} {self.dimension} {self.key!r}: {self.mqls} MQLs"
