"""Pick the owner of a new MQL: round-robin among a team's reps who can take it."""

from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from .models import Lead, Stage, Team, TeamMember


def eligible_reps(team, *, exclude=None):
    """Return the team's reps who may receive an MQL now, next in line first; raises nothing.

    A rep is eligible when active, marked available and below their cap of open
    MQLs. The rep whose last turn is oldest (or who never had one) comes first,
    which makes the rotation fair over time.
    """
    # Counted per rep from lead_queue_idx (owner, stage, ...): only the rep's open MQLs
    # are read, not every lead they ever owned, so routing stays fast as history grows.
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
    members = TeamMember.objects.filter(team=team, role=TeamMember.Role.REP, is_available=True, user__is_active=True)
    if exclude is not None:
        members = members.exclude(user=exclude)
    return (
        members.annotate(open_mqls=open_mqls)
        .filter(Q(mql_capacity__isnull=True) | Q(open_mqls__lt=F("mql_capacity")))
        .order_by(F("last_turn").asc(nulls_first=True), "id")
        .select_related("user")
    )


def pick_owner(team, *, now, exclude=None):
    """Return the next rep of ``team`` (other than ``exclude``) to own an MQL and advance the rotation, or None if nobody can take it.

    Must run inside the caller's transaction; the team row is locked so two MQLs
    routed at the same instant never take the same turn. Raises nothing.
    """
    if team is None:
        return None
    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        member = eligible_reps(team, exclude=exclude).first()
        if member is None:
            return None
        turn = locked.routing_turns + 1
        Team.objects.filter(pk=team.pk).update(routing_turns=turn)
        TeamMember.objects.filter(pk=member.pk).update(last_turn=turn, last_routed_at=now)
        return member.user
