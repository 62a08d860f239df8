"""The marketer's pages in a real browser: edit a rule, replay a threshold, import a CSV file."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import Activity, ActivityKind, ImportJob, Lead, ScoringConfig, ScoringRule, TeamMember
from tests.factories import make_lead

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": 1280, "mobile": 375}
LEADS_CSV = (
    b"Full Name,Work Email,Company,Employees,Notes\n"
    b"Jane Cooper,jane@northwind.example,Northwind,120,met at the fair\n"
    b"Devon Lane,devon@globex.example,Globex,lots,\n"
    b"Priya Natarajan,not-an-address,Initech,15,\n"
    b"Aiko Tanaka,aiko@kaizen.example,Kaizen Robotics,40,\n"
)


@pytest.fixture
def scoring_history(rep):
    """A small matrix and a few weeks of website visits, so the what-if has something to replay."""
    ScoringConfig.objects.update_or_create(defaults={"mql_threshold": 40})
    pricing = ScoringRule.objects.create(
        name="Visited pricing", category="behaviour", activity_kind="website_visit", url_contains="/pricing", points=10
    )
    ScoringRule.objects.create(
        name="CEO", category="demographic", field="job_title", operator="contains", value="CEO", points=30
    )
    ScoringRule.objects.create(
        name="Free-mail address", category="demographic", field="email_domain", operator="free_mail", points=-20
    )
    TeamMember.objects.filter(user=rep).update(mql_capacity=2)
    now = timezone.now()
    for i in range(6):
        lead = make_lead(now=now - timedelta(days=40))
        for visit in range(i + 1):
            Activity.objects.create(
                lead=lead,
                kind=ActivityKind.WEBSITE_VISIT,
                url="https://funnel.example/pricing",
                occurred_at=now - timedelta(days=5 * i + 1, hours=visit),
            )
    return pricing


def test_marketer_edits_a_rule_runs_a_what_if_and_imports_a_csv(
    login, live_server, marketer, scoring_history, shots_dir
):
    page = login("mark")
    page.goto(f"{live_server.url}/marketing/scoring/")
    expect(page.get_by_role("heading", name="Scoring matrix")).to_be_visible()
    row = page.locator(f"#rule-{scoring_history.pk}")
    expect(row).to_contain_text("Website visit with URL containing /pricing")

    # Edit the rule: an invalid value first, then a valid one.
    row.get_by_role("link", name="Edit Visited pricing").click()
    page.get_by_label("Points").fill("0")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#id_points_error")).to_contain_text("worth 0 points")
    # Only the behaviour fields show for a behaviour rule.
    expect(page.get_by_label("Lead field")).to_be_hidden()
    page.get_by_label("Points").fill("15")
    page.get_by_label("Cap (optional)").fill("45")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".message-success")).to_contain_text("Saved your changes to “Visited pricing”")
    expect(page.locator(f"#rule-{scoring_history.pk}")).to_contain_text("+15")
    assert ScoringRule.objects.get(pk=scoring_history.pk).points == 15

    # Turn it off and on in place, then rescore and watch the run finish.
    page.evaluate("window.__funnelMarker = 'no reload'")
    switch = page.get_by_role("switch", name="Visited pricing active")
    switch.click()
    expect(page.get_by_role("switch", name="Visited pricing active")).to_have_attribute("aria-checked", "false")
    page.get_by_role("switch", name="Visited pricing active").click()
    expect(page.get_by_role("switch", name="Visited pricing active")).to_have_attribute("aria-checked", "true")
    expect(page.locator("#rescore")).to_contain_text("Changes not applied yet.")
    page.locator("#rescore").get_by_role("button", name="Rescore all leads").click()
    expect(page.locator("#rescore .run-status .badge")).to_have_text("Done")
    expect(page.locator("#rescore")).to_contain_text("6 of 6")
    page.screenshot(path=str(shots_dir / "marketing-matrix-rescored-desktop.png"), full_page=True)
    assert page.evaluate("window.__funnelMarker") == "no reload"

    # What if the threshold were 30 rather than 40?
    page.goto(f"{live_server.url}/marketing/what-if/")
    page.get_by_label("Candidate threshold").fill("30")
    page.get_by_label("Weeks to replay").fill("6")
    page.get_by_role("button", name="Replay").click()
    expect(page.locator(".compare-candidate")).to_contain_text("30")
    expect(page.locator(".data-table").first).to_contain_text("Total")
    expect(page.locator("#what-if-chart")).to_be_visible()
    expect(page.get_by_role("heading", name="Load per rep")).to_be_visible()
    # Bad input: a field error, nothing replayed.
    page.get_by_label("Weeks to replay").fill("60")
    page.get_by_role("button", name="Replay").click()
    expect(page.locator("#id_weeks_error")).to_contain_text("at most 52 weeks")

    # Import a file: the columns are matched, the progress finishes, the bad rows are listed.
    page.goto(f"{live_server.url}/marketing/import/")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "fair-leads.csv", "mimeType": "text/csv", "buffer": LEADS_CSV}]
    )
    expect(page.get_by_label("Work Email")).to_have_value("email")
    expect(page.get_by_label("Full Name")).to_have_value("name")
    expect(page.get_by_label("Notes")).to_have_value("")
    page.get_by_label("Employees").select_option("company_size")
    page.screenshot(path=str(shots_dir / "marketing-import-mapping-desktop.png"), full_page=True)
    page.get_by_role("button", name="Import leads").click()

    expect(page.get_by_role("heading", name="Import of fair-leads.csv")).to_be_visible()
    status = page.locator("#import-status")
    expect(status.locator(".badge")).to_have_text("Done")
    expect(status.locator("progress")).to_have_attribute("value", "100")
    expect(status).to_contain_text("Created")
    bad_rows = page.locator(".bad-rows tbody tr")
    expect(bad_rows).to_have_count(2)
    expect(bad_rows.nth(0)).to_contain_text("3")
    expect(bad_rows.nth(0)).to_contain_text("company size must be")
    expect(bad_rows.nth(1)).to_contain_text("not a valid e-mail address")
    expect(page.get_by_role("link", name="Download all bad rows (CSV)")).to_be_visible()
    job = ImportJob.objects.get()
    assert (job.created_count, job.failed_count) == (2, 2)
    jane = Lead.objects.get(email="jane@northwind.example")
    assert (jane.company_size, jane.company_size_low, jane.company_size_high) == ("120", 120, 120)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download all bad rows (CSV)").click()
    assert download.value.suggested_filename == f"import-{job.pk}-bad-rows.csv"


def test_import_job_page_polls_until_the_job_finishes(login, live_server, marketer):
    job = ImportJob.objects.create(
        original_name="slow.csv", created_by=marketer, status=ImportJob.Status.RUNNING, total_bytes=100
    )
    page = login("mark")
    page.goto(f"{live_server.url}/marketing/import/{job.pk}/")
    expect(page.locator("#import-status .badge")).to_have_text("Running")
    ImportJob.objects.filter(pk=job.pk).update(processed_bytes=50, rows_seen=5)
    expect(page.locator("#import-status progress")).to_have_attribute("value", "50")
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE, processed_bytes=100, rows_seen=10, created_count=10, finished_at=timezone.now()
    )
    expect(page.locator("#import-status .badge")).to_have_text("Done")
    expect(page.locator("#import-status")).to_contain_text("Every row was imported.")
    expect(page.locator("#live")).to_contain_text("Import done: 10 created, 0 updated, 0 failed.")


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_marketing_pages_fit_the_screen(browser, live_server, marketer, scoring_history, shots_dir, width):
    job = ImportJob.objects.create(
        original_name="fair-leads.csv",
        created_by=marketer,
        status=ImportJob.Status.DONE,
        total_bytes=300,
        processed_bytes=300,
        rows_seen=4,
        created_count=2,
        failed_count=2,
        finished_at=timezone.now(),
    )
    job.row_errors.create(
        line=3, reason="company size must be a whole number of employees up to 10,000,000, not 'lots'", raw=""
    )
    job.row_errors.create(
        line=4,
        reason="'not-an-address' is not a valid e-mail address",
        raw="Priya Natarajan,not-an-address,Initech,15,",
    )
    pages = [
        ("matrix", "/marketing/scoring/"),
        ("rule", f"/marketing/scoring/rules/{scoring_history.pk}/"),
        ("what-if", "/marketing/what-if/?threshold=30&weeks=8"),
        ("import", "/marketing/import/"),
        ("import-job", f"/marketing/import/{job.pk}/"),
    ]
    context = browser.new_context(viewport={"width": WIDTHS[width], "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("mark")
    page.get_by_label("Password").fill("pw-Funnel-2026")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    for name, path in pages:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(shots_dir / f"marketing-{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        # The elements that stick out, named in the failure so it says what to fix.
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(el => el.getBoundingClientRect().right"
            " > document.documentElement.clientWidth + 1).slice(0, 5)"
            ".map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))"
        )
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {WIDTHS[width]}px: {wide}"
        assets = page.evaluate("[...document.querySelectorAll('script[src], link[href]')].map(el => el.src || el.href)")
        assert all(url.startswith(live_server.url) for url in assets), assets
    assert errors == [], f"script errors: {errors}"
    context.close()
