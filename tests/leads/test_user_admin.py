"""Users who appear in the history are deactivated in the admin, never deleted."""

from django.contrib.auth.models import User

from leads import transitions
from leads.models import Stage

from ..factories import lead_in_stage, make_user


def test_deleting_a_user_with_history_says_why_not_and_offers_deactivation(admin_client, rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)  # the owner of an MQL, in its history
    url = f"/admin/auth/user/{rep.pk}/delete/"

    page = admin_client.get(url)
    confirmed = admin_client.post(url, {"post": "yes"})

    assert page.status_code == 200
    assert "cannot be deleted. Deactivate it instead" in page.content.decode()
    assert confirmed.status_code == 200
    assert User.objects.filter(pk=rep.pk).exists()
    assert lead.events.exists()


def test_bulk_deleting_users_with_history_deletes_none_of_them(admin_client, rep, team):
    lead_in_stage(Stage.SAL, owner=rep, team=team)
    bystander = make_user("bea")

    response = admin_client.post(
        "/admin/auth/user/", {"action": "delete_selected", "_selected_action": [rep.pk, bystander.pk], "post": "yes"}
    )

    assert response.status_code == 200
    assert "cannot be deleted" in response.content.decode()
    assert User.objects.filter(pk__in=[rep.pk, bystander.pk]).count() == 2


def test_a_user_who_only_acted_on_a_lead_once_is_kept_without_a_server_error(admin_client, rep, manager, team):
    # Not an owner of anything: only the history's actor column names the manager.
    transitions.accept_lead(lead_in_stage(Stage.MQL, owner=rep, team=team), by=manager)

    response = admin_client.post(f"/admin/auth/user/{manager.pk}/delete/", {"post": "yes"})

    assert response.status_code == 200
    assert "cannot be deleted" in response.content.decode()
    assert User.objects.filter(pk=manager.pk).exists()


def test_a_user_without_history_can_still_be_deleted(admin_client):
    newcomer = make_user("newcomer")

    response = admin_client.post(f"/admin/auth/user/{newcomer.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=newcomer.pk).exists()


def test_the_deactivate_action_keeps_the_user_and_the_history(admin_client, rep, team):
    lead_in_stage(Stage.MQL, owner=rep, team=team)

    admin_client.post("/admin/auth/user/", {"action": "deactivate", "_selected_action": [rep.pk]})

    rep.refresh_from_db()
    assert rep.is_active is False
