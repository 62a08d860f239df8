"""The lead workspace in a real browser: search with a typo, undo restoring the countdown, saved views,
rows that stay true and new MQLs announced without a reload, the phone navigation."""

import pytest
from playwright.sync_api import expect

from leads import transitions
from leads.models import Lead, Stage, TeamMember
from tests.factories import lead_in_stage, make_lead

pytestmark = pytest.mark.browser


def test_search_with_a_typo_finds_the_lead(login, live_server, marketer, shots_dir):
    make_lead(name="Mona Schulz", email="mona@northwind.example", company="Northwind Traders")
    make_lead(name="Peter Brown", email="peter@contoso.example", company="Contoso")
    page = login("mark")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Leads").click()
    page.get_by_role("textbox", name="Search").fill("Shulz")
    page.get_by_role("button", name="Search").click()

    rows = page.locator(".lead-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Mona Schulz")
    expect(rows.first).to_contain_text("mona@northwind.example")
    page.screenshot(path=str(shots_dir / "leads-search.png"), full_page=True)


def test_undo_on_the_queue_restores_the_row_and_its_countdown(login, live_server, rep, make_mql, shots_dir):
    lead = make_mql(rep, "Jane Cooper", minutes_ago=10)  # due in 30 minutes
    due = lead.sla_due_at
    page = login("rita")
    row = page.locator(f"#lead-{lead.pk}")
    due_attribute = row.locator("time.countdown").get_attribute("data-due")
    page.evaluate("window.__funnelMarker = 'no reload'")

    row.get_by_role("button", name="Accept").click()
    expect(row).to_contain_text("Accepted Jane Cooper")
    expect(page.locator("[data-row-count]")).to_have_text("0")
    page.screenshot(path=str(shots_dir / "queue-accepted-undo.png"), full_page=True)
    row.get_by_role("button", name="Undo").click()

    expect(row.get_by_role("button", name="Accept")).to_be_visible()
    expect(row.locator("time.countdown")).to_have_attribute("data-due", due_attribute)
    expect(row.locator("time.countdown")).to_contain_text("m")
    expect(page.locator("[data-row-count]")).to_have_text("1")
    assert page.evaluate("window.__funnelMarker") == "no reload"
    fresh = Lead.objects.get(pk=lead.pk)
    assert (fresh.stage, fresh.sla_due_at, fresh.accepted_at) == (Stage.MQL, due, None)
    page.screenshot(path=str(shots_dir / "queue-undone.png"), full_page=True)


def test_phone_navigation_shows_every_item(login, live_server, manager, page, shots_dir):
    page.set_viewport_size({"width": 375, "height": 740})
    login("mona")
    page.goto(f"{live_server.url}/leads/")
    page.screenshot(path=str(shots_dir / "phone-leads.png"))

    for link in page.get_by_role("navigation", name="Main").get_by_role("link").all():
        expect(link).to_be_in_viewport()


def test_a_saved_view_survives_a_reload(login, live_server, marketer):
    make_lead(name="Mona Schulz", source="webinar")
    make_lead(name="Peter Brown", source="organic")
    page = login("mark")
    page.goto(f"{live_server.url}/leads/?source=webinar")
    page.get_by_label("Name of this view").fill("Webinar people")
    page.get_by_role("button", name="Save view").click()

    page.goto(f"{live_server.url}/leads/")
    page.reload()
    page.get_by_role("link", name="Webinar people").click()

    rows = page.locator(".lead-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Mona Schulz")


def test_a_lead_accepted_elsewhere_turns_into_an_accepted_by_line(
    login, live_server, browser, rep, manager, make_mql, monkeypatch
):
    monkeypatch.setattr("leads.views.LIVE_INTERVAL_MS", 500)
    lead = make_mql(rep, "Jane Cooper")
    page = login("rita")
    row = page.locator(f"#lead-{lead.pk}")
    expect(row.get_by_role("button", name="Accept")).to_be_visible()
    page.evaluate("window.__funnelMarker = 'no reload'")

    # The manager, in a browser context of their own, accepts the lead from its page.
    context = browser.new_context()
    other = context.new_page()
    other.goto(f"{live_server.url}/login/")
    other.get_by_label("Username").fill("mona")
    other.get_by_label("Password").fill("pw-Funnel-2026")
    other.get_by_role("button", name="Sign in").click()
    other.goto(f"{live_server.url}/leads/{lead.pk}/")
    other.get_by_role("button", name="Accept lead").click()
    expect(other.locator(".timeline")).to_contain_text("Accepted")
    context.close()

    expect(row).to_contain_text("Jane Cooper: Mona accepted this", timeout=5000)
    expect(row.get_by_role("button")).to_have_count(0)
    assert page.evaluate("window.__funnelMarker") == "no reload"


def test_a_new_mql_is_announced_on_the_queue_without_a_reload(login, live_server, rep, team, monkeypatch):
    monkeypatch.setattr("leads.views.LIVE_INTERVAL_MS", 500)
    page = login("rita")
    expect(page.locator("[data-empty-state]")).to_be_visible()
    page.evaluate("window.__funnelMarker = 'no reload'")

    TeamMember.objects.filter(team=team, role=TeamMember.Role.REP).update(is_available=False)
    lead = lead_in_stage(Stage.MQL, team=team, name="Fresh Lead")
    transitions.reassign_lead(lead, by=None, to=rep)

    banner = page.locator("[data-live-new]")
    expect(banner).to_contain_text("1 new MQL arrived.", timeout=5000)
    assert page.evaluate("window.__funnelMarker") == "no reload"
    banner.get_by_role("link", name="Show them").click()
    expect(page.locator(f"#lead-{lead.pk}")).to_contain_text("Fresh Lead")
