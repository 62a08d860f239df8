"""German and the user's own time zone in a real browser: a German rep's queue, the same due time
read by a rep in New York and a manager in Berlin (each in local time, whatever the browser's own
zone), and a first sign-in that saves the browser's zone."""

from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from leads.models import UserProfile
from tests.factories import german
from tests.support.german import english_words

pytestmark = pytest.mark.browser
PASSWORD = "pw-Funnel-2026"


def sign_in(browser, live_server, username, **context_options):
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_load_state()
    return page


def test_a_german_rep_triages_the_queue_in_german(browser, live_server, rep, make_mql, shots_dir):
    german(rep)
    lead = make_mql(rep, "Jana Vogel", minutes_ago=10, company="Müller Maschinenbau GmbH")
    page = sign_in(browser, live_server, "rita", locale="de-DE", timezone_id="Europe/Berlin")

    expect(page.locator("html")).to_have_attribute("lang", "de")
    row = page.locator(f"#lead-{lead.pk}")
    expect(row.get_by_role("button", name="Annehmen")).to_be_visible()
    page.wait_for_timeout(1200)  # a countdown tick: funnel.js rewrites the countdown in German
    assert english_words(page.content(), allow=["rita"]) == []
    page.screenshot(path=str(shots_dir / "queue-german.png"), full_page=True)

    row.get_by_role("button", name="Annehmen").click()
    expect(row.get_by_role("button", name="Rückgängig")).to_be_visible()
    assert english_words(row.inner_html()) == []
    row.get_by_role("button", name="Rückgängig").click()
    expect(row.get_by_role("button", name="Annehmen")).to_be_visible()
    page.screenshot(path=str(shots_dir / "queue-german-undone.png"), full_page=True)


def test_new_york_and_berlin_read_the_same_due_time_each_in_local_time(
    browser, live_server, rep, manager, make_mql, shots_dir
):
    UserProfile.objects.create(user=rep, language="en", time_zone="America/New_York")
    german(manager)
    lead = make_mql(rep, "Jana Vogel", minutes_ago=10)
    due = lead.sla_due_at
    iso = due.astimezone(UTC).replace(microsecond=0).isoformat()
    # Both browsers think they are in Tokyo: what counts is the zone in each profile.
    new_york = sign_in(browser, live_server, "rita", locale="en-US", timezone_id="Asia/Tokyo")
    berlin = sign_in(browser, live_server, "mona", locale="de-DE", timezone_id="Asia/Tokyo")
    berlin.goto(f"{live_server.url}/leads/{lead.pk}/")

    for page, zone in ((new_york, "America/New_York"), (berlin, "Europe/Berlin")):
        expect(page.locator("html")).to_have_attribute("data-time-zone", zone)
        local = due.astimezone(ZoneInfo(zone)).strftime("%H:%M")
        tokyo = due.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M")
        shown = page.locator(f'[data-local-time="{iso}"]').first
        expect(shown).to_contain_text(local)
        assert tokyo not in shown.inner_text()
    new_york.screenshot(path=str(shots_dir / "due-new-york.png"), full_page=True)
    berlin.screenshot(path=str(shots_dir / "due-berlin.png"), full_page=True)


def test_the_first_sign_in_saves_the_browsers_time_zone(browser, live_server, rep):
    page = sign_in(browser, live_server, "rita", locale="en-US", timezone_id="America/New_York")

    expect(page.locator("html")).to_have_attribute("data-time-zone", "America/New_York")
    assert UserProfile.objects.get(user=rep).time_zone == "America/New_York"
