"""The Content-Security-Policy in a real browser: the main pages of every role, the API docs and
the admin run without a single violation (no inline script, no inline style of ours)."""

import pytest
from playwright.sync_api import expect

from leads.models import Stage
from tests.factories import lead_in_stage

pytestmark = pytest.mark.browser

# Recorded by the page itself: Playwright's init scripts are not subject to the page's CSP.
LISTEN = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});"""

PAGES = {
    "rita": [
        "/queue/",
        "/accepted/",
        "/leads/{lead}/",
        "/reports/",
        "/reports/ignore-rate/",
        "/reports/leads/?metric=ignore_rate&bucket=mqls",
        "/accounts/{account}/",
        "/settings/out-of-office/",
    ],
    "mona": ["/team/", "/team/breached/", "/rejected/", "/reports/rejection-reasons/", "/team/routing-fairness/"],
    "mark": ["/marketing/scoring/", "/marketing/what-if/", "/marketing/import/", "/reports/targets/"],
    "ada": ["/admin/", "/admin/leads/lead/", "/admin/auth/user/", "/api/docs/", "/api/redoc/"],
}


# Redoc renders its vendor's logo from the vendor's CDN; the docs load nothing from outside, so the
# policy blocks it on purpose (Redoc then leaves the logo out). That one refusal is expected.
EXPECTED = {"/api/redoc/": ["img-src https://cdn.redoc.ly/redoc/logo-mini.svg :0"]}


@pytest.fixture
def watched(page):
    page.add_init_script(LISTEN)
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    return messages


@pytest.mark.parametrize("username", list(PAGES))
def test_main_pages_show_no_csp_violation(login, live_server, watched, rep, manager, marketer, admin, team, username):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team, name="Watched Lead")
    page = login(username)
    for path in PAGES[username]:
        page.goto(live_server.url + path.format(lead=lead.pk, account=lead.account_id))
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__cspViolations")
        assert violations == EXPECTED.get(path, []), (path, violations)
    refused = [text for text in watched if "Content Security Policy" in text and "cdn.redoc.ly" not in text]
    assert refused == []


def test_answering_in_place_shows_no_csp_violation(login, watched, rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team, name="Answered Lead")
    page = login("rita")
    row = page.locator(f"#lead-{lead.pk}")

    row.get_by_role("button", name="Accept").click()

    expect(page.locator(f"#lead-{lead.pk}")).to_contain_text("Accepted Answered Lead")
    assert page.evaluate("window.__cspViolations") == []
    assert [text for text in watched if "Content Security Policy" in text] == []
