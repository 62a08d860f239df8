"""Small factories that build leads through the real transition functions, so
every lead a test uses has the history a real one would have."""

import itertools
from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.utils import timezone

from leads import transitions
from leads.models import Lead, MqlEpisode, RejectionReason, Stage, Team, TeamMember, UserProfile

_counter = itertools.count(1)


def make_user(username=None, *, role=None, team=None, team_role=None, password="pw-Funnel-2026", **extra):
    username = username or f"user{next(_counter)}"
    user = User.objects.create_user(username=username, email=f"{username}@example.com", password=password, **extra)
    if role:
        user.groups.add(Group.objects.get(name=role))
    if team is not None:
        TeamMember.objects.create(team=team, user=user, role=team_role or TeamMember.Role.REP)
    return user


def german(user, zone="Europe/Berlin"):
    """``user`` reading German in ``zone`` (their profile)."""
    UserProfile.objects.update_or_create(user=user, defaults={"language": "de", "time_zone": zone})
    return user


def make_team(name=None):
    return Team.objects.create(name=name or f"Team {next(_counter)}")


def reason(code="no-budget"):
    return RejectionReason.objects.get(code=code)


def make_lead(*, by=None, now=None, **fields):
    n = next(_counter)
    fields.setdefault("name", f"Lead {n}")
    fields.setdefault("email", f"lead{n}@acme{n}.example")
    fields.setdefault("company", f"Acme {n}")
    return transitions.create_lead(by=by, now=now, **fields)


def lead_in_stage(stage, *, owner=None, team=None, now=None, reason_code="no-budget", **fields):
    """A lead walked through the lifecycle to ``stage`` (system actor), owned by ``owner``."""
    now = now or timezone.now()
    lead = make_lead(now=now - timedelta(minutes=30), team=team, **fields)
    if stage == Stage.LEAD:
        return lead
    if stage == Stage.MERGED:
        return transitions.merge_lead(lead, by=None, into=make_lead(now=now), now=now - timedelta(minutes=20))[0]
    lead = transitions.promote_to_mql(lead, by=None, team=team, now=now - timedelta(minutes=20))
    if owner is not None and lead.owner_id != owner.pk:
        Lead.objects.filter(pk=lead.pk).update(owner=owner)
        MqlEpisode.objects.filter(lead=lead, number=lead.mql_episode).update(owner=owner)
        lead.refresh_from_db()
    if stage == Stage.MQL:
        return lead
    if stage == Stage.REJECTED:
        return transitions.reject_lead(lead, by=None, reason=reason_code, now=now - timedelta(minutes=10))
    lead = transitions.accept_lead(lead, by=None, now=now - timedelta(minutes=10))
    if stage == Stage.SAL:
        return lead
    return transitions.qualify_lead(lead, by=None, now=now - timedelta(minutes=5))
