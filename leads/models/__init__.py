"""The leads app's models, a module per part of the product; import them from here.

- ``choices``: stages, priorities, history kinds, activity kinds;
- ``accounts``: Account, FreeMailDomain;
- ``teams``: Team, TeamMember, OutOfOffice, RejectionReason;
- ``sla``: BusinessHours, Holiday, SLAPolicy, SLASweepMark;
- ``leads``: Lead (and its queryset), MqlEpisode;
- ``history``: LeadEvent, append-only;
- ``activities``: Activity, OutboxMessage;
- ``scoring``: ScoringRule, ScoringConfig, LeadRuleScore, ScoringRun;
- ``imports``: ImportJob, ImportRowError, ImportRowFate;
- ``privacy``: ErasedAddress, OptOut;
- ``webhooks``: WebhookSubscription, WebhookDelivery, WebhookAttempt;
- ``notices``: TeamChat, SlackIdentity, NotificationPreferences, ChatNotice;
- ``views``: SavedView (saved searches of the lead list);
- ``profiles``: UserProfile (language and time zone).
"""

# The audit log's event models register with the app; nothing imports them by name.
from . import audit  # noqa: F401
from .accounts import Account, FreeMailDomain
from .activities import Activity, OutboxMessage
from .choices import OWNED_STAGES, SALES_ACTIVITY_KINDS, ActivityKind, EventKind, Priority, Stage
from .history import AppendOnlyError, LeadEvent, LeadEventQuerySet
from .imports import ImportJob, ImportRowError, ImportRowFate
from .leads import Lead, LeadQuerySet, MqlEpisode
from .notices import ChatNotice, NoticeKind, NotificationPreferences, SlackIdentity, TeamChat
from .privacy import ErasedAddress, OptOut
from .profiles import UserProfile
from .scoring import FREE_MAIL_DOMAINS, LeadRuleScore, ScoringConfig, ScoringRule, ScoringRun
from .sla import WEEKDAYS, BusinessHours, Holiday, SLAPolicy, SLASweepMark, validate_time_zone
from .teams import OutOfOffice, RejectionReason, Team, TeamMember
from .views import SavedView
from .webhooks import EVENT_TYPES, WebhookAttempt, WebhookDelivery, WebhookSubscription, event_type_of

__all__ = [
    "EVENT_TYPES",
    "FREE_MAIL_DOMAINS",
    "OWNED_STAGES",
    "SALES_ACTIVITY_KINDS",
    "WEEKDAYS",
    "Account",
    "Activity",
    "ActivityKind",
    "AppendOnlyError",
    "BusinessHours",
    "ChatNotice",
    "ErasedAddress",
    "EventKind",
    "FreeMailDomain",
    "Holiday",
    "ImportJob",
    "ImportRowError",
    "ImportRowFate",
    "Lead",
    "LeadEvent",
    "LeadEventQuerySet",
    "LeadQuerySet",
    "LeadRuleScore",
    "MqlEpisode",
    "NoticeKind",
    "NotificationPreferences",
    "OptOut",
    "OutOfOffice",
    "OutboxMessage",
    "Priority",
    "RejectionReason",
    "SLAPolicy",
    "SLASweepMark",
    "SavedView",
    "ScoringConfig",
    "ScoringRule",
    "ScoringRun",
    "SlackIdentity",
    "Stage",
    "Team",
    "TeamChat",
    "TeamMember",
    "UserProfile",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "event_type_of",
    "validate_time_zone",
]
