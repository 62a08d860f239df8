"""The configuration audit log: every change to settings, teams, users and roles, with who,
when, before and after, whatever made it; append-only in the database; for admins."""

from datetime import date

import pghistory
import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from leads import audit as log
from leads.audit import event_tables
from leads.models import BusinessHours, Holiday, ScoringConfig, ScoringRule, SLAPolicy, TeamMember
from tests.factories import make_user


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def latest(kind=""):
    """The newest entry of the log (of one kind)."""
    return log.entries(log.events(kind=kind)[:1])[0]


def changes(entry):
    return {change.field: (change.before, change.after) for change in entry.changes}


def test_admin_changing_an_sla_policy_is_logged_with_who_when_before_and_after(as_user, db):
    admin = make_user("root", role="admin", is_staff=True, is_superuser=True, first_name="Ada")
    policy = SLAPolicy.objects.get(is_default=True)
    url = reverse("admin:leads_slapolicy_change", args=[policy.pk])
    data = {
        "name": policy.name,
        "position": policy.position,
        "is_active": "on",
        "is_default": "on",
        "source": "",
        "priority": "",
        "response_minutes": "240",
        "business_hours": "",
        "notify_owner": "on",
        "notify_managers": "on",
        "reassign_after_minutes": "0",
    }
    response = as_user(admin).post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]

    entry = latest("SLAPolicyEvent")
    assert (entry.who, entry.kind, entry.name, entry.action) == ("Ada", "SLA policy", policy.name, "changed")
    assert entry.via == url
    assert changes(entry) == {"Response minutes": (60, 240)}


def test_marketer_raising_the_threshold_is_attributed_to_the_marketer(as_user, marketer):
    ScoringConfig.current()
    as_user(marketer).post(reverse("scoring:threshold"), {"mql_threshold": "80"})

    entry = latest("ScoringConfigEvent")
    assert (entry.who, entry.name, entry.action) == ("Mark", "MQL threshold", "changed")
    assert changes(entry)["Mql threshold"] == (100, 80)
    assert changes(entry)["Updated by"][1] == "Mark"


def test_targets_saved_on_the_targets_page_are_attributed(as_user, marketer):
    as_user(marketer).post(f"{reverse('reports:targets')}?year=2026", {"target_2026_11": "40"})

    entry = latest("MonthlyTargetEvent")
    assert (entry.who, entry.kind, entry.name, entry.action) == ("Mark", "MQL target", "2026-11 · all teams", "created")
    assert changes(entry)["Mql target"] == (None, 40)


def test_scoring_rule_created_on_the_matrix_is_logged(as_user, marketer):
    data = {"name": "Pricing page", "category": "behaviour", "activity_kind": "website_visit", "points": "10"}
    data |= {"url_contains": "/pricing", "position": "100", "is_active": "on"}
    as_user(marketer).post(reverse("scoring:rule_create"), data)
    assert ScoringRule.objects.filter(name="Pricing page").exists()

    entry = latest("ScoringRuleEvent")
    assert (entry.who, entry.name, entry.action) == ("Mark", "Pricing page", "created")


def test_giving_and_taking_a_role_and_deactivating_a_user_are_logged(admin):
    user = make_user("newbie")
    with pghistory.context(user=admin.pk, url="/admin/auth/user/"):
        user.groups.add(Group.objects.get(name="manager"))
        user.groups.remove(Group.objects.get(name="manager"))
        user.is_active = False
        user.save()

    user_entry = latest("UserEvent")
    assert (user_entry.who, user_entry.name, user_entry.action) == ("Ada", "newbie", "changed")
    assert changes(user_entry) == {"Active": (True, False)}
    added, removed = log.entries(log.events(kind="UserRoleEvent")[:2])[::-1]
    assert (added.action, added.name) == ("added", "newbie · manager")
    assert (removed.action, removed.who) == ("removed", "Ada")


def test_a_login_is_not_a_change_of_configuration(client, rep):
    before = log.events(kind="UserEvent").count()
    client.post(reverse("login"), {"username": "rita", "password": "pw-Funnel-2026"})
    assert log.events(kind="UserEvent").count() == before


def test_bulk_updates_and_raw_sql_are_logged_too(db, team):
    member_count = log.events(kind="TeamMemberEvent").count()
    calendar = BusinessHours.objects.create(name="Berlin", time_zone="Europe/Berlin")
    Holiday.objects.create(business_hours=calendar, date=date(2026, 12, 24), name="Heiligabend")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE leads_businesshours SET closes = '18:00' WHERE id = %s", [calendar.pk])
    TeamMember.objects.filter(team=team).update(mql_capacity=5)  # no members yet: nothing to log

    entry = latest("BusinessHoursEvent")
    assert (entry.who, entry.action) == ("System (no signed-in user)", "changed")
    assert [(c.field, str(c.before), str(c.after)) for c in entry.changes] == [("Closes", "17:00:00", "18:00:00")]
    assert latest("HolidayEvent").name == f"2026-12-24 Heiligabend · calendar #{calendar.pk}"
    assert log.events(kind="TeamMemberEvent").count() == member_count


def test_first_change_of_a_setting_that_existed_before_the_log_has_its_before(db):
    # The default policy and the roles came with the migrations, before any change.
    SLAPolicy.objects.filter(is_default=True).update(response_minutes=30)
    assert changes(latest("SLAPolicyEvent")) == {"Response minutes": (60, 30)}


def test_routing_turns_are_not_configuration_changes(rep, team):
    before = log.events().count()
    team.routing_turns = 7
    team.save()
    TeamMember.objects.filter(user=rep).update(last_turn=7)
    assert log.events().count() == before


@pytest.mark.parametrize("statement", ["UPDATE {table} SET pgh_label = 'forged'", "DELETE FROM {table}"])
def test_database_refuses_rewriting_the_audit_log(admin, statement):
    ScoringConfig.current()
    with pghistory.context(user=admin.pk):
        SLAPolicy.objects.filter(is_default=True).update(response_minutes=45)
    tested = 0
    for table in event_tables():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
            if not cursor.fetchone()[0]:
                continue  # a row trigger has nothing to refuse in an empty table
        with (
            pytest.raises(DatabaseError, match="Cannot update or delete"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement.format(table=table))
        tested += 1
    assert tested >= 3
    assert changes(latest("SLAPolicyEvent")) == {"Response minutes": (60, 45)}


def test_database_refuses_truncating_the_audit_log(db):
    SLAPolicy.objects.filter(is_default=True).update(response_minutes=45)
    for table in event_tables():
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {table}")
    assert log.events(kind="SLAPolicyEvent").exists()


# ---------- the page ----------


@pytest.mark.parametrize("persona", ["rep", "manager", "marketer"])
def test_only_admins_see_the_audit_log(as_user, persona, request, db):
    assert as_user(request.getfixturevalue(persona)).get(reverse("leads:audit")).status_code == 403


def test_audit_log_page_shows_who_changed_what_before_and_after(as_user, admin, marketer):
    ScoringConfig.current()
    as_user(marketer).post(reverse("scoring:threshold"), {"mql_threshold": "80"})

    html = as_user(admin).get(reverse("leads:audit")).content.decode()

    assert "Audit log" in html and "MQL threshold" in html and "Mark" in html
    assert "<del>100</del>" in html and "<ins>80</ins>" in html


def test_audit_log_filters_by_what_and_who(as_user, admin, marketer):
    ScoringConfig.current()
    as_user(marketer).post(reverse("scoring:threshold"), {"mql_threshold": "80"})
    with pghistory.context(user=admin.pk):
        SLAPolicy.objects.filter(is_default=True).update(response_minutes=45)
    client = as_user(admin)

    by_marketer = client.get(reverse("leads:audit"), {"user": marketer.pk}).content.decode()
    assert "MQL threshold" in by_marketer and "SLA policy" not in by_marketer.split("<tbody>")[1]
    policies = client.get(reverse("leads:audit"), {"kind": "SLAPolicyEvent"}).content.decode()
    assert "<ins>45</ins>" in policies and "<ins>80</ins>" not in policies


def test_audit_log_page_query_count_does_not_grow_with_the_changes(as_user, admin, django_assert_num_queries):
    client = as_user(admin)
    for minutes in range(10, 20):
        with pghistory.context(user=admin.pk):
            SLAPolicy.objects.filter(is_default=True).update(response_minutes=minutes)
    client.get(reverse("leads:audit"))
    # session, user (with the profile: language and time zone), roles, the count, the page, the users,
    # the roles and the permissions it names (one query a kind: the admin's own role and its permissions
    # were given by the fixture), the users of the "who" filter, the navigation's breached count
    with django_assert_num_queries(10):
        assert client.get(reverse("leads:audit")).status_code == 200


def test_a_rule_given_a_half_life_is_logged_with_before_and_after(as_user, marketer):
    rule = ScoringRule.objects.create(
        name="Pricing page", category="behaviour", activity_kind="website_visit", points=10
    )
    data = {"name": "Pricing page", "category": "behaviour", "activity_kind": "website_visit", "points": "10"}
    data |= {"half_life_days": "14", "is_active": "on"}
    assert as_user(marketer).post(reverse("scoring:rule_edit", args=[rule.pk]), data).status_code == 302

    entry = latest("ScoringRuleEvent")
    assert (entry.who, entry.action) == ("Mark", "changed")
    assert changes(entry)["Half-life in days"] == (None, 14)
