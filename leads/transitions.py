"""The only code that changes a lead: its stage, owner and details.

One public function per business verb. Each runs in a transaction, re-reads
the lead with ``select_for_update()``, checks the move against ``ALLOWED_MOVES``
and the actor against ``leads.access``, writes the change with a conditional
UPDATE on the lead's version (so of two concurrent actions exactly one wins),
appends one history row (``leads.history``) and returns the fresh lead. A
refused move raises a ``LeadError`` subclass with a readable message and
changes nothing. A caller that showed the user a lead passes the ``version``
it showed: if the lead changed since, the verb refuses with ``ConcurrentUpdate``.

Creating and editing leads have set-wise twins (``create_leads``,
``update_leads``) for the import, so an import and a hand edit leave the same
history; ``promote_if_ready`` is the one path from a score to an MQL.
"""

import logging
from collections import defaultdict
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from . import access, accounts, background, duplicates, history, notifications, privacy, routing, scoring, sla
from .company_sizes import CompanySizeError, size_fields
from .models import (
    SALES_ACTIVITY_KINDS,
    Activity,
    ActivityKind,
    EventKind,
    Lead,
    LeadEvent,
    MqlEpisode,
    OptOut,
    RejectionReason,
    Stage,
    Team,
    TeamMember,
)
from .sql import insert_rows_returning_ids, update_rows

log = logging.getLogger(__name__)

# verb -> (stages it may start from, stage it leads to; None keeps the stage)
ALLOWED_MOVES = {
    "promote": ({Stage.LEAD}, Stage.MQL),
    "accept": ({Stage.MQL}, Stage.SAL),
    "reject": ({Stage.MQL}, Stage.REJECTED),
    "qualify": ({Stage.SAL}, Stage.SQL),
    "disqualify": ({Stage.SAL}, Stage.REJECTED),
    "recycle": ({Stage.REJECTED}, Stage.LEAD),
    "reassign": ({Stage.MQL, Stage.SAL, Stage.SQL}, None),
    "log_activity": ({Stage.MQL, Stage.SAL, Stage.SQL}, None),
    "opt_out": (set(Stage), None),
    "merge": ({Stage.LEAD, Stage.MQL, Stage.SAL, Stage.SQL, Stage.REJECTED}, Stage.MERGED),
    "unmerge": ({Stage.MERGED}, None),
    "erase": (set(Stage), None),
}

MAX_NOTE_LENGTH = 2000

# How long the actor may take back an accept, reject or qualify (``undo_lead``).
UNDO_WINDOW = timedelta(minutes=10)
# The events ``undo_lead`` reverses -> the verb that wrote them (its permission is needed to undo).
UNDOABLE_EVENTS = {EventKind.ACCEPTED: "accept", EventKind.REJECTED: "reject", EventKind.QUALIFIED: "qualify"}
# The refusals, one whole sentence per verb (so each language can build its own).
NOT_PERMITTED = {
    "promote": gettext_lazy("You may not promote to MQL this lead."),
    "accept": gettext_lazy("You may not accept this lead."),
    "reject": gettext_lazy("You may not reject this lead."),
    "qualify": gettext_lazy("You may not qualify this lead."),
    "disqualify": gettext_lazy("You may not disqualify this lead."),
    "recycle": gettext_lazy("You may not recycle this lead."),
    "reassign": gettext_lazy("You may not reassign this lead."),
    "log_activity": gettext_lazy("You may not log an activity on this lead."),
    "opt_out": gettext_lazy("You may not record an opt-out for this lead."),
    "erase": gettext_lazy("You may not erase the personal data of this lead."),
    "merge": gettext_lazy("You may not merge this lead."),
    "unmerge": gettext_lazy("You may not unmerge this lead."),
}
WRONG_STAGE = {
    "promote": gettext_lazy("Cannot promote to MQL a lead in stage %(stage)s: only a lead in stage %(allowed)s can."),
    "accept": gettext_lazy("Cannot accept a lead in stage %(stage)s: only a lead in stage %(allowed)s can."),
    "reject": gettext_lazy("Cannot reject a lead in stage %(stage)s: only a lead in stage %(allowed)s can."),
    "qualify": gettext_lazy("Cannot qualify a lead in stage %(stage)s: only a lead in stage %(allowed)s can."),
    "disqualify": gettext_lazy("Cannot disqualify a lead in stage %(stage)s: only a lead in stage %(allowed)s can."),
    "recycle": gettext_lazy("Cannot recycle a lead in stage %(stage)s: only a lead in stage %(allowed)s can."),
    "reassign": gettext_lazy("Cannot reassign a lead in stage %(stage)s: only a lead in stage %(allowed)s can."),
    "log_activity": gettext_lazy(
        "Cannot log an activity on a lead in stage %(stage)s: only a lead in stage %(allowed)s can."
    ),
    "opt_out": gettext_lazy(
        "Cannot record an opt-out for a lead in stage %(stage)s: only a lead in stage %(allowed)s can."
    ),
    "erase": gettext_lazy(
        "Cannot erase the personal data of a lead in stage %(stage)s: only a lead in stage %(allowed)s can."
    ),
    "merge": gettext_lazy("Cannot merge a lead in stage %(stage)s: only a lead in stage %(allowed)s can."),
    "unmerge": gettext_lazy("Cannot unmerge a lead in stage %(stage)s: only a lead in stage %(allowed)s can."),
}
# The undo refusals: what the actor did (only these can be undone) ...
ALREADY_UNDONE = {
    EventKind.ACCEPTED: gettext_lazy("Nothing to undo: you already undid your last action here (you accepted it)."),
    EventKind.REJECTED: gettext_lazy("Nothing to undo: you already undid your last action here (you rejected it)."),
    EventKind.QUALIFIED: gettext_lazy("Nothing to undo: you already undid your last action here (you qualified it)."),
}
TOO_LATE = {
    EventKind.ACCEPTED: gettext_lazy(
        "Too late to undo: you accepted this lead %(minutes)s minutes ago, "
        "and an action can be undone for %(window)s minutes."
    ),
    EventKind.REJECTED: gettext_lazy(
        "Too late to undo: you rejected this lead %(minutes)s minutes ago, "
        "and an action can be undone for %(window)s minutes."
    ),
    EventKind.QUALIFIED: gettext_lazy(
        "Too late to undo: you qualified this lead %(minutes)s minutes ago, "
        "and an action can be undone for %(window)s minutes."
    ),
}
ACTED_SINCE = {
    EventKind.ACCEPTED: gettext_lazy("Cannot undo: %(since)s, after you accepted it."),
    EventKind.REJECTED: gettext_lazy("Cannot undo: %(since)s, after you rejected it."),
    EventKind.QUALIFIED: gettext_lazy("Cannot undo: %(since)s, after you qualified it."),
}
# ... and what happened since: by the actor themselves ("You ...") or by someone else.
YOU_DID = {
    EventKind.UPDATED: gettext_lazy("You edited the details of this lead at %(time)s"),
    EventKind.ACCEPTED: gettext_lazy("You accepted this lead at %(time)s"),
    EventKind.REJECTED: gettext_lazy("You rejected this lead at %(time)s"),
    EventKind.QUALIFIED: gettext_lazy("You qualified this lead at %(time)s"),
    EventKind.DISQUALIFIED: gettext_lazy("You disqualified this lead at %(time)s"),
    EventKind.RECYCLED: gettext_lazy("You recycled this lead at %(time)s"),
    EventKind.REASSIGNED: gettext_lazy("You reassigned this lead at %(time)s"),
    EventKind.ACTIVITY: gettext_lazy("You logged an activity on this lead at %(time)s"),
    EventKind.OPTED_OUT: gettext_lazy("You recorded an opt-out for this lead at %(time)s"),
    EventKind.ERASED: gettext_lazy("You erased this lead at %(time)s"),
    EventKind.UNDONE: gettext_lazy("You undid an action on this lead at %(time)s"),
    EventKind.PROMOTED: gettext_lazy("You promoted this lead at %(time)s"),
    EventKind.SLA_BREACHED: gettext_lazy("You flagged an SLA breach on this lead at %(time)s"),
}
YOU_CHANGED = gettext_lazy("You changed this lead at %(time)s")
SOMEONE_DID = {
    EventKind.UPDATED: gettext_lazy("%(who)s edited the details of this lead at %(time)s"),
    EventKind.ACCEPTED: gettext_lazy("%(who)s accepted this lead at %(time)s"),
    EventKind.REJECTED: gettext_lazy("%(who)s rejected this lead at %(time)s"),
    EventKind.QUALIFIED: gettext_lazy("%(who)s qualified this lead at %(time)s"),
    EventKind.DISQUALIFIED: gettext_lazy("%(who)s disqualified this lead at %(time)s"),
    EventKind.RECYCLED: gettext_lazy("%(who)s recycled this lead at %(time)s"),
    EventKind.REASSIGNED: gettext_lazy("%(who)s reassigned this lead at %(time)s"),
    EventKind.ACTIVITY: gettext_lazy("%(who)s logged an activity on this lead at %(time)s"),
    EventKind.OPTED_OUT: gettext_lazy("%(who)s recorded an opt-out for this lead at %(time)s"),
    EventKind.ERASED: gettext_lazy("%(who)s erased this lead at %(time)s"),
    EventKind.UNDONE: gettext_lazy("%(who)s undid an action on this lead at %(time)s"),
    EventKind.PROMOTED: gettext_lazy("%(who)s promoted this lead at %(time)s"),
    EventKind.SLA_BREACHED: gettext_lazy("%(who)s flagged an SLA breach on this lead at %(time)s"),
}
SOMEONE_CHANGED = gettext_lazy("%(who)s changed this lead at %(time)s")


class LeadError(Exception):
    """A refused lead operation; ``status_code`` is what the API answers."""

    status_code = 409

    def __init__(self, message, *, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


class IllegalTransition(LeadError):
    status_code = 409


class ConcurrentUpdate(LeadError):
    status_code = 409


class NotPermitted(LeadError):
    status_code = 403


class InvalidInput(LeadError):
    status_code = 400


def available_actions(lead, user):
    """Return the verbs ``user`` may perform on ``lead`` in its current stage (what to offer in a UI); raises nothing."""
    done = {"erase"} if lead.erased_at else set()
    if lead.opted_out_at:
        done.add("opt_out")
    return frozenset(
        verb
        for verb, (sources, _) in ALLOWED_MOVES.items()
        if lead.stage in sources and verb not in done and access.can_act(user, lead, verb)
    )


def _stage_label(stage):
    return str(Stage(stage).label) if stage in Stage.values else stage


def _either(labels):
    """``labels`` joined as alternatives: "A or B or C" (in the active language)."""
    labels = list(labels)
    text = labels[0]
    for label in labels[1:]:
        text = gettext("%(first)s or %(second)s") % {"first": text, "second": label}
    return text


def _english(label):
    """A choice's label in English, as the history stores it (pages translate it when they show it)."""
    with translation.override("en"):
        return str(label)


def _check_move(lead, verb, by, *, note=""):
    if by is not None and not access.can_act(by, lead, verb):
        raise NotPermitted(str(NOT_PERMITTED[verb]))
    sources, _ = ALLOWED_MOVES[verb]
    if lead.stage not in sources:
        allowed = _either(sorted(_stage_label(s) for s in sources))
        raise IllegalTransition(WRONG_STAGE[verb] % {"stage": _stage_label(lead.stage), "allowed": allowed})
    if note and lead.erased_at is not None:
        raise InvalidInput(
            gettext("This person's data was erased on %(date)s: the history takes no more notes about them.")
            % {"date": f"{lead.erased_at:%Y-%m-%d}"},
            field="note",
        )


def _lock(lead, version=None):
    try:
        current = Lead.objects.select_for_update().get(pk=lead.pk)
    except Lead.DoesNotExist:
        raise InvalidInput(gettext("This lead does not exist.")) from None
    if version is not None and version != current.version:
        raise ConcurrentUpdate(gettext("Someone else changed this lead since you loaded it; reload it and try again."))
    return current


def _write(lead, now, **changes):
    """Apply ``changes`` with a conditional UPDATE on the version the caller read."""
    changes["updated_at"] = now
    updated = Lead.objects.filter(pk=lead.pk, version=lead.version).update(version=F("version") + 1, **changes)
    if updated != 1:
        raise ConcurrentUpdate(gettext("Someone else changed this lead at the same moment; reload it and try again."))
    for field, value in changes.items():
        setattr(lead, field, value)
    lead.version += 1
    return lead


def _update_episode(lead, **fields):
    """Mirror a change onto the lead's current MQL episode (the reports' read model)."""
    if fields and lead.mql_episode:
        MqlEpisode.objects.filter(lead_id=lead.pk, number=lead.mql_episode).update(**fields)


def _notify_owner(lead):
    """Queue the owner's e-mail in this transaction; deliver it once committed."""
    if notifications.queue_assignment_email(lead) is not None:
        background.once_after_commit("leads.tasks.deliver_outbox_task")


def _route_waiting_after_commit(lead):
    """An answered MQL frees capacity: route the team's waiting MQLs right away."""
    if Lead.objects.filter(team_id=lead.team_id, stage=Stage.MQL, owner__isnull=True).exists():
        background.once_after_commit("leads.tasks.route_waiting_mqls_task")


def _sla_window(lead, start, policy=None):
    try:
        return sla.response_clock(lead, start, policy=policy)
    except ValueError as exc:
        raise InvalidInput(gettext("Cannot compute the SLA due time: %(why)s") % {"why": exc}) from None


def _clean_note(note):
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidInput(
            gettext("The note is too long (%(length)s characters; at most %(limit)s).")
            % {"length": len(note), "limit": MAX_NOTE_LENGTH},
            field="note",
        )
    return note


def _clean_reason(reason):
    if reason in (None, ""):
        raise InvalidInput(gettext("A rejection reason is required."), field="reason")
    if isinstance(reason, RejectionReason):
        found = reason
    else:
        found = RejectionReason.objects.filter(code=str(reason)).first()
        if found is None:
            raise InvalidInput(
                gettext("Unknown rejection reason %(reason)s.") % {"reason": repr(reason)}, field="reason"
            )
    if not found.is_active:
        raise InvalidInput(
            gettext("The rejection reason %(reason)s is no longer in use.") % {"reason": repr(found.code)},
            field="reason",
        )
    return found


def _follow_up_changes(lead, at):
    """A first sales response on an awaiting MQL stops its SLA clock."""
    if lead.stage == Stage.MQL and lead.first_follow_up_at is None and lead.mql_at is not None and at >= lead.mql_at:
        return {"first_follow_up_at": at}
    return {}


# The details of a lead that people and imports edit; the rest is the product's to keep.
EDITABLE_FIELDS = (
    "name",
    "email",
    "phone",
    "company",
    "job_title",
    "company_size",
    "country",
    "source",
    "campaign",
    "priority",
)
# What a new lead may be created with besides its details: the team its MQLs go to.
CREATE_FIELDS = (*EDITABLE_FIELDS, "team")
# What a new lead is inserted with; the other columns start NULL.
LEAD_INSERT_FIELDS = (*CREATE_FIELDS, "stage", "score", "version", "mql_episode", "created_at", "updated_at")
# Read from the company size's text by ``_clean_fields`` (or the import's cleaning).
SIZE_RANGE_FIELDS = ("company_size_low", "company_size_high")
LEAD_INSERT_FIELDS += SIZE_RANGE_FIELDS
# Kept from the details by ``_derive``: the account and the duplicate keys.
DERIVED_FIELDS = ("account", "email_normalised", "phone_e164")
LEAD_INSERT_FIELDS += DERIVED_FIELDS
_LEAD_DEFAULTS = {field: Lead._meta.get_field(field).get_default() for field in LEAD_INSERT_FIELDS}


class _NewLead:
    """A lead about to be inserted, as the scoring rules and the history builder read it."""

    owner_id = None
    account_id = None
    mql_episode = 0
    stage = Stage.LEAD
    score = 0

    def __init__(self, values):
        self.__dict__.update(values)


def create_lead(*, by, now=None, **fields):
    """Create a lead in stage ``lead``, score it and promote it if it reached the threshold; raises NotPermitted or InvalidInput (no e-mail, unknown field, duplicate e-mail, an erased person's e-mail)."""
    now = now or timezone.now()
    if by is not None and not access.can_create_leads(by):
        raise NotPermitted(gettext("Only marketers and admins may create leads."))
    fields = _clean_fields(fields, allowed=CREATE_FIELDS)
    if not fields.get("email"):
        raise InvalidInput(gettext("An e-mail address is required."), field="email")
    email = fields["email"]
    try:
        with transaction.atomic():
            if Lead.objects.filter(email__iexact=email).exists():
                raise InvalidInput(_taken(email), field="email")
            (lead_id,), ready = create_leads([(fields, {})], by=by, now=now)
            promote_if_ready(ready, now=now)
    except IntegrityError:
        raise InvalidInput(_taken(email), field="email") from None
    return Lead.objects.get(pk=lead_id)


def create_leads(rows, *, by, now, rules=None, limit=None):
    """Insert many new leads at once, each with its ``created`` history row and its score; returns (their ids in order, the ids that reached the threshold), raises InvalidInput for an erased person's address, IntegrityError if an e-mail address is taken.

    ``rows`` are ``(fields, provenance)`` pairs: the lead's field values (already
    validated) and what its history should say of where it came from (an import
    and its line). The caller promotes the ready ones (``promote_if_ready``).
    """
    _refuse_erased_addresses(fields.get("email") for fields, _provenance in rows)
    rules = scoring.active_rules() if rules is None else rules
    limit = scoring.threshold() if limit is None else limit
    base = {**_LEAD_DEFAULTS, "created_at": now, "updated_at": now}
    rows = list(rows)
    derived = _derive([{**base, **fields} for fields, _provenance in rows], now=now)
    leads, records, shares = [], [], []
    for (fields, _provenance), keys in zip(rows, derived, strict=True):
        values = {**base, **fields, **keys}
        values["account_id"] = values["account"]
        lead = _NewLead(values)
        lead_shares = scoring.contributions(lead, (), rules) if rules else {}
        values["score"] = scoring.score_of(lead_shares)
        team = values["team"]
        values["team"] = team.pk if isinstance(team, Team) else team
        records.append(tuple(values[field] for field in LEAD_INSERT_FIELDS))
        leads.append(lead)
        shares.append(lead_shares)
    ids = insert_rows_returning_ids(Lead, LEAD_INSERT_FIELDS, records)
    for lead, lead_id in zip(leads, ids, strict=True):
        lead.pk = lead_id
    marks = _mark_duplicates(leads)
    history.write(
        history.event(
            lead,
            EventKind.CREATED,
            by=by,
            now=now,
            to_stage=Stage.LEAD,
            payload={"source": lead.source, **provenance, **_duplicates_payload(marks.get(lead.pk))},
        )
        for lead, (_fields, provenance) in zip(leads, rows, strict=True)
    )
    scoring.write_scores(leads, dict(zip(ids, shares, strict=True)), now=now, cause="created", inserted=True)
    return ids, [lead.pk for lead in leads if lead.score >= limit]


def update_lead(lead, *, by, version=None, now=None, **fields):
    """Change ``lead``'s details, record one ``updated`` event with each field's before and after, rescore it and promote it if it reached the threshold; returns the fresh lead, raises NotPermitted, ConcurrentUpdate, IllegalTransition (an erased lead) or InvalidInput."""
    now = now or timezone.now()
    if by is not None and not access.can_edit_leads(by):
        raise NotPermitted(gettext("Only marketers and admins may edit a lead's details."))
    fields = _clean_fields(fields)
    if "email" in fields and not fields["email"]:
        raise InvalidInput(gettext("An e-mail address is required."), field="email")
    if "name" in fields and not fields["name"]:
        raise InvalidInput(gettext("A name is required."), field="name")
    try:
        with transaction.atomic():
            _lock(lead, version)
            email = fields.get("email")
            if email and Lead.objects.filter(email__iexact=email).exclude(pk=lead.pk).exists():
                raise InvalidInput(_taken(email), field="email")
            _changed, ready = update_leads({lead.pk: (fields, {})}, by=by, now=now)
            promote_if_ready(ready, now=now)
    except IntegrityError:
        raise InvalidInput(_taken(fields.get("email")), field="email") from None
    return Lead.objects.get(pk=lead.pk)


def update_leads(changes, *, by, now, rules=None, limit=None):
    """Change the details of many leads at once: one ``updated`` event per lead that changed, one version bump, a rescore; returns (the changed leads, the ids in stage ``lead`` now at or over the threshold), raises InvalidInput for an erased person's address, IllegalTransition for an erased lead, IntegrityError if an e-mail address is taken.

    ``changes`` is ``{lead_id: (fields, provenance)}`` with validated values; a
    field equal to what the lead holds changes nothing. The leads are locked
    here, in id order.
    """
    limit = scoring.threshold() if limit is None else limit
    _refuse_erased_addresses(fields.get("email") for fields, _provenance in changes.values())
    locked = Lead.objects.select_for_update().filter(pk__in=list(changes)).order_by("pk")
    changed, by_fields = [], defaultdict(list)
    for lead in locked:
        fields, provenance = changes[lead.pk]
        if lead.erased_at is not None:
            raise IllegalTransition(
                gettext("This person's data was erased on %(date)s: the lead's details cannot be set again.")
                % {"date": f"{lead.erased_at:%Y-%m-%d}"}
            )
        before = {}
        for field, value in fields.items():
            if getattr(lead, field) != value:
                before[field] = [getattr(lead, field), value]
                setattr(lead, field, value)
        if not before:
            continue
        lead.version += 1
        lead.updated_at = now
        by_fields[tuple(sorted(before))].append(lead)
        changed.append((lead, before, provenance))
    for names, leads in by_fields.items():
        update_rows(
            Lead,
            (*names, "updated_at"),
            [(lead.pk, *(getattr(lead, n) for n in names), now) for lead in leads],
            bump_version=True,
        )
    # A new e-mail, phone, company or name may change the account and the duplicate marks.
    rekeyed = [lead for lead, before, _provenance in changed if set(before) & _KEYED_FIELDS]
    derived = _derive([vars(lead) for lead in rekeyed], now=now)
    for lead, keys in zip(rekeyed, derived, strict=True):
        lead.account_id, lead.email_normalised, lead.phone_e164 = (
            keys["account"],
            keys["email_normalised"],
            keys["phone_e164"],
        )
    update_rows(
        Lead, DERIVED_FIELDS, [(lead.pk, lead.account_id, lead.email_normalised, lead.phone_e164) for lead in rekeyed]
    )
    marks = _mark_duplicates(rekeyed, replace=True)
    history.write(
        history.event(
            lead,
            EventKind.UPDATED,
            by=by,
            now=now,
            from_stage=lead.stage,
            to_stage=lead.stage,
            payload={"fields": _as_json(before), **provenance, **_duplicates_payload(marks.get(lead.pk))},
        )
        for lead, before, provenance in changed
    )
    leads = [lead for lead, _before, _provenance in changed]
    scoring.recompute(leads, now=now, cause="updated", rules=rules)
    return leads, [lead.pk for lead in leads if lead.stage == Stage.LEAD and lead.score >= limit]


def backfill_accounts(*, now, batch_size=2000, after=0):
    """Give leads created before accounts existed their account, duplicate keys and marks, ``batch_size`` at a time in id order from ``after``; yields (last id, leads changed) per batch, raises nothing.

    All of it is derived from the lead's details, so running it twice, or next to
    live traffic, gives the same result. No history row: no detail changes.
    """
    while True:
        with transaction.atomic():
            leads = list(
                Lead.objects.select_for_update()
                .filter(pk__gt=after, erased_at__isnull=True)
                .order_by("pk")
                .only("pk", "name", "email", "phone", "country", "company", *DERIVED_FIELDS, "possible_duplicates")[
                    :batch_size
                ]
            )
            if not leads:
                return
            rows = []
            for lead, keys in zip(leads, _derive([vars(lead) for lead in leads], now=now), strict=True):
                new = (keys["account"], keys["email_normalised"], keys["phone_e164"])
                if new != (lead.account_id, lead.email_normalised, lead.phone_e164):
                    lead.account_id, lead.email_normalised, lead.phone_e164 = new
                    rows.append((lead.pk, *new))
            update_rows(Lead, DERIVED_FIELDS, rows)
            marks_before = {lead.pk: list(lead.possible_duplicates) for lead in leads}
            _mark_duplicates(leads, replace=True)
            changed = {pk for pk, *_keys in rows} | {
                lead.pk for lead in leads if lead.possible_duplicates != marks_before[lead.pk]
            }
        after = leads[-1].pk
        yield after, len(changed)


# The lead columns a promotion sets (``promote_to_mql``'s changes), in ``update_rows`` order.
_PROMOTED_FIELDS = (
    "stage",
    "team",
    "owner",
    "mql_at",
    "mql_episode",
    "first_follow_up_at",
    "accepted_at",
    "qualified_at",
    "rejected_at",
    "rejection_reason",
    "sla_policy",
    "sla_due_at",
    "sla_risk_at",
    "sla_breached_at",
    "updated_at",
)


def _new_episode(lead, *, owner, policy, due, risk, now):
    """The fields ``lead`` takes on becoming an MQL: a new episode with its SLA clock (when it has an owner), nothing left of the last one; raises nothing."""
    return {
        "stage": Stage.MQL,
        "owner": owner,
        "mql_at": now,
        "mql_episode": lead.mql_episode + 1,
        "first_follow_up_at": None,
        "accepted_at": None,
        "qualified_at": None,
        "rejected_at": None,
        "rejection_reason": None,
        "sla_policy": policy,
        "sla_due_at": due if owner else None,
        "sla_risk_at": risk if owner else None,
        "sla_breached_at": None,
    }


def promote_if_ready(lead_ids, *, now, limit=None):
    """Promote the leads of ``lead_ids`` still in stage ``lead`` whose score reached the threshold, set-wise (routed, clock started); returns the promoted leads, raises nothing.

    The one path from a score to an MQL: new leads, edits, activities, imports
    and rescores all end here. It leaves what ``promote_to_mql`` for each lead
    in id order would leave (owners, routing decisions, episodes, history rows,
    outbox e-mails) in a fixed number of statements: the leads are locked at
    once, ``routing.route_many`` routes them from one read of the teams, and
    each kind of row is written in one statement, inside the caller's
    transaction if there is one. A lead that cannot be promoted (no team to
    route to, a calendar without working time, its data erased) stays a lead
    with its score; the next change or rescore tries again.
    """
    if not lead_ids:
        return []
    limit = scoring.threshold() if limit is None else limit
    with transaction.atomic():
        ready = Lead.objects.select_for_update().filter(pk__in=lead_ids, stage=Stage.LEAD, score__gte=limit)
        leads, default_team, clocks = [], None, {}
        for lead in ready.order_by("pk"):
            note = f"Score {lead.score} reached {limit}."
            if lead.erased_at is not None:
                log.warning("lead %s reached the threshold but was not promoted: its data was erased", lead.pk)
                continue
            if lead.team_id is None:
                default_team = default_team or Team.objects.filter(is_active=True).order_by("id").first()
                if default_team is None:
                    log.warning("lead %s reached the threshold but was not promoted: no sales team", lead.pk)
                    continue
                lead.team = default_team
            # A policy depends on the source and priority alone, and every clock here starts at ``now``.
            key = (lead.source, lead.priority)
            if key not in clocks:
                try:
                    clocks[key] = sla.response_clock(lead, now, policy=sla.policy_for(lead))
                except ValueError as exc:
                    clocks[key] = exc
            if isinstance(clocks[key], ValueError):
                log.warning("lead %s reached the threshold but was not promoted: %s", lead.pk, clocks[key])
                continue
            leads.append((lead, note, clocks[key]))
        if not leads:
            return []
        decisions = routing.route_many([(lead.team_id, lead.account_id, lead.pk) for lead, _n, _c in leads], now=now)
        return _write_promotions(leads, decisions, now=now)


def _write_promotions(leads, decisions, *, now):
    """Write the promotions of ``leads`` (``(lead, note, clock)``, locked) routed by ``decisions``: one statement per table."""
    rows, episodes, events = [], [], []
    for (lead, note, (policy, due, risk)), decision in zip(leads, decisions, strict=True):
        owner = decision.owner
        changes = {**_new_episode(lead, owner=owner, policy=policy, due=due, risk=risk, now=now), "updated_at": now}
        for field, value in changes.items():
            setattr(lead, field, value)
        lead.version += 1
        rows.append((lead.pk, *(getattr(lead, Lead._meta.get_field(f).attname) for f in _PROMOTED_FIELDS)))
        episodes.append(
            MqlEpisode(
                lead=lead,
                number=lead.mql_episode,
                team_id=lead.team_id,
                owner=owner,
                source=lead.source,
                campaign=lead.campaign,
                mql_at=now,
                due_at=lead.sla_due_at,
            )
        )
        payload = {
            "team": lead.team_id,
            "routed_to": owner.pk if owner else None,
            "sla_policy": policy.name if policy else None,
            "sla_due_at": lead.sla_due_at.isoformat() if lead.sla_due_at else None,
            "score": lead.score,
            "routing": decision.as_payload(),
        }
        events.append(
            history.event(
                lead,
                EventKind.PROMOTED,
                by=None,
                now=now,
                from_stage=Stage.LEAD,
                to_stage=Stage.MQL,
                note=note,
                payload=payload,
            )
        )
    update_rows(Lead, _PROMOTED_FIELDS, rows, bump_version=True)
    MqlEpisode.objects.bulk_create(episodes)
    history.write(events)
    if notifications.queue_assignment_emails([lead for lead, _n, _c in leads]):
        background.once_after_commit("leads.tasks.deliver_outbox_task")
    return [lead for lead, _n, _c in leads]


# The details the account and the duplicate keys are derived from.
_KEYED_FIELDS = frozenset({"email", "company", "phone", "country", "name"})


def _derive(values, *, now):
    """The account and duplicate keys of leads with these field ``values`` (dicts), in order."""
    account_ids = accounts.account_ids_for(((v.get("email"), v.get("company")) for v in values), now=now)
    return [
        {
            "account": account_id,
            "email_normalised": duplicates.email_key(v.get("email")),
            "phone_e164": duplicates.phone_e164(v.get("phone"), v.get("country")),
        }
        for v, account_id in zip(values, account_ids, strict=True)
    ]


def _mark_duplicates(leads, *, replace=False):
    """Store on each of ``leads`` the earlier leads it may duplicate; returns ``{id: ids}`` of those marked.

    New leads start unmarked, so only the marked are written; an edited lead
    (``replace``) is written whenever its marks change, also to none.
    """
    marks = duplicates.find(leads)
    rows = []
    for lead in leads:
        found = marks.get(lead.pk, [])
        if found != list(getattr(lead, "possible_duplicates", None) or []):
            lead.possible_duplicates = found
            rows.append((lead.pk, found))
        elif not replace:
            lead.possible_duplicates = found
    update_rows(Lead, ("possible_duplicates",), rows)
    return marks


def _duplicates_payload(found):
    return {"possible_duplicates": found} if found else {}


def _refuse_erased_addresses(addresses):
    """Refuse addresses of erased people (one query for all); raises InvalidInput naming the first."""
    refused = privacy.erased_on(address for address in addresses if address)
    if refused:
        address, erased_at = min(refused.items())
        raise InvalidInput(privacy.refusal(address, erased_at), field="email")


def _clean_fields(fields, *, allowed=EDITABLE_FIELDS):
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise InvalidInput(
            gettext("These details cannot be set: %(fields)s.") % {"fields": ", ".join(unknown)}, field=unknown[0]
        )
    fields = {field: (value.strip() if isinstance(value, str) else value) for field, value in fields.items()}
    if "company_size" in fields:
        try:
            fields.update(size_fields(fields["company_size"]))
        except CompanySizeError as error:
            raise InvalidInput(error.sentence, field="company_size") from None
    return fields


def _as_json(before):
    """Field changes as the history stores them (JSON): numbers stay numbers, the rest becomes text."""
    return {
        field: [value if value is None or isinstance(value, int | float) else str(value) for value in pair]
        for field, pair in before.items()
    }


def promote_to_mql(lead, *, by, team=None, now=None, note="", version=None):
    """Make ``lead`` an MQL, route it to a rep and start the SLA clock; raises NotPermitted, IllegalTransition or InvalidInput."""
    now = now or timezone.now()
    note = _clean_note(note)
    with transaction.atomic():
        current = _lock(lead, version)
        _check_move(current, "promote", by, note=note)
        team = team or current.team or Team.objects.filter(is_active=True).order_by("id").first()
        if team is None:
            raise InvalidInput(gettext("No sales team is configured to receive MQLs."), field="team")
        decision = routing.route(team, now=now, account_id=current.account_id)
        owner = decision.owner
        policy, due, risk = _sla_window(current, now)
        changes = {**_new_episode(current, owner=owner, policy=policy, due=due, risk=risk, now=now), "team": team}
        _write(current, now, **changes)
        MqlEpisode.objects.create(
            lead=current,
            number=current.mql_episode,
            team=team,
            owner=owner,
            source=current.source,
            campaign=current.campaign,
            mql_at=now,
            due_at=current.sla_due_at,
        )
        history.record(
            current,
            EventKind.PROMOTED,
            by=by,
            now=now,
            from_stage=Stage.LEAD,
            to_stage=Stage.MQL,
            note=note,
            payload={
                "team": team.pk,
                "routed_to": owner.pk if owner else None,
                "sla_policy": policy.name if policy else None,
                "sla_due_at": current.sla_due_at.isoformat() if current.sla_due_at else None,
                "score": current.score,
                "routing": decision.as_payload(),
            },
        )
        _notify_owner(current)
    return current


def accept_lead(lead, *, by, note="", now=None, version=None):
    """Accept an MQL (it becomes a SAL), which stops its SLA clock; raises NotPermitted or IllegalTransition."""
    now = now or timezone.now()
    note = _clean_note(note)
    with transaction.atomic():
        current = _lock(lead, version)
        _check_move(current, "accept", by, note=note)
        follow_up = _follow_up_changes(current, now)
        _write(current, now, stage=Stage.SAL, accepted_at=now, **follow_up)
        _update_episode(current, accepted_at=now, **follow_up)
        history.record(current, EventKind.ACCEPTED, by=by, now=now, from_stage=Stage.MQL, to_stage=Stage.SAL, note=note)
        _route_waiting_after_commit(current)
    return current


def reject_lead(lead, *, by, reason, note="", now=None, version=None):
    """Reject an MQL with a reason code, which stops its SLA clock; raises NotPermitted, IllegalTransition or InvalidInput."""
    now = now or timezone.now()
    note = _clean_note(note)
    reason = _clean_reason(reason)
    with transaction.atomic():
        current = _lock(lead, version)
        _check_move(current, "reject", by, note=note)
        follow_up = _follow_up_changes(current, now)
        _write(current, now, stage=Stage.REJECTED, rejected_at=now, rejection_reason=reason, **follow_up)
        _update_episode(
            current,
            rejected_at=now,
            rejected_from=MqlEpisode.RejectedFrom.MQL,
            rejection_reason=reason,
            rejection_note=note,
            **follow_up,
        )
        history.record(
            current,
            EventKind.REJECTED,
            by=by,
            now=now,
            from_stage=Stage.MQL,
            to_stage=Stage.REJECTED,
            reason=reason,
            note=note,
            payload={"reason_code": reason.code},
        )
        _route_waiting_after_commit(current)
    return current


def qualify_lead(lead, *, by, note="", now=None, version=None):
    """Qualify an accepted lead to SQL (an opportunity); raises NotPermitted or IllegalTransition."""
    now = now or timezone.now()
    note = _clean_note(note)
    with transaction.atomic():
        current = _lock(lead, version)
        _check_move(current, "qualify", by, note=note)
        _write(current, now, stage=Stage.SQL, qualified_at=now)
        _update_episode(current, qualified_at=now)
        history.record(
            current, EventKind.QUALIFIED, by=by, now=now, from_stage=Stage.SAL, to_stage=Stage.SQL, note=note
        )
    return current


def disqualify_lead(lead, *, by, reason, note="", now=None, version=None):
    """Disqualify an accepted lead with a reason code; raises NotPermitted, IllegalTransition or InvalidInput."""
    now = now or timezone.now()
    note = _clean_note(note)
    reason = _clean_reason(reason)
    with transaction.atomic():
        current = _lock(lead, version)
        _check_move(current, "disqualify", by, note=note)
        _write(current, now, stage=Stage.REJECTED, rejected_at=now, rejection_reason=reason)
        _update_episode(
            current,
            rejected_at=now,
            rejected_from=MqlEpisode.RejectedFrom.SAL,
            rejection_reason=reason,
            rejection_note=note,
        )
        history.record(
            current,
            EventKind.DISQUALIFIED,
            by=by,
            now=now,
            from_stage=Stage.SAL,
            to_stage=Stage.REJECTED,
            reason=reason,
            note=note,
            payload={"reason_code": reason.code},
        )
    return current


def recycle_lead(lead, *, by, note="", now=None, version=None):
    """Send a rejected lead back to marketing nurture; its history stays; raises NotPermitted or IllegalTransition."""
    now = now or timezone.now()
    note = _clean_note(note)
    with transaction.atomic():
        current = _lock(lead, version)
        _check_move(current, "recycle", by, note=note)
        previous_owner = current.owner_id
        _update_episode(current, recycled_at=now)
        changes = {
            "stage": Stage.LEAD,
            "owner": None,
            "mql_at": None,
            "first_follow_up_at": None,
            "accepted_at": None,
            "qualified_at": None,
            "rejected_at": None,
            "rejection_reason": None,
            "sla_due_at": None,
            "sla_risk_at": None,
            "sla_breached_at": None,
        }
        _write(current, now, **changes)
        history.record(
            current,
            EventKind.RECYCLED,
            by=by,
            now=now,
            from_stage=Stage.REJECTED,
            to_stage=Stage.LEAD,
            note=note,
            payload={"previous_owner": previous_owner},
        )
    return current


def reassign_lead(lead, *, by, to, note="", now=None, version=None, decision=None):
    """Give an owned lead to another rep of its team; an awaiting MQL's SLA clock restarts; raises NotPermitted, IllegalTransition or InvalidInput.

    ``decision`` is the routing decision that chose ``to`` (``routing.Decision``), recorded with the event.
    """
    now = now or timezone.now()
    note = _clean_note(note)
    with transaction.atomic():
        current = _lock(lead, version)
        _check_move(current, "reassign", by, note=note)
        if to is None:
            raise InvalidInput(gettext("Choose the rep to give this lead to."), field="to")
        is_rep = TeamMember.objects.filter(
            team_id=current.team_id, user=to, role=TeamMember.Role.REP, user__is_active=True
        ).exists()
        if not is_rep:
            raise InvalidInput(
                gettext("%(person)s is not an active rep of this lead's team.") % {"person": _person(to)}, field="to"
            )
        if current.owner_id == to.pk:
            raise IllegalTransition(gettext("This lead is already owned by %(person)s.") % {"person": _person(to)})
        previous_owner = current.owner_id
        changes = {"owner": to}
        restarts_clock = current.is_awaiting_response
        if restarts_clock:
            # The lead keeps the policy it was promised; only the clock restarts.
            policy, due, risk = _sla_window(current, now, policy=current.sla_policy)
            changes.update(sla_policy=policy, sla_due_at=due, sla_risk_at=risk, sla_breached_at=None)
        _write(current, now, **changes)
        _update_episode(current, owner=to, **({"due_at": current.sla_due_at} if restarts_clock else {}))
        history.record(
            current,
            EventKind.REASSIGNED,
            by=by,
            now=now,
            from_stage=current.stage,
            to_stage=current.stage,
            note=note,
            payload={
                "from_owner": previous_owner,
                "to_owner": to.pk,
                "sla_restarted": restarts_clock,
                "sla_due_at": current.sla_due_at.isoformat() if restarts_clock else None,
                **({"routing": decision.as_payload()} if decision is not None else {}),
            },
        )
        _notify_owner(current)
    return current


MAX_BULK_LEADS = 200


def reassign_leads(leads, *, by, to, note="", now=None):
    """Give each of ``leads`` to ``to``, each by its own ``reassign_lead`` (one transition and one event per lead); returns (the reassigned leads, [(lead, why it was refused)]), raises InvalidInput for more than MAX_BULK_LEADS leads."""
    leads = list(leads)
    if len(leads) > MAX_BULK_LEADS:
        raise InvalidInput(
            gettext("Reassign at most %(limit)s leads at once (%(chosen)s chosen).")
            % {"limit": MAX_BULK_LEADS, "chosen": len(leads)},
            field="leads",
        )
    now = now or timezone.now()
    done, refused = [], []
    for lead in leads:
        try:
            done.append(reassign_lead(lead, by=by, to=to, note=note, now=now))
        except LeadError as error:
            refused.append((lead, error.message))
    return done, refused


def log_activity(lead, *, by, kind, note="", occurred_at=None, now=None, version=None):
    """Log a sales activity (call, e-mail, meeting, conversation); on an awaiting MQL it is the first follow-up; raises NotPermitted, IllegalTransition or InvalidInput."""
    now = now or timezone.now()
    note = _clean_note(note)
    if kind not in SALES_ACTIVITY_KINDS:
        choices = ", ".join(SALES_ACTIVITY_KINDS)
        raise InvalidInput(
            gettext("Unknown sales activity %(kind)s; choose one of %(choices)s.")
            % {"kind": repr(kind), "choices": choices},
            field="kind",
        )
    occurred_at = occurred_at or now
    if occurred_at > now:
        raise InvalidInput(gettext("An activity cannot have happened in the future."), field="occurred_at")
    with transaction.atomic():
        current = _lock(lead, version)
        _check_move(current, "log_activity", by, note=note)
        activity = Activity.objects.create(lead=current, kind=kind, occurred_at=occurred_at, actor=by, note=note)
        changes = _follow_up_changes(current, occurred_at)
        _write(current, now, **changes)
        _update_episode(current, **changes)
        history.record(
            current,
            EventKind.ACTIVITY,
            by=by,
            now=now,
            from_stage=current.stage,
            to_stage=current.stage,
            note=note,
            payload={
                "activity": activity.pk,
                "activity_kind": kind,
                "label": _english(ActivityKind(kind).label),
                "occurred_at": occurred_at.isoformat(),
                "first_follow_up": bool(changes),
            },
        )
    return current


def opt_out_lead(lead, *, by, source, now=None, version=None):
    """Record that ``lead``'s person opted out of marketing, with how it reached us (an ``OptOut`` row and an ``opted_out`` event); raises NotPermitted, IllegalTransition (already opted out) or InvalidInput (unknown source)."""
    now = now or timezone.now()
    if source not in OptOut.Source.values:
        choices = ", ".join(OptOut.Source.values)
        raise InvalidInput(
            gettext("Unknown opt-out source %(source)s; choose one of %(choices)s.")
            % {"source": repr(source), "choices": choices},
            field="source",
        )
    with transaction.atomic():
        current = _lock(lead, version)
        _check_move(current, "opt_out", by)
        if current.opted_out_at is not None:
            raise IllegalTransition(
                gettext("This lead already opted out on %(date)s.") % {"date": f"{current.opted_out_at:%Y-%m-%d}"}
            )
        OptOut.objects.create(lead=current, at=now, source=source, recorded_by=by)
        _write(current, now, opted_out_at=now)
        history.record(
            current,
            EventKind.OPTED_OUT,
            by=by,
            now=now,
            from_stage=current.stage,
            to_stage=current.stage,
            payload={"source": source, "label": _english(OptOut.Source(source).label)},
        )
    return current


def erase_lead(lead, *, by, now=None, version=None):
    """Erase the personal data of ``lead``'s person (GDPR Art. 17) and keep the funnel facts; raises NotPermitted, IllegalTransition (already erased) or ConcurrentUpdate.

    In one transaction: the personal fields are blanked (the e-mail becomes a unique
    placeholder), one ``erased`` event is recorded, the history's notes and personal
    payload values are redacted (the one UPDATE the database permits, after that event),
    activities lose URL, note and external id, episodes their rejection notes, and the
    address is remembered as a keyed hash so it is not added again by accident. Stage,
    owner, team, times, score, reasons, episodes and opt-outs stay: reports do not change.
    """
    now = now or timezone.now()
    with transaction.atomic():
        current = _lock(lead, version)
        _check_move(current, "erase", by)
        if current.erased_at is not None:
            raise IllegalTransition(
                gettext("This person's data was already erased on %(date)s.")
                % {"date": f"{current.erased_at:%Y-%m-%d}"}
            )
        address = current.email
        _write(current, now, erased_at=now, email_normalised="", phone_e164="", **privacy.blanked_fields(current))
        history.record(
            current,
            EventKind.ERASED,
            by=by,
            now=now,
            from_stage=current.stage,
            to_stage=current.stage,
            payload={"blanked": list(privacy.PERSONAL_FIELDS)},
        )
        history.redact(current)
        privacy.forget_related(current, address, now)
    return current


def undo_offer(events, *, by, now):
    """Return the event of ``events`` (a lead's history, any order) that ``by`` could undo at ``now``, or None; raises nothing.

    For pages that already read the history: the same rule as ``undo_lead``, without the permission check.
    """
    actions = [event for event in events if event.kind != EventKind.SCORE_CHANGED]
    if not actions:
        return None
    latest = max(actions, key=lambda event: (event.at, event.pk))
    if latest.kind in UNDOABLE_EVENTS and latest.actor_id == by.pk and now - latest.at <= UNDO_WINDOW:
        return latest
    return None


def _undo_target(lead, by, now):
    """The history row ``undo_lead`` would reverse for ``by``; raises IllegalTransition saying why there is none."""
    # Score changes are the system's bookkeeping, not someone acting on the lead.
    actions = LeadEvent.objects.filter(lead_id=lead.pk).exclude(kind=EventKind.SCORE_CHANGED).select_related("actor")
    latest = actions.order_by("-at", "-id").first()
    if latest is not None and latest.kind in UNDOABLE_EVENTS and latest.actor_id == by.pk:
        target = latest
    else:
        target = actions.filter(actor_id=by.pk, kind__in=list(UNDOABLE_EVENTS)).order_by("-at", "-id").first()
        if target is None:
            raise IllegalTransition(gettext("Nothing to undo: you have not accepted, rejected or qualified this lead."))
        if latest.kind == EventKind.UNDONE and latest.payload.get("undone_event") == target.pk:
            raise IllegalTransition(str(ALREADY_UNDONE[target.kind]))
        time = f"{timezone.localtime(latest.at):%H:%M}"
        if latest.actor_id == by.pk:
            since = YOU_DID.get(latest.kind, YOU_CHANGED) % {"time": time}
        else:
            since = SOMEONE_DID.get(latest.kind, SOMEONE_CHANGED) % {"who": _person(latest.actor), "time": time}
        raise IllegalTransition(ACTED_SINCE[target.kind] % {"since": since})
    if now - target.at > UNDO_WINDOW:
        minutes = int((now - target.at).total_seconds() // 60)
        raise IllegalTransition(
            TOO_LATE[target.kind] % {"minutes": minutes, "window": int(UNDO_WINDOW.total_seconds() // 60)}
        )
    return target


def _person(user):
    return (user.get_full_name() or user.get_username()) if user else gettext("The system")


def _taken(email):
    return gettext("A lead with the e-mail address %(email)s already exists.") % {"email": email}


def _undo_changes(lead, target):
    """The lead and episode fields that put ``lead`` back as it was before ``target``."""
    # The verb being undone set the first follow-up only if there was none: then it stamped its own time.
    follow_up = (
        {"first_follow_up_at": None}
        if target.kind != EventKind.QUALIFIED and lead.first_follow_up_at == target.at
        else {}
    )
    if target.kind == EventKind.ACCEPTED:
        changes = {"stage": Stage.MQL, "accepted_at": None, **follow_up}
        return changes, {"accepted_at": None, **follow_up}
    if target.kind == EventKind.REJECTED:
        changes = {"stage": Stage.MQL, "rejected_at": None, "rejection_reason": None, **follow_up}
        episode = {"rejected_at": None, "rejected_from": "", "rejection_reason": None, "rejection_note": ""}
        return changes, {**episode, **follow_up}
    return {"stage": Stage.SAL, "qualified_at": None}, {"qualified_at": None}


def undo_lead(lead, *, by, now=None, version=None):
    """Take back ``by``'s accept, reject or qualify of ``lead`` within ten minutes with a compensating ``undone`` event: stage, owner, episode and SLA due time return to what they were; raises IllegalTransition (nothing to undo, too late, someone acted since), NotPermitted or ConcurrentUpdate."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _lock(lead, version)
        target = _undo_target(current, by, now)
        if not access.can_act(by, current, UNDOABLE_EVENTS[target.kind]):
            raise NotPermitted(gettext("You may no longer act on this lead, so you cannot undo your action."))
        if current.stage != target.to_stage:
            raise IllegalTransition(gettext("Cannot undo: this lead has moved on since."))
        changes, episode = _undo_changes(current, target)
        _write(current, now, **changes)
        _update_episode(current, **episode)
        history.record(
            current,
            EventKind.UNDONE,
            by=by,
            now=now,
            from_stage=target.to_stage,
            to_stage=target.from_stage,
            payload={"undone_event": target.pk, "undone_kind": target.kind},
        )
    return current


def merge_lead(lead, *, by, into, dry_run=False, note="", now=None, version=None):
    """Close ``lead`` as a duplicate of ``into`` (both histories stay; its stage becomes ``merged``), or with ``dry_run`` only say what would happen; returns (the lead, the plan), raises NotPermitted, IllegalTransition, ConcurrentUpdate or InvalidInput.

    Nothing moves to the survivor: its own episodes, activities and owner stay as
    they are, so every MQL episode is still counted once, and ``unmerge_lead``
    restores the merged lead exactly as it was.
    """
    now = now or timezone.now()
    note = _clean_note(note)
    if into is None:
        raise InvalidInput(gettext("Choose the lead to merge into."), field="into")
    if into.pk == lead.pk:
        raise InvalidInput(gettext("A lead cannot be merged into itself."), field="into")
    with transaction.atomic():
        # Both rows locked, in id order, so two merges of the same pair cannot deadlock.
        locked = {
            row.pk: row for row in Lead.objects.select_for_update().filter(pk__in=[lead.pk, into.pk]).order_by("pk")
        }
        if lead.pk not in locked:
            raise InvalidInput(gettext("This lead does not exist."))
        if into.pk not in locked:
            raise InvalidInput(gettext("There is no lead %(id)s to merge into.") % {"id": into.pk}, field="into")
        current, survivor = locked[lead.pk], locked[into.pk]
        if version is not None and version != current.version:
            raise ConcurrentUpdate(
                gettext("Someone else changed this lead since you loaded it; reload it and try again.")
            )
        _check_move(current, "merge", by, note=note)
        if current.erased_at is not None or survivor.erased_at is not None:
            raise IllegalTransition(gettext("An erased lead cannot be merged: its person's details are gone."))
        if survivor.stage == Stage.MERGED:
            raise IllegalTransition(
                gettext("Lead %(id)s was itself merged into lead %(into)s: merge into that one.")
                % {"id": survivor.pk, "into": survivor.merged_into_id}
            )
        plan = {
            "lead": current.pk,
            "into": survivor.pk,
            "dry_run": dry_run,
            "from_stage": current.stage,
            "to_stage": Stage.MERGED,
            "owner": current.owner_id,
            "survivor_stage": survivor.stage,
            "survivor_owner": survivor.owner_id,
            "episodes_kept": current.mql_episode,
            "activities_kept": current.activities.count(),
            "events": [
                {"lead": current.pk, "kind": EventKind.MERGED},
                {"lead": survivor.pk, "kind": EventKind.MERGED},
            ],
        }
        if dry_run:
            return current, plan
        from_stage = current.stage
        _write(current, now, stage=Stage.MERGED, merged_into=survivor)
        payload = {"into": survivor.pk, "restore_stage": from_stage}
        history.write(
            [
                history.event(
                    current,
                    EventKind.MERGED,
                    by=by,
                    now=now,
                    from_stage=from_stage,
                    to_stage=Stage.MERGED,
                    note=note,
                    payload=payload,
                ),
                history.event(
                    survivor,
                    EventKind.MERGED,
                    by=by,
                    now=now,
                    from_stage=survivor.stage,
                    to_stage=survivor.stage,
                    payload={"merged": current.pk},
                ),
            ]
        )
    return current, plan


def unmerge_lead(lead, *, by, note="", now=None, version=None):
    """Restore a merged lead to the stage it had before its merge, with a compensating ``unmerged`` event on both leads; raises NotPermitted, IllegalTransition, ConcurrentUpdate or InvalidInput."""
    now = now or timezone.now()
    note = _clean_note(note)
    with transaction.atomic():
        current = _lock(lead, version)
        _check_move(current, "unmerge", by, note=note)
        merged = current.events.filter(kind=EventKind.MERGED).order_by("-id").first()
        if merged is None or "restore_stage" not in merged.payload:
            raise IllegalTransition(gettext("This lead's merge is not in its history; it cannot be unmerged."))
        survivor_id = current.merged_into_id
        stage = merged.payload["restore_stage"]
        _write(current, now, stage=stage, merged_into=None)
        survivor = Lead.objects.filter(pk=survivor_id).first()
        events = [
            history.event(
                current,
                EventKind.UNMERGED,
                by=by,
                now=now,
                from_stage=Stage.MERGED,
                to_stage=stage,
                note=note,
                payload={"from": survivor_id, "compensates": merged.pk},
            )
        ]
        if survivor is not None:
            events.append(
                history.event(
                    survivor,
                    EventKind.UNMERGED,
                    by=by,
                    now=now,
                    from_stage=survivor.stage,
                    to_stage=survivor.stage,
                    payload={"unmerged": current.pk},
                )
            )
        history.write(events)
    return current
