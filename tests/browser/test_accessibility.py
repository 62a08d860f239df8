"""axe-core on every report page as a manager: no violation of impact "serious" or "critical".

axe.min.js is vendored under tests/browser/vendor/axe-core/ (see its README for how it
gets past the CSP)."""

from pathlib import Path

import pytest

from tests.browser.test_reports import REPORT_PAGES

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


def _serious_violations(page):
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + "; ".join(f"{' '.join(node['target'])} ({node['failureSummary']})" for node in violation["nodes"])
        for violation in results["violations"]
        if violation["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("width", [1280, 375])
def test_no_report_page_has_a_serious_accessibility_violation(browser, live_server, report_data, manager, width):
    # bypass_csp: the page's script-src refuses the inline <script> add_script_tag creates.
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True, reduced_motion="reduce")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(manager.username)
    page.get_by_label("Password").fill("pw-Funnel-2026")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    found = {}
    # Every report page, and two with the breakdown table.
    for path in [path for path, _title in REPORT_PAGES] + ["/reports/?by=rep", "/reports/conversion/?by=team"]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_function("typeof Chart !== 'undefined'")
        if violations := _serious_violations(page):
            found[path] = violations
    context.close()
    assert found == {}, "\n".join(f"{path}: {line}" for path, lines in found.items() for line in lines)
