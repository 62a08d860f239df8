"""The lead lifecycle's vocabularies: stages, priorities, history kinds, activity kinds."""

from django.db import models


class Stage(models.TextChoices):
    LEAD = "lead", "Lead"
    MQL = "mql", "MQL"
    SAL = "sal", "SAL (accepted)"
    SQL = "sql", "SQL (qualified)"
    REJECTED = "rejected", "Rejected"
    # Closed as a duplicate of another lead (leads.transitions.merge_lead); unmerging restores its stage.
    MERGED = "merged", "Merged"


# Stages in which a rep owns the lead and is expected to work it.
OWNED_STAGES = (Stage.MQL, Stage.SAL, Stage.SQL)


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"


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
    OPTED_OUT = "opted_out", "Opted out of marketing"
    ERASED = "erased", "Personal data erased"
    # A compensating event: the actor took back an accept, reject or qualify (payload names the event).
    UNDONE = "undone", "Undone"
    MERGED = "merged", "Merged into another lead"
    UNMERGED = "unmerged", "Unmerged"


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
