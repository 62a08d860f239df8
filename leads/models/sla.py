"""SLA policies and the business-hours calendars their windows are counted in."""

from datetime import time as datetime_time
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext, gettext_lazy

from ..business_hours import BusinessCalendar
from .choices import Priority

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
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text=gettext_lazy("IANA name, e.g. Europe/Berlin"),
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
        verbose_name_plural = gettext_lazy("business hours")
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
                {"closes": gettext("Closing time must be after opening time (overnight hours are not supported).")}
            )
        if not any(getattr(self, day) for day in WEEKDAYS):
            raise ValidationError(gettext("Choose at least one working day."))

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
    position = models.PositiveSmallIntegerField(default=100, help_text=gettext_lazy("Lower positions are tried first."))
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text=gettext_lazy("Applies when no other policy matches."))
    source = models.CharField(
        max_length=60, blank=True, help_text=gettext_lazy("Match leads of this source only; empty: any.")
    )
    priority = models.CharField(
        max_length=10,
        blank=True,
        choices=Priority.choices,
        help_text=gettext_lazy("Match leads of this priority only; empty: any."),
    )
    response_minutes = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 90)],
        help_text=gettext_lazy(
            "Response window, in working minutes when business hours are set (e.g. 960 = two 8-hour days)."
        ),
    )
    business_hours = models.ForeignKey(
        BusinessHours,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
        help_text=gettext_lazy("Empty: the window runs round the clock."),
    )
    notify_owner = models.BooleanField(
        default=True, help_text=gettext_lazy("E-mail the owner when the window is missed.")
    )
    notify_managers = models.BooleanField(
        default=True, help_text=gettext_lazy("E-mail the team's managers when it is missed.")
    )
    reassign_on_breach = models.BooleanField(
        default=False, help_text=gettext_lazy("Give the lead to another rep after a breach.")
    )
    reassign_after_minutes = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(60 * 24 * 30)],
        help_text=gettext_lazy("Minutes after the breach before reassigning (0: at once)."),
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = gettext_lazy("SLA policy")
        verbose_name_plural = gettext_lazy("SLA policies")
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
            raise ValidationError(gettext("The default policy applies to every lead: leave source and priority empty."))
        if self.is_default and not self.is_active:
            raise ValidationError({"is_active": gettext("The default policy must stay active.")})

    @property
    def window(self):
        return timedelta(minutes=self.response_minutes)

    def describe_window(self):
        hours, minutes = divmod(self.response_minutes, 60)
        if hours and minutes:
            text = gettext("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
        elif hours:
            text = gettext("%(hours)s h") % {"hours": hours}
        else:
            text = gettext("%(minutes)s min") % {"minutes": minutes}
        if self.business_hours_id:
            return gettext("%(window)s of business time") % {"window": text}
        return gettext("%(window)s, round the clock") % {"window": text}


class SLASweepMark(models.Model):
    """How far the SLA sweep has got: one row, moved on by each sweep in its own statement.

    An MQL that awaits a response unflagged with a due time at or before
    ``due_through`` carries an ``sla_due_xid`` of at least ``snapshot_xmin``, the
    oldest transaction still running when that sweep took its snapshot: the sweep
    claimed every such lead it could see, and a transaction it could not see has an
    id at least that. So the next sweep reads only the leads due after
    ``due_through`` and those stamped from ``snapshot_xmin`` on, not every lead
    flagged before.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    due_through = models.DateTimeField()
    snapshot_xmin = models.BigIntegerField()

    class Meta:
        verbose_name = gettext_lazy("SLA sweep mark")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="slasweepmark_one_row")]

    def __str__(self):
        return gettext("SLA sweep through %(at)s") % {"at": f"{self.due_through:%Y-%m-%d %H:%M:%S}"}
