import pytest

from leads import access, transitions
from leads.models import Lead, Stage

from ..factories import lead_in_stage, make_team, make_user

# (persona, action) -> may act on a lead owned by ``rep`` in ``rep``'s team
EXPECTED = {
    "rep": {"accept", "reject", "qualify", "disqualify", "log_activity", "opt_out"},
    "other_rep": set(),
    "manager": {"accept", "reject", "qualify", "disqualify", "log_activity", "reassign", "opt_out"},
    "outside_manager": set(),
    "marketer": {"promote", "recycle", "opt_out", "merge", "unmerge"},
    "admin": set(access.ACTIONS),
}


@pytest.fixture
def personas(rep, other_rep, manager, marketer, admin):
    other_team = make_team("South")
    outside_manager = make_user("olga", role="manager", team=other_team, team_role="manager")
    return {
        "rep": rep,
        "other_rep": other_rep,
        "manager": manager,
        "outside_manager": outside_manager,
        "marketer": marketer,
        "admin": admin,
    }


@pytest.mark.parametrize("persona", list(EXPECTED))
@pytest.mark.parametrize("action", sorted(access.ACTIONS))
def test_role_action_matrix(persona, action, personas, rep):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=rep.memberships.get().team)
    assert access.can_act(personas[persona], lead, action) is (action in EXPECTED[persona])


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("rep", True),
        ("other_rep", False),
        ("manager", True),
        ("outside_manager", False),
        ("marketer", True),
        ("admin", True),
    ],
)
def test_visibility_matrix(persona, sees, personas, rep):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=rep.memberships.get().team)
    assert access.visible_leads(personas[persona]).filter(pk=lead.pk).exists() is sees


def test_rep_sees_only_own_leads(rep, other_rep):
    mine = lead_in_stage(Stage.MQL, owner=rep)
    lead_in_stage(Stage.MQL, owner=other_rep)
    assert list(access.visible_leads(rep)) == [mine]


def test_anonymous_and_roleless_users_see_nothing(rep):
    from django.contrib.auth.models import AnonymousUser

    lead_in_stage(Stage.MQL, owner=rep)
    assert not access.visible_leads(AnonymousUser()).exists()
    assert not access.visible_leads(make_user()).exists()


def test_superuser_counts_as_admin(rep):
    boss = make_user(is_superuser=True)
    lead = lead_in_stage(Stage.MQL, owner=rep)
    assert access.can_act(boss, lead, "reassign")
    assert access.visible_leads(boss).filter(pk=lead.pk).exists()


def test_unknown_action_is_a_programming_error(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep)
    with pytest.raises(ValueError):
        access.can_act(rep, lead, "delete")


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("rep", False), ("manager", False), ("marketer", True), ("admin", True)],
)
def test_only_marketers_and_admins_create_leads(persona, allowed, personas):
    user = personas[persona]
    if allowed:
        transitions.create_lead(by=user, name="New", email=f"new-{persona}@example.com")
        assert Lead.objects.filter(email=f"new-{persona}@example.com").exists()
    else:
        with pytest.raises(transitions.NotPermitted):
            transitions.create_lead(by=user, name="New", email=f"new-{persona}@example.com")
        assert not Lead.objects.filter(email=f"new-{persona}@example.com").exists()
