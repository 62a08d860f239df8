"""The leads app's models, a module per part of the product; import them from here.

- ``choices``: stages, priorities, history kinds, activity kinds;
- ``teams``: Team, TeamMember, RejectionReason;
- ``sla``: BusinessHours, Holiday, SLAPolicy;
- ``leads``: Lead (and its queryset), MqlEpisode;
- ``history``: LeadEvent, append-only;
- ``activities``: Activity, OutboxMessage;
- ``scoring``: ScoringRule, ScoringConfig, LeadRuleScore, ScoringRun;
- ``imports``: ImportJob, ImportRowError;
- ``privacy``: ErasedAddress, OptOut.
"""

# The audit log's event models register with the app; nothing imports them by name.
from . import audit  # noqa: F401
from .activities import Activity, OutboxMessage
from .choices import OWNED_STAGES, SALES_ACTIVITY_KINDS, ActivityKind, EventKind, Priority, Stage
from .history import AppendOnlyError, LeadEvent, LeadEventQuerySet
from .imports import ImportJob, ImportRowError
from .leads import Lead, LeadQuerySet, MqlEpisode
from .privacy import ErasedAddress, OptOut
from .scoring import FREE_MAIL_DOMAINS, LeadRuleScore, ScoringConfig, ScoringRule, ScoringRun
from .sla import WEEKDAYS, BusinessHours, Holiday, SLAPolicy, validate_time_zone
from .teams import RejectionReason, Team, TeamMember

__all__ = [
    "FREE_MAIL_DOMAINS",
    "OWNED_STAGES",
    "SALES_ACTIVITY_KINDS",
    "WEEKDAYS",
    "Activity",
    "ActivityKind",
    "AppendOnlyError",
    "BusinessHours",
    "ErasedAddress",
    "EventKind",
    "Holiday",
    "ImportJob",
    "ImportRowError",
    "Lead",
    "LeadEvent",
    "LeadEventQuerySet",
    "LeadQuerySet",
    "LeadRuleScore",
    "MqlEpisode",
    "OptOut",
    "OutboxMessage",
    "Priority",
    "RejectionReason",
    "SLAPolicy",
    "ScoringConfig",
    "ScoringRule",
    "ScoringRun",
    "Stage",
    "Team",
    "TeamMember",
    "validate_time_zone",
]
