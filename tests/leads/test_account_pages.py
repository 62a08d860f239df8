"""The account page and ``GET /api/accounts/{id}/``: an account's leads with stage and owner, scoped to the user."""

import re

import pytest
from django.urls import reverse

from leads.models import Stage

from ..factories import lead_in_stage, make_lead
from .test_api import api

pytestmark = pytest.mark.django_db


def account_url(account_id):
    return reverse("api:account-detail", args=[account_id])


@pytest.fixture
def acme(rep, other_rep, team):
    """Three leads at acme.co.uk: an MQL of Rita's, an SAL of Oscar's, a lead nobody owns yet."""
    mine = lead_in_stage(Stage.MQL, owner=rep, team=team, name="Ann Acme", email="ann@acme.co.uk", company="Acme")
    theirs = lead_in_stage(Stage.SAL, owner=other_rep, team=team, name="Bob Acme", email="bob@uk.acme.co.uk")
    new = make_lead(name="Cy Acme", email="cy@acme.co.uk")
    return mine, theirs, new


def test_lead_json_carries_its_account(marketer, acme):
    mine, _theirs, _new = acme
    data = api(marketer).get(reverse("api:lead-detail", args=[mine.pk])).json()

    assert data["account"] == mine.account_id
    assert data["account_name"] == "Acme"
    assert data["possible_duplicates"] == []


def test_marketer_sees_every_lead_of_the_account_with_stage_and_owner(marketer, acme, django_assert_num_queries):
    mine, theirs, new = acme
    client = api(marketer)
    client.get(account_url(mine.account_id))  # warm the token and role caches
    # token with user and roles, the account, the count, the leads with owner and team
    with django_assert_num_queries(4):
        response = client.get(account_url(mine.account_id))

    assert response.status_code == 200
    data = response.json()
    assert (data["domain"], data["lead_count"]) == ("acme.co.uk", 3)
    rows = {row["id"]: (row["stage"], row["owner_name"]) for row in data["leads"]}
    assert rows == {mine.pk: ("mql", "Rita Rep"), theirs.pk: ("sal", "Oscar Other"), new.pk: ("lead", None)}
    assert data["leads_url"].endswith(f"/api/leads/?account={mine.account_id}")
    listed = client.get(data["leads_url"]).json()
    assert {row["id"] for row in listed["results"]} == {mine.pk, theirs.pk, new.pk}


def test_rep_sees_only_own_leads_of_the_account(rep, acme):
    mine, _theirs, _new = acme
    data = api(rep).get(account_url(mine.account_id)).json()

    assert [row["id"] for row in data["leads"]] == [mine.pk]
    assert data["lead_count"] == 1


def test_rep_gets_404_for_an_account_without_a_lead_of_theirs(rep):
    lead = make_lead(email="dee@globex.de")

    assert api(rep).get(account_url(lead.account_id)).status_code == 404
    assert api(rep).get(account_url(999999)).status_code == 404
    assert api(rep).get("/api/accounts/abc/").status_code == 404
    assert api().get(account_url(lead.account_id)).status_code == 401


def test_account_page_lists_the_leads_the_user_may_see(client, rep, acme):
    mine, _theirs, _new = acme
    client.force_login(rep)
    response = client.get(reverse("leads:account", args=[mine.account_id]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Ann Acme" in page and "Bob Acme" not in page
    assert "acme.co.uk" in page and "Rita Rep" in page


def test_account_page_query_count(client, manager, acme, django_assert_num_queries):
    mine, _theirs, _new = acme
    client.force_login(manager)
    url = reverse("leads:account", args=[mine.account_id])
    client.get(url)
    # session, user, roles, managed teams, the account, the count, the page of leads with owner
    # and team, and the navigation's breached count
    with django_assert_num_queries(8):
        response = client.get(url)
    assert response.status_code == 200
    assert len(re.findall(r'href="/leads/\d+/"', response.content.decode())) == 2


def test_lead_page_links_its_account(client, marketer, acme):
    mine, _theirs, _new = acme
    client.force_login(marketer)
    page = client.get(mine.get_absolute_url()).content.decode()

    assert reverse("leads:account", args=[mine.account_id]) in page


def test_other_reps_account_page_is_404(client, rep):
    lead = make_lead(email="dee@globex.de")
    client.force_login(rep)

    assert client.get(reverse("leads:account", args=[lead.account_id])).status_code == 404
