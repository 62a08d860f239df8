"""Chat notices (Slack, Microsoft Teams) and what each user wants to hear, where and when."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from .history import LeadEvent
from .leads import Lead
from .profiles import zone_name_of
from .teams import Team


class NoticeKind(models.TextChoices):
    """The kinds of notice a user chooses channels for."""

    NEW_MQL = "new_mql", gettext_lazy("A new MQL is mine")
    SLA_RISK = "sla_risk", gettext_lazy("An MQL of mine has a quarter of its SLA window left")
    SLA_BREACH = "sla_breach", gettext_lazy("An MQL missed its SLA")


class TeamChat(models.Model):
    """Where a team's chat notices go: a Slack channel, a Teams incoming webhook, Slack DMs to reps."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="chat")
    slack_channel = models.CharField(
        max_length=40, blank=True, help_text=gettext_lazy("Slack channel id (C0123...) for SLA risks and breaches.")
    )
    slack_direct_messages = models.BooleanField(
        default=True, help_text=gettext_lazy("Send each new MQL to its owner in Slack (matched by e-mail).")
    )
    teams_webhook_url = models.URLField(
        max_length=500, blank=True, help_text=gettext_lazy("Microsoft Teams incoming webhook for the team's notices.")
    )

    class Meta:
        verbose_name = gettext_lazy("team chat")

    def __str__(self):
        return gettext("Chat of %(team)s") % {"team": self.team}


class SlackIdentity(models.Model):
    """A Funnel user's Slack account, found by e-mail address."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="slack")
    slack_user_id = models.CharField(max_length=40, unique=True)
    email = models.EmailField(max_length=254, help_text=gettext_lazy("The address both accounts share."))
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = gettext_lazy("Slack identities")

    def __str__(self):
        return f"{self.user} = Slack {self.slack_user_id}"


class NotificationPreferences(models.Model):
    """Per kind of notice: e-mail, chat (Slack or Teams), both or none; and quiet hours in the user's zone."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_prefs")
    # Notices due in quiet hours wait until they end; from == until means none.
    quiet_from = models.TimeField(null=True, blank=True)
    quiet_until = models.TimeField(null=True, blank=True)
    new_mql_email = models.BooleanField(default=True)
    new_mql_chat = models.BooleanField(default=True)
    sla_risk_email = models.BooleanField(default=False)
    sla_risk_chat = models.BooleanField(default=True)
    sla_breach_email = models.BooleanField(default=True)
    sla_breach_chat = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = gettext_lazy("notification preferences")
        constraints = [
            models.CheckConstraint(
                condition=Q(quiet_from__isnull=True, quiet_until__isnull=True)
                | Q(quiet_from__isnull=False, quiet_until__isnull=False),
                name="notificationpreferences_quiet_hours_both_or_none",
                violation_error_message=gettext_lazy("Give both ends of your quiet hours, or neither."),
            ),
        ]

    def __str__(self):
        return gettext("Notification preferences of %(user)s") % {"user": self.user}

    @property
    def time_zone(self):
        """The user's time zone (their profile's; UTC until known): quiet hours are in it."""
        return zone_name_of(self.user) if self.user_id else "UTC"

    def wants(self, kind, channel):
        return getattr(self, f"{kind}_{channel}")


class ChatNotice(models.Model):
    """A chat message waiting to be sent, written in the same transaction as its cause.

    New MQLs and SLA breaches come from the history trigger (migration 0041), SLA
    risks from the risk sweep. Slack notices are a direct message for a new MQL and
    a post in the team's channel otherwise; several waiting for one channel are sent
    as one message. Where a notice went is kept so its message can be updated when
    someone acts on it.
    """

    class Target(models.TextChoices):
        SLACK = "slack", gettext_lazy("Slack")
        TEAMS = "teams", gettext_lazy("Microsoft Teams")

    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    target = models.CharField(max_length=10, choices=Target.choices)
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    # Whose notice this is (the lead's owner): their preferences decide if and when it goes.
    addressee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    event = models.ForeignKey(
        LeadEvent, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+", db_index=False
    )
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Held back (quiet hours) until then.
    not_before = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Why it was not sent, or why the last attempt failed.
    last_error = models.TextField(blank=True)
    # Where the Slack message is, to update it when someone acts.
    slack_channel = models.CharField(max_length=40, blank=True)
    slack_ts = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The deliverer: unsent notices, oldest first.
            models.Index(fields=["created_at"], name="chatnotice_unsent_idx", condition=Q(sent_at__isnull=True)),
            # Re-rendering a Slack message: the notices it carries.
            models.Index(
                fields=["slack_channel", "slack_ts"], name="chatnotice_message_idx", condition=~Q(slack_ts="")
            ),
        ]

    def __str__(self):
        return gettext("%(kind)s (%(target)s) for lead %(lead)s") % {
            "kind": self.get_kind_display(),
            "target": self.get_target_display(),
            "lead": self.lead_id,
        }
