"""The only code that changes a lead's stage or owner.

One public function per business verb. Each runs in a transaction, re-reads
the lead with ``select_for_update()``, checks the move against ``ALLOWED_MOVES``
and the actor against ``leads.access``, writes the change with a conditional
UPDATE on the lead's version (so of two concurrent actions exactly one wins),
appends one ``LeadEvent`` and returns the fresh lead. A refused move raises a
``LeadError`` subclass with a readable message and changes nothing.
"""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from . import access, background, notifications, routing, scoring, sla
from .models import (
    SALES_ACTIVITY_KINDS,
    Activity,
    ActivityKind,
    EventKind,
    Lead,
    LeadEvent,
    MqlEpisode,
    RejectionReason,
    Stage,
    Team,
    TeamMember,
)

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
}

VERB_LABELS = {
    "promote": "promote to MQL",
    "accept": "accept",
    "reject": "reject",
    "qualify": "qualify",
    "disqualify": "disqualify",
    "recycle": "recycle",
    "reassign": "reassign",
    "log_activity": "log an activity on",
}

MAX_NOTE_LENGTH = 2000


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
    return frozenset(
        verb
        for verb, (sources, _) in ALLOWED_MOVES.items()
        if lead.stage in sources and access.can_act(user, lead, verb)
    )


def _stage_label(stage):
    return Stage(stage).label if stage in Stage.values else stage


def _check_move(lead, verb, by):
    if by is not None and not access.can_act(by, lead, verb):
        raise NotPermitted(f"You may not {VERB_LABELS[verb]} this lead.")
    sources, _ = ALLOWED_MOVES[verb]
    if lead.stage not in sources:
        allowed = " or ".join(sorted(_stage_label(s) for s in sources))
        raise IllegalTransition(
            f"Cannot {VERB_LABELS[verb]} a lead in stage {_stage_label(lead.stage)}: only a lead in stage {allowed} can."
        )


def _lock(lead):
    try:
        return Lead.objects.select_for_update().get(pk=lead.pk)
    except Lead.DoesNotExist:
        raise InvalidInput("This lead does not exist.") from None


def _write(lead, now, **changes):
    """Apply ``changes`` with a conditional UPDATE on the version the caller read."""
    changes["updated_at"] = now
    updated = Lead.objects.filter(pk=lead.pk, version=lead.version).update(version=F("version") + 1, **changes)
    if updated != 1:
        raise ConcurrentUpdate("Someone else changed this lead at the same moment; reload it and try again.")
    for field, value in changes.items():
        setattr(lead, field, value)
    lead.version += 1
    return lead


def _update_episode(lead, **fields):
    """Mirror a change onto the lead's current MQL episode (the reports' read model)."""
    if fields and lead.mql_episode:
        MqlEpisode.objects.filter(lead_id=lead.pk, number=lead.mql_episode).update(**fields)


def _record(lead, kind, *, by, now, from_stage="", to_stage="", reason=None, note="", payload=None):
    return LeadEvent.objects.create(
        lead=lead,
        kind=kind,
        at=now,
        actor=by,
        from_stage=from_stage,
        to_stage=to_stage,
        owner_id=lead.owner_id,
        episode=lead.mql_episode,
        reason=reason,
        note=note,
        payload=payload or {},
    )


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
        return sla.response_window(lead, start, policy=policy)
    except ValueError as exc:
        raise InvalidInput(f"Cannot compute the SLA due time: {exc}") from None


def _clean_note(note):
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidInput(f"The note is too long ({len(note)} characters; at most {MAX_NOTE_LENGTH}).", field="note")
    return note


def _clean_reason(reason):
    if reason in (None, ""):
        raise InvalidInput("A rejection reason is required.", field="reason")
    if isinstance(reason, RejectionReason):
        found = reason
    else:
        found = RejectionReason.objects.filter(code=str(reason)).first()
        if found is None:
            raise InvalidInput(f"Unknown rejection reason {reason!r}.", field="reason")
    if not found.is_active:
        raise InvalidInput(f"The rejection reason {found.code!r} is no longer in use.", field="reason")
    return found


def _follow_up_changes(lead, at):
    """A first sales response on an awaiting MQL stops its SLA clock."""
    if lead.stage == Stage.MQL and lead.first_follow_up_at is None and lead.mql_at is not None and at >= lead.mql_at:
        return {"first_follow_up_at": at}
    return {}


def create_lead(*, by, now=None, **fields):
    """Create a lead in stage ``lead`` and record it; raises NotPermitted or InvalidInput (duplicate e-mail)."""
    now = now or timezone.now()
    if by is not None and not access.can_create_leads(by):
        raise NotPermitted("Only marketers and admins may create leads.")
    email = (fields.get("email") or "").strip()
    if not email:
        raise InvalidInput("An e-mail address is required.", field="email")
    fields["email"] = email
    try:
        with transaction.atomic():
            if Lead.objects.filter(email__iexact=email).exists():
                raise InvalidInput(f"A lead with the e-mail address {email} already exists.", field="email")
            lead = Lead.objects.create(created_at=now, updated_at=now, **fields)
            _record(lead, EventKind.CREATED, by=by, now=now, to_stage=Stage.LEAD, payload={"source": lead.source})
            # Demographic rules score a new lead at once; it may already be an MQL.
            lead = scoring.score_lead(lead, now=now, cause="created")
    except IntegrityError:
        raise InvalidInput(f"A lead with the e-mail address {email} already exists.", field="email") from None
    return lead


def promote_to_mql(lead, *, by, team=None, now=None, note=""):
    """Make ``lead`` an MQL, route it to a rep and start the SLA clock; raises NotPermitted, IllegalTransition or InvalidInput."""
    now = now or timezone.now()
    note = _clean_note(note)
    with transaction.atomic():
        current = _lock(lead)
        _check_move(current, "promote", by)
        team = team or current.team or Team.objects.filter(is_active=True).order_by("id").first()
        if team is None:
            raise InvalidInput("No sales team is configured to receive MQLs.", field="team")
        owner = routing.pick_owner(team, now=now)
        policy, due = _sla_window(current, now)
        changes = {
            "stage": Stage.MQL,
            "team": team,
            "owner": owner,
            "mql_at": now,
            "mql_episode": current.mql_episode + 1,
            "first_follow_up_at": None,
            "accepted_at": None,
            "qualified_at": None,
            "rejected_at": None,
            "rejection_reason": None,
            "sla_policy": policy,
            "sla_due_at": due if owner else None,
            "sla_breached_at": None,
        }
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
        _record(
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
            },
        )
        _notify_owner(current)
    return current


def accept_lead(lead, *, by, note="", now=None):
    """Accept an MQL (it becomes a SAL), which stops its SLA clock; raises NotPermitted or IllegalTransition."""
    now = now or timezone.now()
    note = _clean_note(note)
    with transaction.atomic():
        current = _lock(lead)
        _check_move(current, "accept", by)
        follow_up = _follow_up_changes(current, now)
        _write(current, now, stage=Stage.SAL, accepted_at=now, **follow_up)
        _update_episode(current, accepted_at=now, **follow_up)
        _record(current, EventKind.ACCEPTED, by=by, now=now, from_stage=Stage.MQL, to_stage=Stage.SAL, note=note)
        _route_waiting_after_commit(current)
    return current


def reject_lead(lead, *, by, reason, note="", now=None):
    """Reject an MQL with a reason code, which stops its SLA clock; raises NotPermitted, IllegalTransition or InvalidInput."""
    now = now or timezone.now()
    note = _clean_note(note)
    reason = _clean_reason(reason)
    with transaction.atomic():
        current = _lock(lead)
        _check_move(current, "reject", by)
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
        _record(
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


def qualify_lead(lead, *, by, note="", now=None):
    """Qualify an accepted lead to SQL (an opportunity); raises NotPermitted or IllegalTransition."""
    now = now or timezone.now()
    note = _clean_note(note)
    with transaction.atomic():
        current = _lock(lead)
        _check_move(current, "qualify", by)
        _write(current, now, stage=Stage.SQL, qualified_at=now)
        _update_episode(current, qualified_at=now)
        _record(current, EventKind.QUALIFIED, by=by, now=now, from_stage=Stage.SAL, to_stage=Stage.SQL, note=note)
    return current


def disqualify_lead(lead, *, by, reason, note="", now=None):
    """Disqualify an accepted lead with a reason code; raises NotPermitted, IllegalTransition or InvalidInput."""
    now = now or timezone.now()
    note = _clean_note(note)
    reason = _clean_reason(reason)
    with transaction.atomic():
        current = _lock(lead)
        _check_move(current, "disqualify", by)
        _write(current, now, stage=Stage.REJECTED, rejected_at=now, rejection_reason=reason)
        _update_episode(
            current,
            rejected_at=now,
            rejected_from=MqlEpisode.RejectedFrom.SAL,
            rejection_reason=reason,
            rejection_note=note,
        )
        _record(
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


def recycle_lead(lead, *, by, note="", now=None):
    """Send a rejected lead back to marketing nurture; its history stays; raises NotPermitted or IllegalTransition."""
    now = now or timezone.now()
    note = _clean_note(note)
    with transaction.atomic():
        current = _lock(lead)
        _check_move(current, "recycle", by)
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
            "sla_breached_at": None,
        }
        _write(current, now, **changes)
        _record(
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


def reassign_lead(lead, *, by, to, note="", now=None):
    """Give an owned lead to another rep of its team; an awaiting MQL's SLA clock restarts; raises NotPermitted, IllegalTransition or InvalidInput."""
    now = now or timezone.now()
    note = _clean_note(note)
    with transaction.atomic():
        current = _lock(lead)
        _check_move(current, "reassign", by)
        if to is None:
            raise InvalidInput("Choose the rep to give this lead to.", field="to")
        is_rep = TeamMember.objects.filter(
            team_id=current.team_id, user=to, role=TeamMember.Role.REP, user__is_active=True
        ).exists()
        if not is_rep:
            raise InvalidInput(f"{to} is not an active rep of this lead's team.", field="to")
        if current.owner_id == to.pk:
            raise IllegalTransition(f"This lead is already owned by {to}.")
        previous_owner = current.owner_id
        changes = {"owner": to}
        restarts_clock = current.is_awaiting_response
        if restarts_clock:
            # The lead keeps the policy it was promised; only the clock restarts.
            policy, due = _sla_window(current, now, policy=current.sla_policy)
            changes.update(sla_policy=policy, sla_due_at=due, sla_breached_at=None)
        _write(current, now, **changes)
        _update_episode(current, owner=to, **({"due_at": current.sla_due_at} if restarts_clock else {}))
        _record(
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
            },
        )
        _notify_owner(current)
    return current


def log_activity(lead, *, by, kind, note="", occurred_at=None, now=None):
    """Log a sales activity (call, e-mail, meeting, conversation); on an awaiting MQL it is the first follow-up; raises NotPermitted, IllegalTransition or InvalidInput."""
    now = now or timezone.now()
    note = _clean_note(note)
    if kind not in SALES_ACTIVITY_KINDS:
        choices = ", ".join(SALES_ACTIVITY_KINDS)
        raise InvalidInput(f"Unknown sales activity {kind!r}; choose one of {choices}.", field="kind")
    occurred_at = occurred_at or now
    if occurred_at > now:
        raise InvalidInput("An activity cannot have happened in the future.", field="occurred_at")
    with transaction.atomic():
        current = _lock(lead)
        _check_move(current, "log_activity", by)
        activity = Activity.objects.create(lead=current, kind=kind, occurred_at=occurred_at, actor=by, note=note)
        changes = _follow_up_changes(current, occurred_at)
        _write(current, now, **changes)
        _update_episode(current, **changes)
        _record(
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
                "label": ActivityKind(kind).label,
                "occurred_at": occurred_at.isoformat(),
                "first_follow_up": bool(changes),
            },
        )
    return current
