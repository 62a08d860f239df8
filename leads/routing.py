"""Pick the owner of a new MQL, and say why: the account's rep first, else weighted round-robin.

1. **Account owner.** The rep who owns an open lead (MQL, SAL or SQL) of the same
   account that became an MQL within ``FUNNEL_ACCOUNT_OWNER_WINDOW_DAYS`` (default
   120) gets it, if that rep can take it now (below).
2. **Weighted round-robin** among the team's reps who can take it, by stride
   scheduling: each turn adds ``STRIDE // weight`` to the winner's pass and the
   lowest pass goes next, so over many MQLs each rep's share is their weight's
   share, deterministically (ties: oldest last turn, then the membership's id). A
   rep who joins or comes back starts at the team's pass: absence earns no burst.

A rep can take an MQL when active, marked available, not out of office and
below their cap of open MQLs. Every decision (the pool, who was skipped and
why, the winner and the rule) goes into the history row of the assignment
(``Decision.as_payload``), and the lead page shows it.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils.translation import gettext_noop

from .models import Lead, OutOfOffice, Stage, Team, TeamMember
from .sql import update_rows

# Divisible by every weight from 1 to 16, so common weights divide it exactly.
STRIDE = 720720
ACCOUNT_OWNER, ROUND_ROBIN, NOBODY = "account_owner", "round_robin", "nobody"
# Stored in the history in English (data); pages show them with |translated.
RULE_LABELS = {
    ACCOUNT_OWNER: gettext_noop("owner of an open lead of the account"),
    ROUND_ROBIN: gettext_noop("weighted round-robin"),
    NOBODY: gettext_noop("nobody could take it"),
}
# An account's leads still being worked: their owner is the account's rep.
OPEN_STAGES = (Stage.MQL, Stage.SAL, Stage.SQL)


@dataclass(frozen=True)
class Decision:
    """Who gets an MQL and why."""

    owner: object
    rule: str
    team_id: int | None = None
    account_id: int | None = None
    pool: list = field(default_factory=list)
    skipped: list = field(default_factory=list)

    def as_payload(self):
        """The decision as the history stores it (JSON)."""
        return {
            "rule": self.rule,
            "rule_label": RULE_LABELS[self.rule],
            "winner": self.owner.pk if self.owner is not None else None,
            "winner_name": _name(self.owner) if self.owner is not None else None,
            "team": self.team_id,
            "account": self.account_id,
            "pool": self.pool,
            "skipped": self.skipped,
        }


def _name(user):
    return user.get_full_name() or user.get_username()


def _members(team_ids, now):
    """The reps of the teams ``team_ids``, each with its open MQLs and whether it is out of office now."""
    # Counted per rep from lead_queue_idx (owner, stage, ...): only the rep's open MQLs.
    open_mqls = Coalesce(
        Subquery(
            Lead.objects.filter(owner_id=OuterRef("user_id"), stage=Stage.MQL)
            .order_by()
            .values("owner_id")
            .annotate(n=Count("*"))
            .values("n")
        ),
        0,
    )
    away = Exists(OutOfOffice.objects.filter(user_id=OuterRef("user_id"), starts_at__lte=now, ends_at__gt=now))
    return (
        TeamMember.objects.filter(team_id__in=team_ids, role=TeamMember.Role.REP)
        .annotate(open_mqls=open_mqls, away=away)
        .select_related("user")
        .order_by("id")
    )


def _why_not(member, exclude):
    if not member.user.is_active:
        return gettext_noop("deactivated")
    if not member.is_available:
        return gettext_noop("marked unavailable")
    if member.away:
        return gettext_noop("out of office")
    if member.mql_capacity is not None and member.open_mqls >= member.mql_capacity:
        return f"at capacity ({member.open_mqls} of {member.mql_capacity} open MQLs)"
    # Last: a rep handed on because away or deactivated is shown as such.
    if exclude is not None and member.user_id == exclude.pk:
        return gettext_noop("the current owner")
    return None


def eligible_reps(team, *, now, exclude=None):
    """Return the team's reps who may receive an MQL now (TeamMember rows with ``open_mqls``), in membership order; raises nothing."""
    return [member for member in _members([team.pk], now) if _why_not(member, exclude) is None]


# An account's rep is read from its most recent open leads: at most this many rows per account.
ACCOUNT_OWNER_ROWS = 50


def _account_leads(account_ids, now):
    """Each account's open leads within the window, ``{account: [(mql_at, lead, owner, name), ...]}``, most recent MQL first."""
    since = now - timedelta(days=settings.FUNNEL_ACCOUNT_OWNER_WINDOW_DAYS)
    recent = Window(RowNumber(), partition_by=F("account_id"), order_by=(F("mql_at").desc(), F("id").desc()))
    rows = (
        Lead.objects.filter(account_id__in=account_ids, stage__in=OPEN_STAGES, owner__isnull=False, mql_at__gte=since)
        .annotate(recent=recent)
        .filter(recent__lte=ACCOUNT_OWNER_ROWS)
        .order_by("account_id", "-mql_at", "-id")
        .values_list(
            "account_id", "mql_at", "id", "owner_id", "owner__first_name", "owner__last_name", "owner__username"
        )
    )
    leads = defaultdict(list)
    for account_id, mql_at, lead_id, owner_id, first, last, username in rows:
        leads[account_id].append((mql_at, lead_id, owner_id, f"{first} {last}".strip() or username))
    return leads


def _owners(account_leads):
    """The owners of an account's open leads (``_account_leads``), ``{owner: name}``, most recent MQL first."""
    owners = {}
    for _mql_at, _lead_id, owner_id, name in account_leads:
        owners.setdefault(owner_id, name)
    return owners


def _decide(locked, members, owners, *, exclude, account_id, now):
    """The decision for one MQL of ``locked`` (the team row) among ``members`` given the account's ``owners``, and the winning membership (or None)."""
    eligible, skipped = {}, []
    for member in members:
        reason = _why_not(member, exclude)
        if reason is None:
            eligible[member.user_id] = member
        else:
            skipped.append({"id": member.user_id, "name": _name(member.user), "reason": reason})
    pool = [
        {"id": m.user_id, "name": _name(m.user), "weight": m.routing_weight, "open_mqls": m.open_mqls}
        for m in eligible.values()
    ]
    winner, rule = None, NOBODY
    for owner_id, name in owners.items():
        if owner_id in eligible:
            winner, rule = eligible[owner_id], ACCOUNT_OWNER
            break
        if not any(row["id"] == owner_id for row in skipped):
            reason = gettext_noop("the current owner") if exclude is not None and owner_id == exclude.pk else None
            reason = reason or f"owns a lead of the account but is not a rep of {locked.name}"
            skipped.append({"id": owner_id, "name": name, "reason": reason})
        else:
            for row in skipped:
                if row["id"] == owner_id:
                    row["reason"] = f"owns a lead of the account but is {row['reason']}"
    if winner is None and eligible:
        winner = min(
            eligible.values(),
            key=lambda m: (
                max(m.routing_pass, locked.routing_pass),
                m.last_turn is not None,
                m.last_turn or 0,
                m.pk,
            ),
        )
        rule = ROUND_ROBIN
    if winner is None:
        decision = Decision(
            owner=None, rule=NOBODY, team_id=locked.pk, account_id=account_id, pool=pool, skipped=skipped
        )
        return decision, None
    # The turn, in memory: the caller writes the team's and the winner's rows.
    locked.routing_turns += 1
    winner.last_turn, winner.last_routed_at = locked.routing_turns, now
    if rule == ROUND_ROBIN:
        # The account's rep takes the lead outside the rotation: it does not cost them a turn.
        start = max(winner.routing_pass, locked.routing_pass)
        winner.routing_pass = start + STRIDE // winner.routing_weight
        locked.routing_pass = start
    decision = Decision(
        owner=winner.user, rule=rule, team_id=locked.pk, account_id=account_id, pool=pool, skipped=skipped
    )
    return decision, winner


def route(team, *, now, exclude=None, account_id=None):
    """Choose the rep of ``team`` (other than ``exclude``) to own an MQL of ``account_id`` and advance the rotation; returns a Decision (owner None if nobody can take it), raises nothing.

    Must run inside the caller's transaction; the team row is locked so two MQLs
    routed at the same instant never take the same turn.
    """
    if team is None:
        return Decision(owner=None, rule=NOBODY, account_id=account_id)
    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        members = list(_members([team.pk], now))
        owners = _owners(_account_leads([account_id], now)[account_id]) if account_id is not None else {}
        decision, winner = _decide(locked, members, owners, exclude=exclude, account_id=account_id, now=now)
        if winner is not None:
            _save_turns([locked], [winner])
        return decision


def route_many(mqls, *, now):
    """Route several new MQLs, ``mqls`` being ``(team id, account id, lead id)`` in the order they are routed; returns their Decisions in that order, raises nothing.

    The same decisions as calling ``route`` for each in turn, from one read of the
    teams (locked, in id order), their reps and the accounts' open leads: each
    decision counts the ones before it (the winner's open MQLs, the rotation,
    the MQL that makes its winner the account's rep). Must run inside the
    caller's transaction, which writes the MQLs' owners.
    """
    team_ids = sorted({team_id for team_id, _account_id, _lead_id in mqls})
    with transaction.atomic():
        teams = {team.pk: team for team in Team.objects.select_for_update().filter(pk__in=team_ids).order_by("pk")}
        members = defaultdict(list)
        for member in _members(team_ids, now):
            members[member.team_id].append(member)
        account_leads = _account_leads({account_id for _t, account_id, _l in mqls if account_id is not None}, now)
        decisions, turned = [], {}
        for team_id, account_id, lead_id in mqls:
            owners = _owners(account_leads[account_id]) if account_id is not None else {}
            decision, winner = _decide(
                teams[team_id], members[team_id], owners, exclude=None, account_id=account_id, now=now
            )
            decisions.append(decision)
            if winner is None:
                continue
            turned[winner.pk] = winner
            for team_members in members.values():  # a rep of two teams has one count of open MQLs
                for member in team_members:
                    if member.user_id == winner.user_id:
                        member.open_mqls += 1
            if account_id is not None:
                rows = account_leads[account_id]
                rows.append((now, lead_id, winner.user_id, _name(winner.user)))
                rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
                del rows[ACCOUNT_OWNER_ROWS:]
        _save_turns([teams[team_id] for team_id in team_ids], list(turned.values()))
    return decisions


def _save_turns(teams, winners):
    """Write the rotation state ``_decide`` advanced in memory."""
    update_rows(Team, ("routing_turns", "routing_pass"), [(t.pk, t.routing_turns, t.routing_pass) for t in teams])
    update_rows(
        TeamMember,
        ("last_turn", "last_routed_at", "routing_pass"),
        [(m.pk, m.last_turn, m.last_routed_at, m.routing_pass) for m in winners],
    )


def pick_owner(team, *, now, exclude=None, account_id=None):
    """Return the next rep of ``team`` (other than ``exclude``) to own an MQL, or None if nobody can take it (see ``route``); raises nothing."""
    return route(team, now=now, exclude=exclude, account_id=account_id).owner
