"""What the configuration audit log watches: one append-only event table per kind of setting.

django-pghistory fills the tables from PostgreSQL triggers, so every change is kept
whatever made it: the admin, the marketers' pages, a bulk ``update()``, a migration or
raw SQL. Each row is a snapshot of the object after the change (``created``,
``changed``) or before it (``deleted``); the change itself, before and after, is the
difference to the object's previous snapshot (see ``leads.audit``). Who and where come
from the request (``pghistory.middleware.HistoryMiddleware``: the signed-in user's id
and the URL), denormalised into each row so that nothing an event says lives elsewhere.

Models are tracked through proxies so that the event models and their triggers
live beside them: these in the leads app, the MQL targets' in ``reports.models``. Fields that change by themselves (round-robin turns, last login, the
password hash) are left out: they are not configuration, and a login would otherwise
be an "event".

The tables are append-only in the database: UPDATE and DELETE are refused
(pghistory's ``append_only``), and TRUNCATE too (migration 0028).
"""

import pghistory
from django.contrib.auth.models import Group, User

from .privacy import ErasedAddress
from .scoring import ScoringConfig, ScoringRule
from .sla import BusinessHours, Holiday, SLAPolicy
from .teams import RejectionReason, Team, TeamMember

# Labels shown in the log: what happened to the object.
CREATED, CHANGED, DELETED = "created", "changed", "deleted"
# The state of each row when the log began (migration 0002): the "before" of its first change.
BASELINE = "baseline"
ADDED, REMOVED = "added", "removed"

_TRACK = {
    "append_only": True,
    "context_field": pghistory.ContextJSONField(),
    "context_id_field": pghistory.ContextUUIDField(),
}


def track_objects(*, exclude=(), name, app_label="leads"):
    """Track inserts, updates and deletes of a model's rows (the proxy this decorates)."""
    return pghistory.track(
        pghistory.InsertEvent(CREATED),
        pghistory.UpdateEvent(CHANGED),
        pghistory.DeleteEvent(DELETED),
        exclude=list(exclude),
        model_name=name,
        app_label=app_label,
        **_TRACK,
    )


def track_links(*, name):
    """Track rows of a many-to-many table being added and removed (a role given, a permission taken)."""
    return pghistory.track(
        pghistory.InsertEvent(ADDED),
        pghistory.DeleteEvent(REMOVED),
        obj_field=None,
        model_name=name,
        app_label="leads",
        **_TRACK,
    )


@track_objects(name="SLAPolicyEvent")
class TrackedSLAPolicy(SLAPolicy):
    class Meta:
        proxy = True


@track_objects(name="BusinessHoursEvent")
class TrackedBusinessHours(BusinessHours):
    class Meta:
        proxy = True


@track_objects(name="HolidayEvent")
class TrackedHoliday(Holiday):
    class Meta:
        proxy = True


@track_objects(name="ScoringRuleEvent")
class TrackedScoringRule(ScoringRule):
    class Meta:
        proxy = True


@track_objects(name="ScoringConfigEvent")
class TrackedScoringConfig(ScoringConfig):
    class Meta:
        proxy = True


@track_objects(name="RejectionReasonEvent")
class TrackedRejectionReason(RejectionReason):
    class Meta:
        proxy = True


@track_objects(exclude=["routing_turns", "routing_pass"], name="TeamEvent")
class TrackedTeam(Team):
    class Meta:
        proxy = True


@track_objects(exclude=["last_turn", "last_routed_at", "routing_pass"], name="TeamMemberEvent")
class TrackedTeamMember(TeamMember):
    class Meta:
        proxy = True


@track_objects(exclude=["password", "last_login"], name="UserEvent")
class TrackedUser(User):
    class Meta:
        proxy = True


@track_objects(name="GroupEvent")
class TrackedGroup(Group):
    class Meta:
        proxy = True


@track_objects(name="ErasedAddressEvent")
class TrackedErasedAddress(ErasedAddress):
    """An address erased (created) or released by an admin (deleted): the digest only, never the address."""

    class Meta:
        proxy = True


@track_links(name="UserRoleEvent")
class TrackedUserRole(User.groups.through):
    class Meta:
        proxy = True


@track_links(name="UserPermissionEvent")
class TrackedUserPermission(User.user_permissions.through):
    class Meta:
        proxy = True


@track_links(name="RolePermissionEvent")
class TrackedRolePermission(Group.permissions.through):
    class Meta:
        proxy = True
