"""Manager and marketer pages in a real browser, and every page at desktop and phone width."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads import transitions
from leads.models import ActivityKind, Lead, Stage, TeamMember
from tests.factories import lead_in_stage

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": 1280, "mobile": 375}


def test_manager_reassigns_in_place(login, manager, rep, other_rep, make_mql):
    lead = make_mql(rep, "Moving Lead")
    page = login("mona")
    page.evaluate("window.__funnelMarker = 'no reload'")
    row = page.locator(f"#lead-{lead.pk}")

    row.get_by_label("Reassign Moving Lead to").select_option(label="Oscar Other")
    row.get_by_role("button", name="Reassign").click()

    expect(page.locator(f"#lead-{lead.pk}")).to_contain_text("Reassigned Moving Lead to Oscar Other.")
    expect(page.locator(f"#lead-{lead.pk} .cell").first).to_contain_text("Oscar Other")
    assert page.evaluate("window.__funnelMarker") == "no reload"
    assert Lead.objects.get(pk=lead.pk).owner == other_rep


def test_manager_pages_the_team_mqls_and_reassigns_on_the_second_page(
    login, live_server, manager, rep, other_rep, team, make_mql, monkeypatch
):
    monkeypatch.setattr("leads.views.LIST_PAGE_SIZE", 2)
    for n in range(3):
        make_mql(rep, f"Lead {n}", minutes_ago=30 - n)
    lead_in_stage(Stage.SAL, owner=rep, team=team, name="Worked Lead")
    page = login("mona")
    mqls = page.locator('section[aria-labelledby="team-mqls"]')
    expect(mqls.locator(".lead-row")).to_have_count(2)
    expect(mqls).to_contain_text("3 open MQLs, soonest due first: page 1 of 2.")

    mqls.get_by_role("navigation", name="Pages of open MQLs").get_by_role("link", name="Next page").click()
    expect(page).to_have_url(f"{live_server.url}/team/?mql_page=2#team-mqls")
    expect(mqls.locator(".lead-row")).to_have_count(1)
    expect(page.locator('section[aria-labelledby="team-sals"]')).to_contain_text("Worked Lead")
    page.evaluate("window.__funnelMarker = 'no reload'")

    lead = Lead.objects.get(name="Lead 2")
    row = page.locator(f"#lead-{lead.pk}")
    row.get_by_label("Reassign Lead 2 to").select_option(label="Oscar Other")
    row.get_by_role("button", name="Reassign").click()
    expect(page.locator(f"#lead-{lead.pk}")).to_contain_text("Reassigned Lead 2 to Oscar Other.")
    assert page.evaluate("window.__funnelMarker") == "no reload"
    assert Lead.objects.get(pk=lead.pk).owner == other_rep

    mqls.get_by_role("link", name="Previous page").click()
    expect(page).to_have_url(f"{live_server.url}/team/?mql_page=1#team-mqls")
    expect(mqls.locator(".lead-row")).to_have_count(2)


def test_marketer_filters_and_recycles_in_place(login, live_server, marketer, rep, team):
    budget = lead_in_stage(Stage.REJECTED, owner=rep, team=team, name="Budget Lead", source="webinar")
    lead_in_stage(Stage.REJECTED, owner=rep, team=team, name="Student Lead", reason_code="student-job-seeker")
    page = login("mark")
    expect(page).to_have_url(f"{live_server.url}/rejected/")

    page.get_by_label("Reason").select_option(label="No budget")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".lead-row")).to_have_count(1)
    expect(page.locator(".lead-row")).to_contain_text("Budget Lead")

    page.evaluate("window.__funnelMarker = 'no reload'")
    page.locator(f"#lead-{budget.pk}").get_by_role("button", name="Recycle").click()
    expect(page.locator(f"#lead-{budget.pk}")).to_contain_text("Recycled Budget Lead to marketing nurture.")
    assert page.evaluate("window.__funnelMarker") == "no reload"
    assert Lead.objects.get(pk=budget.pk).stage == Stage.LEAD


def test_rep_logs_an_activity_then_qualifies(login, rep, team):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team, name="Working Lead")
    page = login("rita")
    page.goto(page.url.replace("/queue/", "/accepted/"))
    row = page.locator(f"#lead-{lead.pk}")

    row.get_by_role("button", name="Log activity…").click()
    row.locator(f"#kind-{lead.pk}").select_option(ActivityKind.MEETING.value)
    row.locator(f"#activity-note-{lead.pk}").fill("Demo booked for Tuesday")
    row.get_by_role("button", name="Log activity", exact=True).click()
    expect(page.locator(f"#lead-{lead.pk}")).to_contain_text("Logged the meeting on Working Lead.")

    page.locator(f"#lead-{lead.pk}").get_by_role("button", name="Qualify", exact=True).click()
    expect(page.locator(f"#lead-{lead.pk}")).to_contain_text("Qualified Working Lead to SQL.")
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.stage == Stage.SQL
    assert lead.activities.get().note == "Demo booked for Tuesday"


@pytest.fixture
def showcase(rep, other_rep, manager, marketer, team):
    """A small, realistic data set so every page has something to show."""
    people = [
        ("Jane Cooper", "VP Engineering", "Northwind Traders", "webinar", "Q4 Cloud Webinar", 70),
        ("Devon Lane", "Head of IT", "Globex Corporation", "paid-search", "Brand search", 30),
        ("Priya Natarajan", "CTO", "Initech", "organic", "", 5),
    ]
    now = timezone.now()
    for name, title, company, source, campaign, minutes_ago in people:
        lead_in_stage(
            Stage.MQL,
            owner=rep,
            team=team,
            now=now - timedelta(minutes=minutes_ago),
            name=name,
            job_title=title,
            company=company,
            source=source,
            campaign=campaign,
        )
    accepted = lead_in_stage(
        Stage.SAL, owner=rep, team=team, name="Aiko Tanaka", job_title="CEO", company="Kaizen Robotics"
    )
    transitions.log_activity(accepted, by=rep, kind=ActivityKind.CALL, note="Left a voicemail")
    rejected = lead_in_stage(Stage.MQL, owner=other_rep, team=team, name="Noah Kim", source="webinar")
    transitions.reject_lead(rejected, by=other_rep, reason="personal-email", note="Signed up with a gmail address")
    TeamMember.objects.filter(team=team, role=TeamMember.Role.REP).update(is_available=False)
    lead_in_stage(Stage.MQL, team=team, name="Grace Hopper", company="US Navy")
    TeamMember.objects.filter(team=team, role=TeamMember.Role.REP).update(is_available=True)
    return {"detail": accepted}


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_every_page_fits_the_screen(browser, live_server, showcase, shots_dir, width):
    pages = [
        (None, "login", "/login/"),
        ("rita", "queue", "/queue/"),
        ("rita", "accepted", "/accepted/"),
        ("rita", "detail", showcase["detail"].get_absolute_url()),
        ("mona", "team", "/team/"),
        ("mona", "breached", "/team/breached/"),
        ("mark", "rejected", "/rejected/"),
        ("mark", "reports", "/reports/"),
    ]
    for username, name, path in pages:
        context = browser.new_context(viewport={"width": WIDTHS[width], "height": 900})
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        if username:
            page.goto(f"{live_server.url}/login/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill("pw-Funnel-2026")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(shots_dir / f"{name}-{width}.png"), full_page=True)

        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {WIDTHS[width]}px"
        assert errors == [], f"script errors on {name}: {errors}"
        # Every asset comes from this server: nothing from a CDN.
        assets = page.evaluate("[...document.querySelectorAll('script[src], link[href]')].map(el => el.src || el.href)")
        assert all(url.startswith(live_server.url) for url in assets), assets
        context.close()


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_lead_page_puts_the_actions_first_on_a_phone(browser, live_server, showcase, shots_dir, width):
    context = browser.new_context(viewport={"width": WIDTHS[width], "height": 900})
    page = context.new_page()
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill("pw-Funnel-2026")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}{showcase['detail'].get_absolute_url()}")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(shots_dir / f"lead-timeline-{width}.png"), full_page=True)

    actions = page.get_by_role("heading", name="Actions").bounding_box()
    timeline = page.locator("#timeline-title").bounding_box()
    contact = page.get_by_role("heading", name="Contact and company").bounding_box()
    if width == "mobile":
        assert actions["y"] < contact["y"] < timeline["y"]
    else:
        assert actions["x"] > contact["x"] and abs(actions["y"] - contact["y"]) < 5
    assert page.locator(".timeline-item").first.inner_text().startswith("Sales activity")
    assert page.locator(".timeline-item", has_text="Left a voicemail").count() == 1
    assert violations == []
    context.close()
