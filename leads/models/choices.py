"""The lead lifecycle's vocabularies: stages, priorities, history kinds, activity kinds."""

from django.db import models
from django.utils.translation import gettext_lazy


class Stage(models.TextChoices):
    LEAD = "lead", gettext_lazy("Lead")
    MQL = "mql", gettext_lazy("MQL")
    SAL = "sal", gettext_lazy("SAL (accepted)")
    SQL = "sql", gettext_lazy("SQL (qualified)")
    REJECTED = "rejected", gettext_lazy("Rejected")
    # Closed as a duplicate of another lead (leads.transitions.merge_lead); unmerging restores its stage.
    MERGED = "merged", gettext_lazy("Merged")


# Stages in which a rep owns the lead and is expected to work it.
OWNED_STAGES = (Stage.MQL, Stage.SAL, Stage.SQL)


class Priority(models.TextChoices):
    LOW = "low", gettext_lazy("Low")
    NORMAL = "normal", gettext_lazy("Normal")
    HIGH = "high", gettext_lazy("High")


class EventKind(models.TextChoices):
    CREATED = "created", gettext_lazy("Created")
    UPDATED = "updated", gettext_lazy("Details updated")
    PROMOTED = "promoted", gettext_lazy("Became MQL")
    ACCEPTED = "accepted", gettext_lazy("Accepted")
    REJECTED = "rejected", gettext_lazy("Rejected")
    QUALIFIED = "qualified", gettext_lazy("Qualified to SQL")
    DISQUALIFIED = "disqualified", gettext_lazy("Disqualified")
    RECYCLED = "recycled", gettext_lazy("Recycled to nurture")
    REASSIGNED = "reassigned", gettext_lazy("Reassigned")
    ACTIVITY = "activity", gettext_lazy("Sales activity")
    SCORE_CHANGED = "score_changed", gettext_lazy("Score changed")
    SLA_BREACHED = "sla_breached", gettext_lazy("SLA breached")
    OPTED_OUT = "opted_out", gettext_lazy("Opted out of marketing")
    ERASED = "erased", gettext_lazy("Personal data erased")
    # A compensating event: the actor took back an accept, reject or qualify (payload names the event).
    UNDONE = "undone", gettext_lazy("Undone")
    MERGED = "merged", gettext_lazy("Merged into another lead")
    UNMERGED = "unmerged", gettext_lazy("Unmerged")


class ActivityKind(models.TextChoices):
    # Sales activities: logged by reps, they count as follow-up.
    CALL = "call", gettext_lazy("Call")
    EMAIL = "email", gettext_lazy("E-mail")
    MEETING = "meeting", gettext_lazy("Meeting")
    CONVERSATION = "conversation", gettext_lazy("Conversation")
    # Marketing behaviour: recorded by integrations, they feed scoring.
    EMAIL_CLICK = "email_click", gettext_lazy("E-mail click-through")
    WEBSITE_VISIT = "website_visit", gettext_lazy("Website visit")
    WEBINAR = "webinar", gettext_lazy("Webinar attendance")
    CONTENT_DOWNLOAD = "content_download", gettext_lazy("Content download")
    FORM_COMPLETION = "form_completion", gettext_lazy("Form completion")
    SOCIAL = "social", gettext_lazy("Social interaction")


SALES_ACTIVITY_KINDS = (ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING, ActivityKind.CONVERSATION)
