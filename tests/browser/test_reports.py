"""The report pages in a real browser: every page draws its chart, the period form
changes the numbers, a number opens the leads behind it, and the overview reads well
on a desktop and a phone (screenshots in $FUNNEL_SHOTS_DIR, e.g. /tmp/shots)."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

REPORT_PAGES = [
    ("/reports/", "Reports"),
    ("/reports/ignore-rate/", "Ignore rate"),
    ("/reports/conversion/", "MQL → SQL conversion"),
    ("/reports/speed-to-lead/", "Speed to lead"),
    ("/reports/sla-compliance/", "SLA compliance"),
    ("/reports/rejection-reasons/", "Rejection reasons"),
    ("/reports/conversation-rate/", "Conversation rate"),
    ("/reports/mql-target/", "MQL target"),
    ("/reports/waterfall/", "Funnel waterfall"),
    ("/reports/response-time-effect/", "Response-time effect"),
]


def _drawn_charts(page):
    return page.evaluate("[...document.querySelectorAll('canvas[data-chart]')].filter(c => Chart.getChart(c)).length")


def test_every_report_page_draws_its_charts_and_fits_a_phone(browser, live_server, report_data, marketer):
    for width in (1280, 375):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill("mark")
        page.get_by_label("Password").fill("pw-Funnel-2026")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        for path, title in REPORT_PAGES:
            page.goto(f"{live_server.url}{path}")
            expect(page.get_by_role("heading", level=1)).to_have_text(title)
            page.wait_for_function("typeof Chart !== 'undefined'")
            canvases = page.locator("canvas[data-chart]").count()
            # A report with nothing to draw (no conversations in this data) says so instead of a blank chart.
            assert canvases >= 1 or page.locator(".chart-empty").count() >= 1, path
            assert _drawn_charts(page) == canvases, path
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
        assert errors == [], errors
        context.close()


def test_changing_the_period_changes_the_numbers(login, live_server, report_data, marketer):
    page = login("mark")
    page.goto(f"{live_server.url}/reports/ignore-rate/")
    mqls = page.locator(".kpi", has_text="MQLs").filter(has_text="created in the period").locator(".kpi-value")
    assert mqls.inner_text() == "45"

    today = timezone.now().date()
    page.get_by_label("From", exact=True).fill((today - timedelta(days=6)).isoformat())
    page.get_by_label("To", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(rf"from={(today - timedelta(days=6)).isoformat()}"))
    assert int(mqls.inner_text()) < 45

    page.get_by_label("From", exact=True).fill(today.isoformat())
    page.get_by_label("To", exact=True).fill((today - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("alert").first).to_contain_text("The period ends before it starts")


def test_a_number_opens_the_leads_behind_it(login, live_server, report_data, manager):
    page = login("mona")
    page.goto(f"{live_server.url}/reports/ignore-rate/")
    ignored = page.locator(".kpi", has_text="Ignore rate").locator(".kpi-value")
    expect(ignored).to_have_text("15.6%")  # 7 of 45 (41 bulk + 4 rejected)

    ignored.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Ignored MQLs: window expired, never followed up")
    expect(page.locator("[data-row-count]")).to_have_text("7")
    expect(page.locator(".lead-table tbody tr")).to_have_count(7)
    expect(page.locator(".lead-table tbody .badge").first).to_have_text("Ignored (window expired)")

    page.locator(".lead-table tbody th a").first.click()
    expect(page).to_have_url(re.compile(r"/leads/\d+/$"))


def test_marketer_reviews_rejections_by_reason_with_notes(login, live_server, report_data, marketer):
    page = login("mark")
    page.goto(f"{live_server.url}/reports/rejection-reasons/")
    review = page.locator(".rejection-review")
    expect(review.locator(".note-item")).to_have_count(4)

    review.get_by_role("link", name=re.compile(r"^No budget")).click()

    expect(review.locator(".note-item")).to_have_count(2)
    expect(review).to_contain_text("Budget frozen until next fiscal year.")
    expect(review).not_to_contain_text("gmail")


def test_overview_screenshots(browser, live_server, report_data, marketer, shots_dir):
    for suffix, width in (("", 1280), ("-mobile", 375)):
        # Reduced motion: the charts are drawn at once, not mid-animation.
        context = browser.new_context(viewport={"width": width, "height": 900}, reduced_motion="reduce")
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill("mark")
        page.get_by_label("Password").fill("pw-Funnel-2026")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        page.goto(f"{live_server.url}/reports/")
        page.wait_for_function("typeof Chart !== 'undefined' && Chart.getChart(document.querySelector('canvas'))")
        page.screenshot(path=str(shots_dir / f"reports-overview{suffix}.png"), full_page=True)
        context.close()
    assert (shots_dir / "reports-overview.png").exists()
    assert (shots_dir / "reports-overview-mobile.png").exists()


def test_trend_chart_previous_period_and_pacing_card(login, live_server, report_data, marketer):
    page = login("mark")
    page.goto(f"{live_server.url}/reports/mql-target/")
    page.wait_for_function("typeof Chart !== 'undefined'")
    trend = page.locator('canvas[data-chart="mql-target-trend-chart"]')
    expect(trend).to_have_count(1)
    assert page.evaluate(
        "Boolean(Chart.getChart(document.querySelector('canvas[data-chart=\\'mql-target-trend-chart\\']')))"
    )
    expect(page.locator("#table-pacing")).to_be_visible()
    expect(page.locator(".kpi-previous").first).to_contain_text("Previous period:")
    # The wide trend table scrolls with the keyboard: its region takes focus.
    region = page.locator(".table-scroll[tabindex='0']").first
    region.focus()
    assert page.evaluate("document.activeElement.classList.contains('table-scroll')")


def test_a_german_marketer_in_new_york_reads_the_reports_in_german_and_picks_another_zone(
    login, live_server, report_data, marketer, shots_dir
):
    from leads.models import UserProfile

    UserProfile.objects.update_or_create(user=marketer, defaults={"language": "de", "time_zone": "America/New_York"})
    page = login("mark")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/reports/ignore-rate/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ignorierquote")
    # The period is the viewer's: it ends on today in New York, and the select preselects that zone.
    today = timezone.now().astimezone(ZoneInfo("America/New_York")).date()
    expect(page.get_by_label("Bis", exact=True)).to_have_value(today.isoformat())
    page.locator("summary", has_text="Zeitzone").click()
    zone = page.get_by_label("Zeitzone", exact=True)
    expect(zone).to_have_value("America/New_York")
    page.wait_for_function("typeof Chart !== 'undefined' && Chart.getChart(document.querySelector('canvas'))")
    # Chart.js formats its numbers in the page's language.
    assert page.evaluate("Chart.getChart(document.querySelector('canvas')).options.locale") == "de"
    page.screenshot(path=str(shots_dir / "reports-german.png"), full_page=True)
    zone.select_option("Asia/Tokyo")
    page.get_by_role("button", name="Anwenden").click()
    expect(page).to_have_url(re.compile(r"tz=Asia%2FTokyo"))
    expect(page.locator(".report-period")).to_contain_text("Asia/Tokyo")
    assert errors == [], errors
