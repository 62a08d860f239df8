"""Who may see and do what: the one place that decides it.

Roles are Django groups (created by migration): rep, manager, marketer, admin.
Superusers count as admins. A manager's reach is the teams they manage.
"""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q

from .models import Account, Lead, Team, TeamMember

REP = "rep"
MANAGER = "manager"
MARKETER = "marketer"
ADMIN = "admin"
ROLES = (REP, MANAGER, MARKETER, ADMIN)

# Verbs a lead's owner may perform; managers may perform them on their team's leads.
SALES_ACTIONS = frozenset({"accept", "reject", "qualify", "disqualify", "log_activity"})
MANAGER_ACTIONS = frozenset({"reassign"})
# Merging duplicates is data care, like editing details: marketers (and admins).
MARKETING_ACTIONS = frozenset({"promote", "recycle", "merge", "unmerge"})
# A person's opt-out reaches marketing (unsubscribe) or sales (on a call): both may record it.
OPT_OUT_ACTIONS = frozenset({"opt_out"})
# Erasing a person's data cannot be undone: admins only.
ADMIN_ACTIONS = frozenset({"erase"})
ACTIONS = SALES_ACTIONS | MANAGER_ACTIONS | MARKETING_ACTIONS | OPT_OUT_ACTIONS | ADMIN_ACTIONS


def roles_of(user):
    """Return the set of role names of ``user`` (cached on the user object); raises nothing."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_funnel_roles", None)
    if cached is None:
        cached = remember_roles(user, user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    return cached


def remember_roles(user, group_names):
    """Cache on ``user`` the roles among ``group_names`` (its groups' names, read with the user by a caller that can) for ``roles_of``; return them."""
    names = {name for name in group_names if name in ROLES}
    if user.is_superuser:
        names.add(ADMIN)
    user._funnel_roles = frozenset(names)
    return user._funnel_roles


def managed_team_ids(user):
    """Return the ids of the teams ``user`` manages (cached on the user object); raises nothing."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_funnel_managed_teams", None)
    if cached is None:
        cached = frozenset(
            TeamMember.objects.filter(user=user, role=TeamMember.Role.MANAGER).values_list("team_id", flat=True)
        )
        user._funnel_managed_teams = cached
    return cached


def has_role(user, *roles):
    """Return whether ``user`` holds any of ``roles``; raises nothing."""
    return bool(roles_of(user) & set(roles))


def visible_leads(user):
    """Return the leads ``user`` may see: own for reps, team's for managers, all for marketers and admins; raises nothing."""
    roles = roles_of(user)
    if not roles:
        return Lead.objects.none()
    if ADMIN in roles or MARKETER in roles:
        return Lead.objects.all()
    condition = Q(owner=user)
    if MANAGER in roles:
        team_ids = managed_team_ids(user)
        if team_ids:
            condition |= Q(team_id__in=team_ids)
    return Lead.objects.filter(condition)


def report_teams(user):
    """Return the teams whose routing ``user`` may review: all active for admins, the managed ones for managers; raises nothing."""
    roles = roles_of(user)
    if ADMIN in roles:
        return list(Team.objects.filter(is_active=True))
    if MANAGER in roles:
        return list(Team.objects.filter(pk__in=managed_team_ids(user)))
    return []


def visible_accounts(user):
    """Return the accounts ``user`` may open: all for marketers and admins, those with a lead the user sees for the others; raises nothing.

    An account none of whose leads a rep may see is a 404 for that rep, as another rep's lead is.
    """
    roles = roles_of(user)
    if not roles:
        return Account.objects.none()
    if ADMIN in roles or MARKETER in roles:
        return Account.objects.all()
    return Account.objects.filter(Exists(visible_leads(user).filter(account_id=OuterRef("pk"))))


def lead_is_visible(user, lead_field="lead_id"):
    """Return an expression: whether ``user`` may see the lead that ``lead_field`` of each row names; raises nothing.

    Reports scope a rep to the rep's own MQL episodes, but a lead recycled and now another
    rep's must not show its details there: lists annotate this and hide them.
    """
    return Exists(visible_leads(user).filter(pk=OuterRef(lead_field)))


def can_act(user, lead, action):
    """Return whether ``user`` may perform ``action`` on ``lead``; raises ValueError for an unknown action."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    roles = roles_of(user)
    if ADMIN in roles:
        return True
    manages_lead = MANAGER in roles and lead.team_id is not None and lead.team_id in managed_team_ids(user)
    if action in SALES_ACTIONS:
        return manages_lead or (lead.owner_id is not None and lead.owner_id == user.pk and bool(roles))
    if action in MANAGER_ACTIONS:
        return manages_lead
    if action in ADMIN_ACTIONS:
        return False
    if action in OPT_OUT_ACTIONS:
        owns_lead = lead.owner_id is not None and lead.owner_id == user.pk and bool(roles)
        return MARKETER in roles or manages_lead or owns_lead
    return MARKETER in roles


def admins():
    """Return the active users who hold the admin role (superusers included); raises nothing."""
    return get_user_model().objects.filter(Q(groups__name=ADMIN) | Q(is_superuser=True), is_active=True).distinct()


def can_create_leads(user):
    """Return whether ``user`` may create or import leads (marketers and admins); raises nothing."""
    return has_role(user, MARKETER, ADMIN)


def can_edit_leads(user):
    """Return whether ``user`` may change a lead's details (marketers and admins); raises nothing."""
    return has_role(user, MARKETER, ADMIN)


def can_export_personal_data(user):
    """Return whether ``user`` may export everything held about a person (admins: it answers access requests); raises nothing."""
    return has_role(user, ADMIN)
