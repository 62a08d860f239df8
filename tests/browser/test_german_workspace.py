"""The queue in a real browser for a German rep in New York: funnel.js counts down in German, shows times
in the rep's zone, and the rows answered in place say what happened in German."""

import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from leads.models import UserProfile

pytestmark = pytest.mark.browser

NEW_YORK = ZoneInfo("America/New_York")


def test_german_rep_in_new_york_answers_the_queue(login, rep, make_mql):
    UserProfile.objects.update_or_create(user=rep, defaults={"language": "de", "time_zone": "America/New_York"})
    soon = make_mql(rep, "Klaus Meier", company="Müller Maschinenbau GmbH")
    late = make_mql(rep, "Sabine Hoffmann", company="Hoffmann Logistik AG", minutes_ago=90)
    page = login("rita")

    expect(page.locator("h1")).to_have_text("Ihr Eingang")
    # The script's own words, from the JavaScript catalogue, ticking every second.
    countdown = page.locator(f"#lead-{soon.pk} .countdown")
    expect(countdown).to_have_text(re.compile(r"^fällig in (39|40) Min\. \d\d Sek\.$"))
    before = countdown.inner_text()
    expect(countdown).not_to_have_text(before, timeout=3000)
    expect(page.locator(f"#lead-{late.pk} .countdown")).to_have_text(
        re.compile(r"^seit 50 Min\. \d\d Sek\. überfällig$")
    )
    # The due time in the rep's zone (New York), not the browser's or the server's.
    due = soon.sla_due_at.astimezone(NEW_YORK).strftime("%H:%M")
    expect(page.locator(f"#lead-{soon.pk} .sla-at [data-local-time]")).to_contain_text(due)

    page.locator(f"#lead-{soon.pk}").get_by_role("button", name="Annehmen").click()

    done = page.locator(f"#lead-{soon.pk}")
    expect(done).to_contain_text("Klaus Meier angenommen: Der Lead steht jetzt in Ihren angenommenen Leads.")
    expect(done.get_by_role("button", name="Rückgängig")).to_be_visible()
