"""The scoring matrix, the threshold, each lead's shares and rescore runs."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from .choices import ActivityKind
from .leads import Lead

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
    one lead in total. A behaviour rule with a half-life lets each activity's
    points decay from the activity's time: ``points * 0.5 ** (age_days /
    half_life_days)``, the cap applying to the decayed sum.
    """

    class Category(models.TextChoices):
        BEHAVIOUR = "behaviour", gettext_lazy("Behaviour")
        DEMOGRAPHIC = "demographic", gettext_lazy("Demographic")

    class Field(models.TextChoices):
        JOB_TITLE = "job_title", gettext_lazy("Job title")
        COMPANY = "company", gettext_lazy("Company")
        COMPANY_SIZE = "company_size", gettext_lazy("Company size")
        COUNTRY = "country", gettext_lazy("Country")
        EMAIL_DOMAIN = "email_domain", gettext_lazy("E-mail domain")
        SOURCE = "source", gettext_lazy("Source")
        CAMPAIGN = "campaign", gettext_lazy("Campaign")

    class Operator(models.TextChoices):
        CONTAINS = "contains", gettext_lazy("contains")
        CONTAINS_ANY = "contains_any", gettext_lazy("contains any of (comma-separated)")
        EQUALS = "equals", gettext_lazy("is")
        ONE_OF = "one_of", gettext_lazy("is one of (comma-separated)")
        BETWEEN = "between", gettext_lazy("is between (numbers)")
        FREE_MAIL = "free_mail", gettext_lazy("is a free-mail provider")

    name = models.CharField(max_length=120)
    category = models.CharField(max_length=12, choices=Category.choices)
    activity_kind = models.CharField(max_length=20, choices=ActivityKind.choices, blank=True)
    url_contains = models.CharField(max_length=200, blank=True, help_text=gettext_lazy("e.g. /pricing; empty: any URL"))
    field = models.CharField(max_length=20, choices=Field.choices, blank=True)
    operator = models.CharField(max_length=20, choices=Operator.choices, blank=True)
    value = models.CharField(max_length=500, blank=True)
    min_value = models.IntegerField(null=True, blank=True)
    max_value = models.IntegerField(null=True, blank=True)
    points = models.IntegerField(validators=[MinValueValidator(-1000), MaxValueValidator(1000)])
    cap = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=gettext_lazy("Most points (either sign) this rule may give one lead; empty: no cap."),
    )
    half_life_days = models.PositiveSmallIntegerField(
        "half-life in days",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=gettext_lazy(
            "Behaviour only: each activity's points halve every this many days; empty: they never fade."
        ),
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
            models.CheckConstraint(
                condition=Q(half_life_days__isnull=True) | Q(category="behaviour", half_life_days__gte=1),
                name="scoringrule_half_life_behaviour_only",
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
        verbose_name = gettext_lazy("scoring settings")
        verbose_name_plural = gettext_lazy("scoring settings")

    def __str__(self):
        return gettext("MQL threshold %(points)s") % {"points": self.mql_threshold}

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
        return gettext("%(rule)s x%(matches)s = %(points)s for lead %(lead)s") % {
            "rule": self.rule,
            "matches": self.matches,
            "points": self.points,
            "lead": self.lead_id,
        }


class ScoringRun(models.Model):
    """A background rescore of every lead after the rules or the threshold changed."""

    class Status(models.TextChoices):
        QUEUED = "queued", gettext_lazy("Queued")
        RUNNING = "running", gettext_lazy("Running")
        DONE = "done", gettext_lazy("Done")
        FAILED = "failed", gettext_lazy("Failed")

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
        return gettext("Rescore %(id)s (%(status)s, %(done)s/%(total)s)") % {
            "id": self.pk,
            "status": self.get_status_display(),
            "done": self.done,
            "total": self.total,
        }

    @property
    def percent(self):
        return 100 if not self.total else min(100, round(100 * self.done / self.total))
