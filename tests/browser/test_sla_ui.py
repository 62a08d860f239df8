"""The response SLA in a real browser: business-time countdowns, the breached list, the detail panel."""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads import sla, transitions
from leads.models import WEEKDAYS, ActivityKind, BusinessHours, Lead, SLAPolicy, Stage, TeamMember
from tests.factories import lead_in_stage

from .conftest import PASSWORD

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": 1280, "mobile": 375}


def sign_in(browser, live_server, username, **context_args):
    context = browser.new_context(**context_args)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def test_manager_reassigns_a_breached_lead_in_place(login, live_server, manager, rep, other_rep, make_mql):
    late = make_mql(rep, "Late Lead", minutes_ago=90)
    make_mql(rep, "Later Still", minutes_ago=70)
    make_mql(rep, "On Time")
    sla.flag_overdue_leads()
    page = login("mona")

    nav_link = page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile("^Breached"))
    expect(nav_link.locator(".nav-count")).to_have_text("2")
    nav_link.click()
    expect(page).to_have_url(f"{live_server.url}/team/breached/")
    expect(page.locator(".lead-row")).to_have_count(2)
    expect(page.locator(".lead-row").first).to_contain_text("Late Lead")
    expect(page.locator(f"#lead-{late.pk}")).to_contain_text(re.compile(r"breached (49|50|51) min ago"))
    page.evaluate("window.__funnelMarker = 'no reload'")

    row = page.locator(f"#lead-{late.pk}")
    row.get_by_label("Reassign Late Lead to").select_option(label="Oscar Other")
    row.get_by_role("button", name="Reassign").click()

    expect(page.locator(f"#lead-{late.pk}")).to_contain_text("Reassigned Late Lead to Oscar Other.")
    # The clock restarted for the new owner, so the lead leaves the list, and the counts follow.
    expect(page.locator(".lead-row")).to_have_count(1, timeout=6000)
    expect(page.locator("[data-row-count]").first).to_have_text("1")
    expect(nav_link.locator(".nav-count")).to_have_text("1")
    assert page.evaluate("window.__funnelMarker") == "no reload"
    lead = Lead.objects.get(pk=late.pk)
    assert lead.owner == other_rep
    assert lead.sla_breached_at is None
    assert lead.sla_due_at > timezone.now()


def test_business_clock_waits_for_working_hours_then_counts_down(browser, live_server, rep, make_mql):
    # Open only on the day after tomorrow (UTC), all day: the clock is paused now, whatever the hour.
    today = timezone.now().astimezone(UTC).date()
    opening_day = today + timedelta(days=2)
    hours = BusinessHours.objects.create(
        name="Day after tomorrow",
        time_zone="UTC",
        **{day: index == opening_day.weekday() for index, day in enumerate(WEEKDAYS)},
        opens=time(0),
        closes=time(23, 59),
    )
    SLAPolicy.objects.create(name="One business hour", position=10, response_minutes=60, business_hours=hours)
    lead = make_mql(rep, "Weekend Lead")
    opening = datetime.combine(opening_day, time(0), tzinfo=UTC)
    assert Lead.objects.get(pk=lead.pk).sla_due_at == opening + timedelta(hours=1)

    page = sign_in(browser, live_server, "rita", timezone_id="Europe/Berlin")
    page.clock.install(time=timezone.now())
    page.reload()
    countdown = page.locator(f"#lead-{lead.pk} .countdown")
    paused = page.locator(f"#lead-{lead.pk} [data-paused]")

    expect(countdown).to_have_text("due in 1h 00m of business time")
    expect(countdown).to_have_class(re.compile("is-paused"))
    # The viewer reads the restart in their own time zone.
    restart = opening.astimezone(ZoneInfo("Europe/Berlin")).strftime("%a %H:%M")
    expect(paused).to_have_text(f"Paused until {restart}")
    page.clock.run_for(5000)
    expect(countdown).to_have_text("due in 1h 00m of business time")

    # Ten minutes into the working day the clock runs, and keeps running.
    page.clock.fast_forward(int((opening + timedelta(minutes=10) - timezone.now()).total_seconds() * 1000))
    expect(countdown).to_have_text(re.compile(r"^due in (49m|50m) \d\ds of business time$"))
    expect(paused).to_be_hidden()
    before = countdown.inner_text()
    page.clock.run_for(2000)
    expect(countdown).not_to_have_text(before)

    # Past the due time it counts overdue time in red.
    page.clock.fast_forward(60 * 60 * 1000)
    expect(countdown).to_have_text(re.compile(r"^overdue by \d+m \d\ds$"))
    expect(countdown).to_have_class(re.compile("is-overdue"))


def test_business_clock_counts_real_time_once_a_holiday_leaves_no_working_time_before_the_due_time(
    browser, live_server, rep, make_mql
):
    # A zone where it is now between noon and 13:00, open every day 00:00-23:59: thirteen business
    # hours run out at 23:59 today and go on for about an hour after midnight.
    utc_now = timezone.now().astimezone(UTC)
    zone = f"Etc/GMT{utc_now.hour - 12:+d}" if utc_now.hour != 12 else "UTC"
    hours = BusinessHours.objects.create(
        name="Round the day", time_zone=zone, **dict.fromkeys(WEEKDAYS, True), opens=time(0), closes=time(23, 59)
    )
    SLAPolicy.objects.create(name="Thirteen business hours", position=10, response_minutes=780, business_hours=hours)
    lead = make_mql(rep, "Holiday Lead")
    due = Lead.objects.get(pk=lead.pk).sla_due_at
    local_today = utc_now.astimezone(ZoneInfo(zone)).date()
    assert due.astimezone(ZoneInfo(zone)).date() == local_today + timedelta(days=1)
    # After routing, an admin makes tomorrow a holiday: the due time stays where it was.
    hours.holidays.create(date=local_today + timedelta(days=1), name="New holiday")

    page = sign_in(browser, live_server, "rita")
    page.clock.install(time=timezone.now())
    page.reload()
    countdown = page.locator(f"#lead-{lead.pk} .countdown")
    expect(countdown).to_have_text(re.compile(r"^due in 1[01]h \d\dm of business time$"))

    # Past today's closing no business time is left before the due time: the real time to it counts down.
    closing = datetime.combine(local_today, time(23, 59), tzinfo=ZoneInfo(zone))
    page.clock.fast_forward(int((closing + timedelta(minutes=1) - timezone.now()).total_seconds() * 1000))
    expect(countdown).to_have_text(re.compile(r"^due in (1h \d\dm|\d+m \d\ds)$"))
    expect(countdown).not_to_have_class(re.compile("is-paused"))
    expect(page.locator(f"#lead-{lead.pk} [data-paused]")).to_be_hidden()


@pytest.fixture
def sla_showcase(rep, other_rep, manager, team):
    """Leads under three policies, some breached, one answered late, one waiting for a rep."""
    berlin = BusinessHours.objects.create(name="Berlin office", time_zone="Europe/Berlin")
    desk = BusinessHours.objects.create(
        name="Support desk",
        time_zone="UTC",
        saturday=True,
        sunday=True,
        opens=time(0),
        closes=time(23, 59),
    )
    SLAPolicy.objects.create(
        name="Webinar leads", source="webinar", position=10, response_minutes=240, business_hours=berlin
    )
    SLAPolicy.objects.create(
        name="Chat leads", source="chat", position=20, response_minutes=90, business_hours=desk, reassign_on_breach=True
    )
    now = timezone.now()
    people = [
        ("Jane Cooper", "VP Engineering", "Northwind Traders", "webinar", 5, rep),
        ("Devon Lane", "Head of IT", "Globex Corporation", "chat", 30, rep),
        ("Priya Natarajan", "CTO", "Initech", "organic", 150, rep),
        ("Marcus Webb", "COO", "Umbrella Health", "organic", 100, other_rep),
        ("Lena Fischer", "CIO", "Hansa Logistik", "paid-search", 290, rep),
    ]
    leads = {}
    for name, title, company, source, minutes_ago, owner in people:
        leads[name] = lead_in_stage(
            Stage.MQL,
            owner=owner,
            team=team,
            now=now - timedelta(minutes=minutes_ago),
            name=name,
            job_title=title,
            company=company,
            source=source,
        )
    sla.flag_overdue_leads(now=now - timedelta(minutes=20))
    transitions.log_activity(leads["Lena Fischer"], by=rep, kind=ActivityKind.CALL, note="Voicemail")
    TeamMember.objects.filter(team=team, role=TeamMember.Role.REP).update(is_available=False)
    lead_in_stage(Stage.MQL, team=team, name="Grace Hopper", company="US Navy")
    TeamMember.objects.filter(team=team, role=TeamMember.Role.REP).update(is_available=True)
    return leads


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_sla_pages_fit_the_screen(browser, live_server, sla_showcase, shots_dir, width):
    pages = [
        ("rita", "sla-queue", "/queue/"),
        ("mona", "sla-breached", "/team/breached/"),
        ("mona", "sla-team", "/team/"),
        ("mona", "sla-detail", sla_showcase["Priya Natarajan"].get_absolute_url()),
        ("rita", "sla-detail-business", sla_showcase["Jane Cooper"].get_absolute_url()),
    ]
    for username, name, path in pages:
        page = sign_in(browser, live_server, username, viewport={"width": WIDTHS[width], "height": 900})
        errors = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(shots_dir / f"{name}-{width}.png"), full_page=True)

        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {WIDTHS[width]}px"
        assert errors == [], f"script errors on {name}: {errors}"
        page.context.close()
