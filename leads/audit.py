"""The configuration audit log as an admin reads it: who changed what, when, before and after.

The rows come from django-pghistory's ``Events`` view over every event table (the
leads app's, ``leads/models/audit.py``, and the MQL targets' in ``reports/models.py``),
newest first; ``pgh_diff`` holds each changed field's before and after (against
the object's previous snapshot). ``entries`` turns a page of them into ``Entry`` rows
and names the people, roles, teams and permissions they mention in a few queries.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import FieldDoesNotExist
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_lazy, gettext_noop, pgettext_lazy
from pghistory.models import Events

from .models import Team
from .models.audit import ADDED, BASELINE, CREATED, DELETED, REMOVED

# Event model -> what one object of it is called in the log.
KINDS = {
    "SLAPolicyEvent": gettext_lazy("SLA policy"),
    "BusinessHoursEvent": gettext_lazy("Business hours"),
    "HolidayEvent": gettext_lazy("Holiday"),
    "ScoringRuleEvent": gettext_lazy("Scoring rule"),
    "ScoringConfigEvent": gettext_lazy("MQL threshold"),
    "MonthlyTargetEvent": gettext_lazy("MQL target"),
    "RejectionReasonEvent": gettext_lazy("Rejection reason"),
    "ErasedAddressEvent": gettext_lazy("Erased address"),
    "TeamEvent": gettext_lazy("Team"),
    "TeamMemberEvent": gettext_lazy("Team member"),
    "UserEvent": gettext_lazy("User"),
    "GroupEvent": gettext_lazy("Role"),
    "UserRoleEvent": gettext_lazy("Role of a user"),
    "UserPermissionEvent": gettext_lazy("Permission of a user"),
    "RolePermissionEvent": gettext_lazy("Permission of a role"),
}

# Names of the tracked models" fields and of the models permissions are about, which Django derives
# from code names in English; the log shows them in the reader"s language (gettext at display).
FIELD_NAMES = (
    gettext_noop("ID"),
    gettext_noop("activity kind"),
    gettext_noop("business hours"),
    gettext_noop("cap"),
    gettext_noop("category"),
    gettext_noop("closes"),
    gettext_noop("code"),
    gettext_noop("date"),
    gettext_noop("digest"),
    gettext_noop("erased at"),
    gettext_noop("field"),
    gettext_noop("friday"),
    gettext_noop("group"),
    gettext_noop("half-life in days"),
    gettext_noop("is active"),
    gettext_noop("is available"),
    gettext_noop("is default"),
    gettext_noop("label"),
    gettext_noop("last routed at"),
    gettext_noop("last turn"),
    gettext_noop("max value"),
    gettext_noop("min value"),
    gettext_noop("monday"),
    gettext_noop("month"),
    gettext_noop("mql capacity"),
    gettext_noop("mql target"),
    gettext_noop("mql threshold"),
    gettext_noop("name"),
    gettext_noop("notify managers"),
    gettext_noop("notify owner"),
    gettext_noop("opens"),
    gettext_noop("operator"),
    gettext_noop("permission"),
    gettext_noop("points"),
    gettext_noop("position"),
    gettext_noop("priority"),
    gettext_noop("reassign after minutes"),
    gettext_noop("reassign on breach"),
    gettext_noop("rep"),
    gettext_noop("response minutes"),
    gettext_noop("role"),
    gettext_noop("routing pass"),
    gettext_noop("routing turns"),
    gettext_noop("routing weight"),
    gettext_noop("saturday"),
    gettext_noop("source"),
    gettext_noop("sunday"),
    gettext_noop("team"),
    gettext_noop("thursday"),
    gettext_noop("time zone"),
    gettext_noop("tuesday"),
    gettext_noop("updated at"),
    gettext_noop("updated by"),
    gettext_noop("url contains"),
    gettext_noop("user"),
    gettext_noop("value"),
    gettext_noop("wednesday"),
)
MODEL_NAMES = (
    gettext_noop("account"),
    gettext_noop("activity"),
    gettext_noop("business hours"),
    gettext_noop("chat notice"),
    gettext_noop("digest opt out"),
    gettext_noop("erased address"),
    gettext_noop("holiday"),
    gettext_noop("import job"),
    gettext_noop("import row error"),
    gettext_noop("import row fate"),
    gettext_noop("lead"),
    gettext_noop("lead rule score"),
    gettext_noop("monthly target"),
    gettext_noop("mql episode"),
    gettext_noop("notification preferences"),
    gettext_noop("rejection reason"),
    gettext_noop("saved view"),
    gettext_noop("scoring rule"),
    gettext_noop("scoring run"),
    gettext_noop("slack identity"),
    gettext_noop("team"),
    gettext_noop("team member"),
    gettext_noop("webhook attempt"),
    gettext_noop("webhook delivery"),
    gettext_noop("webhook subscription"),
    gettext_noop("weekly digest"),
)


def kind_choices():
    """The kinds as (event model, name) in the order of their names in the active language."""
    return sorted(((model, str(name)) for model, name in KINDS.items()), key=lambda item: item[1])


ACTIONS = {
    CREATED: pgettext_lazy("audit action", "created"),
    "changed": pgettext_lazy("audit action", "changed"),
    DELETED: pgettext_lazy("audit action", "deleted"),
    ADDED: pgettext_lazy("audit action", "added"),
    REMOVED: pgettext_lazy("audit action", "removed"),
}
# An erased address is "created" by an erasure and "deleted" when an admin releases it.
ERASED_ADDRESS_ACTIONS = {
    CREATED: pgettext_lazy("audit action", "recorded by an erasure"),
    DELETED: pgettext_lazy("audit action", "released"),
}
# Where an object's own name is, per event model; the others are named from ids below.
NAME_FIELDS = {
    "SLAPolicyEvent": "name",
    "BusinessHoursEvent": "name",
    "ScoringRuleEvent": "name",
    "RejectionReasonEvent": "label",
    "TeamEvent": "name",
    "UserEvent": "username",
    "GroupEvent": "name",
}
# Ids in snapshots that name something, and what.
REFERENCES = {
    "user_id": User,
    "updated_by_id": User,
    "group_id": Group,
    "team_id": Team,
    "permission_id": Permission,
}


def event_model(name):
    """The event model called ``name`` (e.g. "SLAPolicyEvent"), whichever app keeps it; raises LookupError."""
    for app_label in ("leads", "reports"):
        try:
            return apps.get_model(app_label, name)
        except LookupError:
            continue
    raise LookupError(name)


def event_tables():
    """The log's tables, each refusing UPDATE, DELETE and TRUNCATE; raises nothing."""
    return [event_model(name)._meta.db_table for name in KINDS]


@dataclass(frozen=True)
class Change:
    field: str
    before: object
    after: object


@dataclass(frozen=True)
class Entry:
    at: datetime
    who: str
    via: str
    kind: str
    name: str
    action: str
    changes: tuple = field(default=())


def events(*, kind="", user_id=None):
    """Return the log's events newest first (baselines left out), optionally of one kind or by one user; raises nothing."""
    found = Events.objects.exclude(pgh_label=BASELINE)
    if kind in KINDS:
        found = found.across(event_model(kind))
    if user_id is not None:
        found = found.filter(pgh_context__user=user_id)
    return found.order_by("-pgh_created_at", "-pgh_id")


def _model_name(event):
    return event.pgh_model.split(".", 1)[1]


def _names(events):
    """``{(model, id): name}`` for every user, role, team and permission the events mention (a query per model)."""
    wanted = {model: set() for model in REFERENCES.values()}
    for event in events:
        user = (event.pgh_context or {}).get("user")
        if user is not None:
            wanted[User].add(user)
        data, diff = event.pgh_data or {}, event.pgh_diff or {}
        for column, model in REFERENCES.items():
            for value in (data.get(column), *diff.get(column, ())):
                if isinstance(value, int):
                    wanted[model].add(value)
    names = {}
    for model, ids in wanted.items():
        if not ids:
            continue
        found = model.objects.filter(pk__in=ids)
        if model is Permission:
            found = found.select_related("content_type")  # a permission's name includes its model's
        for obj in found:
            if model is User:
                names[model, obj.pk] = obj.get_full_name() or obj.get_username()
            elif model is Permission:
                names[model, obj.pk] = _permission_name(obj)
            else:
                names[model, obj.pk] = str(obj)
    return names


PERMISSION_ACTIONS = {
    "add": pgettext_lazy("permission", "add"),
    "change": pgettext_lazy("permission", "change"),
    "delete": pgettext_lazy("permission", "delete"),
    "view": pgettext_lazy("permission", "view"),
}


def _permission_name(permission):
    """'Saved view: view' for Django's 'leads | saved view | Can view saved view', in the reader's language."""
    action = PERMISSION_ACTIONS.get(permission.codename.split("_", 1)[0])
    model = permission.content_type.model_class()
    if action is None or model is None:
        return str(permission)
    return gettext("%(model)s: %(action)s") % {
        "model": capfirst(gettext(str(model._meta.verbose_name))),
        "action": action,
    }


def _label(model, column):
    tracked = event_model(model).pgh_tracked_model
    for model_field in tracked._meta.concrete_fields:
        if model_field.column == column:
            return capfirst(gettext(str(model_field.verbose_name)))
    try:
        return capfirst(gettext(str(tracked._meta.get_field(column).verbose_name)))
    except FieldDoesNotExist:
        return column


def _value(column, value, names):
    model = REFERENCES.get(column)
    if model is not None and isinstance(value, int):
        return names.get((model, value), f"#{value}")
    if isinstance(value, str) and "T" in value and parse_datetime(value) is not None:
        return parse_datetime(value)
    return value


def _object_name(model, data, names):
    if model in NAME_FIELDS:
        return str(data.get(NAME_FIELDS[model], ""))
    parts = [str(_value(column, data[column], names)) for column in REFERENCES if data.get(column) is not None]
    if model == "HolidayEvent":
        calendar = gettext("calendar #%(id)s") % {"id": data.get("business_hours_id")}
        parts = [f"{data.get('date')} {data.get('name', '')}".strip(), calendar]
    if model == "MonthlyTargetEvent":
        parts = [str(data.get("month", ""))[:7], names.get((Team, data.get("team_id")), gettext("all teams"))]
    if model == "ScoringConfigEvent":
        return gettext("MQL threshold")
    if model == "ErasedAddressEvent":
        return gettext("digest %(digest)s…") % {"digest": str(data.get("digest", ""))[:12]}
    return " · ".join(part for part in parts if part)


def _changes(model, event, names):
    data = event.pgh_data or {}
    skip = {"id"}
    if event.pgh_label == "changed":
        pairs = sorted((event.pgh_diff or {}).items())
        return tuple(
            Change(_label(model, column), _value(column, before, names), _value(column, after, names))
            for column, (before, after) in pairs
            if column not in skip
        )
    if event.pgh_label in (ADDED, REMOVED):
        return ()  # the name says it all: who got or lost which role or permission
    if event.pgh_label == CREATED:
        return tuple(
            Change(_label(model, column), None, _value(column, value, names))
            for column, value in data.items()
            if column not in skip
        )
    return tuple(
        Change(_label(model, column), _value(column, value, names), None)
        for column, value in data.items()
        if column not in skip
    )


def entries(events):
    """Turn a page of ``events`` into ``Entry`` rows, naming who and what; raises nothing."""
    events = list(events)
    names = _names(events)
    rows = []
    for event in events:
        model = _model_name(event)
        context = event.pgh_context or {}
        user = context.get("user")
        if user is None:
            who = gettext("System (no signed-in user)")
        else:
            who = names.get((User, user)) or gettext("user #%(id)s") % {"id": user}
        rows.append(
            Entry(
                at=event.pgh_created_at,
                who=who,
                via=context.get("url", ""),
                kind=str(KINDS.get(model, model)),
                name=_object_name(model, event.pgh_data or {}, names),
                action=str(
                    (ERASED_ADDRESS_ACTIONS if model == "ErasedAddressEvent" else ACTIONS).get(
                        event.pgh_label, event.pgh_label
                    )
                ),
                changes=_changes(model, event, names),
            )
        )
    return rows
