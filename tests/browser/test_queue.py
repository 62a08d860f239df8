"""The rep's queue in a real browser: answer MQLs in place, by mouse and by keyboard."""

import re

import pytest
from playwright.sync_api import expect

from leads import transitions
from leads.models import Lead, Stage

pytestmark = pytest.mark.browser


def stage_of(lead):
    return Lead.objects.get(pk=lead.pk).stage


def test_rep_accepts_and_rejects_in_place_and_history_shows_both(login, live_server, rep, make_mql):
    first = make_mql(rep, "Jane Cooper", minutes_ago=30)
    second = make_mql(rep, "Devon Lane")
    page = login("rita")
    expect(page).to_have_url(f"{live_server.url}/queue/")
    expect(page.locator(".lead-row")).to_have_count(2)
    # A page load would wipe this marker.
    page.evaluate("window.__funnelMarker = 'no reload'")

    page.locator(f"#lead-{first.pk}").get_by_role("button", name="Accept").click()
    expect(page.locator(f"#lead-{first.pk}")).to_contain_text("Accepted Jane Cooper")

    row = page.locator(f"#lead-{second.pk}")
    row.get_by_role("button", name="Reject…").click()
    row.get_by_label("Rejection reason").select_option("personal-email")
    row.get_by_label("Note").fill("Signed up with a gmail address")
    row.get_by_role("button", name="Reject lead").click()
    expect(page.locator(f"#lead-{second.pk}")).to_contain_text("Rejected Devon Lane")
    expect(page.locator("#live")).to_contain_text("Rejected Devon Lane")

    assert page.evaluate("window.__funnelMarker") == "no reload"
    assert (stage_of(first), stage_of(second)) == (Stage.SAL, Stage.REJECTED)
    # The confirmations fade away and the count follows.
    expect(page.locator(".lead-row")).to_have_count(0, timeout=6000)
    expect(page.locator("[data-empty-state]")).to_be_visible()
    expect(page.locator("[data-row-count]")).to_have_text("0")

    page.goto(f"{live_server.url}/leads/{first.pk}/")
    history = page.locator(".timeline")
    expect(history).to_contain_text("Became MQL")
    expect(history.locator(".timeline-accepted")).to_contain_text("by Rita Rep")

    page.goto(f"{live_server.url}/leads/{second.pk}/")
    rejected = page.locator(".timeline .timeline-rejected")
    expect(rejected).to_contain_text("by Rita Rep")
    expect(rejected).to_contain_text("Personal e-mail address")
    expect(rejected).to_contain_text("Signed up with a gmail address")


def test_keyboard_j_then_a_accepts_the_second_lead(login, rep, make_mql):
    first = make_mql(rep, "First", minutes_ago=30)
    second = make_mql(rep, "Second", minutes_ago=20)
    third = make_mql(rep, "Third", minutes_ago=10)
    page = login("rita")
    expect(page.locator(f"#lead-{first.pk}")).to_have_class("lead-row is-selected")
    page.evaluate("window.__funnelMarker = 'no reload'")

    page.keyboard.press("j")
    expect(page.locator(f"#lead-{second.pk}")).to_be_focused()
    page.keyboard.press("a")

    expect(page.locator(f"#lead-{second.pk}")).to_contain_text("Accepted Second")
    # Focus moves on to the next lead, ready for the next answer.
    expect(page.locator(f"#lead-{third.pk}")).to_be_focused()
    assert page.evaluate("window.__funnelMarker") == "no reload"
    assert [stage_of(lead) for lead in (first, second, third)] == [Stage.MQL, Stage.SAL, Stage.MQL]

    page.keyboard.press("k")
    expect(page.locator(f"#lead-{first.pk}")).to_be_focused()


def test_keyboard_reject_cancel_help_and_typing(login, rep, make_mql):
    first = make_mql(rep, "First", minutes_ago=30)
    second = make_mql(rep, "Second")
    page = login("rita")
    panel = page.locator(f"#reject-{first.pk}")
    shortcuts = page.get_by_role("complementary", name="Keyboard shortcuts")
    expect(shortcuts).to_contain_text("j k move")
    expect(shortcuts).to_contain_text("a accept")
    expect(shortcuts).to_contain_text("r reject")

    page.keyboard.press("r")
    expect(panel).to_be_visible()
    expect(page.locator(f"#reason-{first.pk}")).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(page.locator(f"#lead-{first.pk}")).to_be_focused()

    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_be_visible()
    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_be_hidden()

    # Shortcuts are ignored while typing: "a" in the note does not accept the lead.
    page.keyboard.press("r")
    page.locator(f"#reason-{first.pk}").select_option("no-budget")
    page.locator(f"#reject-note-{first.pk}").press_sequentially("jar")
    expect(page.locator(f"#reject-note-{first.pk}")).to_have_value("jar")
    assert stage_of(first) == Stage.MQL

    page.locator(f"#reason-{first.pk}").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#lead-{first.pk}")).to_contain_text("Rejected First")
    expect(page.locator(f"#lead-{second.pk}")).to_be_focused()
    lead = Lead.objects.get(pk=first.pk)
    assert (lead.stage, lead.rejection_reason.code) == (Stage.REJECTED, "no-budget")
    assert lead.events.get(kind="rejected").note == "jar"


def test_rep_pages_through_the_queue_and_answers_the_last_lead_of_a_page(
    login, live_server, rep, make_mql, monkeypatch
):
    monkeypatch.setattr("leads.views.LIST_PAGE_SIZE", 2)
    make_mql(rep, "First", minutes_ago=30)
    make_mql(rep, "Second", minutes_ago=20)
    third = make_mql(rep, "Third", minutes_ago=10)
    page = login("rita")
    expect(page.locator(".lead-row")).to_have_count(2)
    expect(page.locator(".page-lead")).to_contain_text(
        "3 open MQLs waiting for your answer, the ones you can still answer in time first, soonest due: page 1 of 2."
    )

    page.get_by_role("navigation", name="Pages of your queue").get_by_role("link", name="Next page").click()
    expect(page).to_have_url(f"{live_server.url}/queue/?page=2")
    expect(page.locator(".lead-row")).to_have_count(1)
    expect(page.locator(f"#lead-{third.pk}")).to_have_class("lead-row is-selected")
    page.evaluate("window.__funnelMarker = 'no reload'")

    page.keyboard.press("a")
    expect(page.locator(f"#lead-{third.pk}")).to_contain_text("Accepted Third")
    # The count is of the whole queue; with this page answered, a link leads to the leads still waiting.
    expect(page.locator("[data-row-count]")).to_have_text("2")
    expect(page.locator("[data-page-done]")).to_be_visible(timeout=6000)
    expect(page.locator("[data-empty-state]")).to_be_hidden()
    assert page.evaluate("window.__funnelMarker") == "no reload"
    assert stage_of(third) == Stage.SAL

    page.get_by_role("link", name="Show the next leads").click()
    page.wait_for_load_state()  # the page's scripts run: keys typed before would go nowhere
    # Page 2 is gone now: the nearest page shows the two leads left, with no pager.
    expect(page.locator(".lead-row")).to_have_count(2)
    expect(page.locator(".pager")).to_have_count(0)
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(page.locator(".lead-row").first).to_be_focused()


def test_lost_race_shows_an_inline_error_and_keeps_the_row(login, rep, make_mql):
    lead = make_mql(rep, "Contested")
    page = login("rita")
    # Someone else answers first (a manager, another tab).
    transitions.accept_lead(lead, by=None)

    page.locator(f"#lead-{lead.pk}").get_by_role("button", name="Accept").click()

    # The row sent the version it showed, and the lead has changed since.
    error = page.locator(f"#lead-{lead.pk}-error")
    expect(error).to_contain_text("Someone else changed this lead since you loaded it; reload it and try again.")
    expect(error).to_have_attribute("role", "alert")
    expect(page.locator(f"#lead-{lead.pk}")).to_contain_text("Contested")


def test_countdown_ticks_and_overdue_shows_in_red(login, rep, make_mql):
    soon = make_mql(rep, "Soon")
    late = make_mql(rep, "Late", minutes_ago=90)
    page = login("rita")

    countdown = page.locator(f"#lead-{soon.pk} .countdown")
    expect(countdown).to_have_text(re.compile(r"^due in (39|40)m \d\ds$"))
    before = countdown.inner_text()
    expect(countdown).not_to_have_text(before, timeout=3000)

    overdue = page.locator(f"#lead-{late.pk} .countdown")
    expect(overdue).to_contain_text("overdue by 50m")
    color = overdue.evaluate("el => getComputedStyle(el).color")
    assert color == "rgb(180, 35, 24)"
    # Leads still answerable in time first: the overdue lead comes after them.
    expect(page.locator(".lead-row").first).to_contain_text("Soon")
    expect(page.locator(".lead-row").last).to_contain_text("Late")


def test_every_control_on_the_queue_has_a_label(login, rep, make_mql):
    make_mql(rep, "Labelled")
    page = login("rita")
    page.keyboard.press("r")
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
               .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
               .map(el => el.id || el.name)"""
    )
    assert unlabelled == []
