"""The browser UI: pages per role, scoping, htmx actions in place and their plain-POST fallbacks."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leads import history, sla, transitions
from leads.models import (
    Activity,
    ActivityKind,
    BusinessHours,
    EventKind,
    Holiday,
    Lead,
    LeadEvent,
    SLAPolicy,
    Stage,
    TeamMember,
)
from tests.factories import lead_in_stage, make_lead, make_team, make_user

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def as_user(client, db):
    def login(user):
        client.force_login(user)
        return client

    return login


def mql_for(owner, team, *, minutes_ago=0, **fields):
    """An MQL owned by ``owner`` whose SLA window closes ``60 - minutes_ago - 20`` minutes from now."""
    return lead_in_stage(
        Stage.MQL, owner=owner, team=team, now=timezone.now() - timedelta(minutes=minutes_ago), **fields
    )


def unassigned_mql(team, **fields):
    TeamMember.objects.filter(team=team, role=TeamMember.Role.REP).update(is_available=False)
    lead = lead_in_stage(Stage.MQL, team=team, **fields)
    TeamMember.objects.filter(team=team, role=TeamMember.Role.REP).update(is_available=True)
    assert lead.owner is None
    return lead


def fresh(lead):
    return Lead.objects.get(pk=lead.pk)


@pytest.fixture
def pages_of_two(monkeypatch):
    """Two rows per list page, so a handful of leads spans several pages."""
    monkeypatch.setattr("leads.views.LIST_PAGE_SIZE", 2)


def names_in_order(html, names):
    """The ``names`` found in ``html``, in the order the page shows them."""
    return sorted((name for name in names if name in html), key=html.index)


# ---------- home, login and the role x page matrix ----------


@pytest.mark.parametrize(
    ("persona", "page"),
    [
        ("rep", "leads:queue"),
        ("manager", "leads:team"),
        ("marketer", "leads:rejected"),
        ("admin", "leads:team"),
    ],
)
def test_home_takes_each_role_to_its_start_page(request, as_user, persona, page):
    response = as_user(request.getfixturevalue(persona)).get("/")
    assert response.status_code == 302
    assert response.url == reverse(page)


def test_home_sends_anonymous_visitors_to_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_user_without_a_role_is_told_so(as_user, db):
    response = as_user(make_user("nobody")).get("/")
    assert response.status_code == 403
    assert b"You have no role yet" in response.content


def test_login_page_renders_a_labelled_form(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">' in html
    assert '<label for="id_password">' in html
    assert 'name="next" value="/"' in html


def test_login_leads_a_rep_to_the_queue(client, rep):
    response = client.post(
        reverse("login"), {"username": "rita", "password": "pw-Funnel-2026", "next": "/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("leads:queue")
    assert b"Your queue" in response.content


def test_wrong_password_shows_an_error(client, rep):
    response = client.post(reverse("login"), {"username": "rita", "password": "wrong"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content


def test_logout_is_a_post_and_ends_the_session(as_user, rep):
    client = as_user(rep)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("leads:queue")).status_code == 302


PAGE_MATRIX = {
    # page: personas who may open it
    "leads:queue": {"rep"},
    "leads:accepted": {"rep"},
    "leads:team": {"manager", "admin"},
    "leads:breached": {"manager", "admin"},
    "leads:rejected": {"manager", "marketer", "admin"},
    "reports:index": {"rep", "manager", "marketer", "admin"},
}


@pytest.mark.parametrize("page", sorted(PAGE_MATRIX))
@pytest.mark.parametrize("persona", ["rep", "manager", "marketer", "admin"])
def test_role_page_matrix(request, as_user, persona, page):
    response = as_user(request.getfixturevalue(persona)).get(reverse(page))
    assert response.status_code == (200 if persona in PAGE_MATRIX[page] else 403)


@pytest.mark.parametrize("page", sorted(PAGE_MATRIX))
def test_pages_send_anonymous_visitors_to_login(client, db, page):
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("persona", "shown", "hidden"),
    [
        ("rep", ["Queue", "Accepted", "Reports"], ["Team", "Breached", "Rejected", "Admin"]),
        ("manager", ["Team", "Breached", "Rejected", "Reports"], ["Queue", "Accepted", "Admin"]),
        ("marketer", ["Rejected", "Reports"], ["Queue", "Accepted", "Team", "Breached", "Admin"]),
        ("admin", ["Team", "Breached", "Rejected", "Reports", "Admin"], ["Queue", "Accepted"]),
    ],
)
def test_navigation_shows_only_what_the_role_may_use(request, as_user, persona, shown, hidden):
    html = as_user(request.getfixturevalue(persona)).get(reverse("reports:index")).content.decode()
    nav = html[html.index('<nav class="mainnav"') : html.index("</nav>")]
    for label in shown:
        assert f">{label}</a>" in nav
    for label in hidden:
        assert f">{label}</a>" not in nav


# ---------- the rep's queue ----------


def test_queue_lists_own_open_mqls_soonest_due_first(as_user, rep, other_rep, team):
    mql_for(rep, team, minutes_ago=0, name="Later Lead")
    mql_for(rep, team, minutes_ago=30, name="Sooner Lead")
    mql_for(other_rep, team, name="Oscars Lead")
    lead_in_stage(Stage.SAL, owner=rep, team=team, name="Accepted Lead")

    html = as_user(rep).get(reverse("leads:queue")).content.decode()

    assert html.index("Sooner Lead") < html.index("Later Lead")
    assert "Oscars Lead" not in html
    assert "Accepted Lead" not in html


def test_queue_row_carries_countdown_actions_and_shortcuts(as_user, rep, team):
    lead = mql_for(rep, team, minutes_ago=0, source="webinar", campaign="Q4 Cloud", job_title="CTO")
    # Scoring recomputes the score on creation; the queue shows whatever the lead holds.
    Lead.objects.filter(pk=lead.pk).update(score=77)
    html = as_user(rep).get(reverse("leads:queue")).content.decode()

    assert f'data-due="{fresh(lead).sla_due_at.replace(microsecond=0).isoformat()}"' in html
    assert "due in 39m" in html or "due in 40m" in html
    for text in ("webinar", "Q4 Cloud", "CTO", ">77<"):
        assert text in html
    assert f'hx-post="{reverse("leads:accept", args=[lead.pk])}"' in html
    assert f'hx-post="{reverse("leads:reject", args=[lead.pk])}"' in html
    assert 'hx-headers=\'{"X-CSRFToken"' in html
    assert 'aria-live="polite"' in html
    # Reasons picker offers the active reason codes; shortcuts are listed on the page.
    assert '<option value="no-budget">No budget</option>' in html
    assert "<kbd>j</kbd>" in html and "<kbd>a</kbd> accept" in html and "<kbd>r</kbd> reject" in html


def test_overdue_mql_shows_overdue_in_red(as_user, rep, team):
    mql_for(rep, team, minutes_ago=90)
    html = as_user(rep).get(reverse("leads:queue")).content.decode()
    assert "countdown is-overdue" in html
    assert "overdue by 50m" in html or "overdue by 49m" in html


@pytest.mark.parametrize("count", [1, 4])
def test_queue_query_count_does_not_grow_with_leads(as_user, rep, team, pages_of_two, django_assert_num_queries, count):
    # Four leads are two full pages: the count stays the same however many pages there are.
    for _ in range(count):
        mql_for(rep, team)
    client = as_user(rep)
    # session, user (with the profile: language, zone), the user's role groups, the open MQLs' count, the page's
    # ids (sla.Queue: its ranges in one statement), the page's leads, the page's top scoring reasons, the active
    # rejection reasons, the history's newest id (the live cursor)
    with django_assert_num_queries(9):
        response = client.get(reverse("leads:queue"))
    assert response.content.decode().count('class="lead-row"') == min(count, 2)


QUEUE_LEADS = ("First Lead", "Second Lead", "Third Lead", "Fourth Lead", "Fifth Lead")


@pytest.fixture
def five_queued(rep, team):
    """Five open MQLs of the rep, all still answerable in time, due in the order of their names."""
    for minutes_ago, name in zip((35, 30, 25, 20, 10), QUEUE_LEADS, strict=True):
        mql_for(rep, team, minutes_ago=minutes_ago, name=name)


def test_queue_page_two_goes_on_where_page_one_ended(as_user, rep, five_queued, pages_of_two):
    client = as_user(rep)
    first = client.get(reverse("leads:queue")).content.decode()
    second = client.get(reverse("leads:queue"), {"page": 2}).content.decode()

    assert names_in_order(first, QUEUE_LEADS) == ["First Lead", "Second Lead"]
    assert names_in_order(second, QUEUE_LEADS) == ["Third Lead", "Fourth Lead"]
    # The header counts the whole queue, not the page.
    assert (
        "data-row-count>5</span> open MQLs waiting for your answer, the ones you can still answer in time first, soonest due: page 2 of 3."
        in second
    )
    assert '<nav class="pager" aria-label="Pages of your queue">' in second
    assert 'href="?page=1" rel="prev"' in second and 'href="?page=3" rel="next"' in second


def test_queue_that_fits_one_page_has_no_pager(as_user, rep, five_queued):
    html = as_user(rep).get(reverse("leads:queue")).content.decode()
    assert names_in_order(html, QUEUE_LEADS) == list(QUEUE_LEADS)
    assert 'class="pager"' not in html and "page 1 of" not in html


@pytest.mark.parametrize(("asked", "shown"), [("99", ["Fifth Lead"]), ("oops", ["First Lead", "Second Lead"])])
def test_queue_page_out_of_range_shows_the_nearest_page(as_user, rep, five_queued, pages_of_two, asked, shown):
    response = as_user(rep).get(reverse("leads:queue"), {"page": asked})
    assert response.status_code == 200
    assert names_in_order(response.content.decode(), QUEUE_LEADS) == shown


def test_answering_the_last_lead_of_the_last_page_keeps_its_link_working(as_user, rep, five_queued, pages_of_two):
    # The last lead of the last page answered: asking for that page again shows the page before.
    client = as_user(rep)
    last = Lead.objects.get(name="Fifth Lead")
    client.post(reverse("leads:accept", args=[last.pk]), **HTMX)
    html = client.get(reverse("leads:queue"), {"page": 3}).content.decode()
    assert names_in_order(html, QUEUE_LEADS) == ["Third Lead", "Fourth Lead"]
    assert "page 2 of 2." in html


# ---------- accept and reject in place ----------


def test_htmx_accept_returns_the_confirmation_row(as_user, rep, team):
    lead = mql_for(rep, team, name="Jane Cooper")
    response = as_user(rep).post(reverse("leads:accept", args=[lead.pk]), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<li class="lead-row is-done" id="lead-{lead.pk}"')
    assert "Accepted Jane Cooper" in html
    assert fresh(lead).stage == Stage.SAL


def test_htmx_reject_with_reason_and_note_returns_the_confirmation_row(as_user, rep, team):
    lead = mql_for(rep, team, name="Devon Lane")
    response = as_user(rep).post(
        reverse("leads:reject", args=[lead.pk]), {"reason": "personal-email", "note": "gmail address"}, **HTMX
    )

    assert response.status_code == 200
    assert "Rejected Devon Lane" in response.content.decode()
    lead = fresh(lead)
    assert lead.stage == Stage.REJECTED
    assert lead.rejection_reason.code == "personal-email"
    event = lead.events.get(kind=EventKind.REJECTED)
    assert (event.actor, event.note) == (rep, "gmail address")


def test_htmx_reject_without_reason_is_an_inline_error_and_changes_nothing(as_user, rep, team):
    lead = mql_for(rep, team)
    events = lead.events.count()
    response = as_user(rep).post(reverse("leads:reject", args=[lead.pk]), {"note": "no reason given"}, **HTMX)

    assert response.status_code == 400
    assert response["HX-Retarget"] == f"#lead-{lead.pk}-error"
    assert response["HX-Reswap"] == "innerHTML"
    assert "A rejection reason is required." in response.content.decode()
    assert fresh(lead).stage == Stage.MQL
    assert lead.events.count() == events


def test_htmx_reject_with_unknown_reason_is_refused(as_user, rep, team):
    lead = mql_for(rep, team)
    response = as_user(rep).post(reverse("leads:reject", args=[lead.pk]), {"reason": "bogus"}, **HTMX)
    assert response.status_code == 400
    assert "Choose one of the listed rejection reasons." in response.content.decode()
    assert fresh(lead).stage == Stage.MQL


def test_plain_reject_without_reason_redirects_back_with_the_error(as_user, rep, team):
    lead = mql_for(rep, team)
    client = as_user(rep)
    response = client.post(reverse("leads:reject", args=[lead.pk]), {"next": reverse("leads:queue")}, follow=True)

    assert response.redirect_chain == [(reverse("leads:queue"), 302)]
    assert "A rejection reason is required." in response.content.decode()
    assert fresh(lead).stage == Stage.MQL


def test_refused_transition_is_a_409_inline_error_and_changes_nothing(as_user, rep, team):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team)
    version = fresh(lead).version
    response = as_user(rep).post(reverse("leads:accept", args=[lead.pk]), **HTMX)

    assert response.status_code == 409
    assert "Cannot accept a lead in stage SAL (accepted)" in response.content.decode()
    lead = fresh(lead)
    assert (lead.stage, lead.version) == (Stage.SAL, version)


def test_refused_transition_by_plain_post_shows_a_message(as_user, rep, team):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team)
    response = as_user(rep).post(reverse("leads:accept", args=[lead.pk]), follow=True)

    assert response.redirect_chain == [(lead.get_absolute_url(), 302)]
    assert "Cannot accept a lead in stage SAL" in response.content.decode()
    assert fresh(lead).stage == Stage.SAL


def test_visible_but_not_yours_to_act_on_is_a_403_inline_error(as_user, marketer, rep, team):
    lead = mql_for(rep, team)
    response = as_user(marketer).post(reverse("leads:accept", args=[lead.pk]), **HTMX)
    assert response.status_code == 403
    assert "You may not accept this lead." in response.content.decode()
    assert fresh(lead).stage == Stage.MQL


def test_plain_accept_goes_back_to_the_queue_with_a_message(as_user, rep, team):
    lead = mql_for(rep, team, name="Priya")
    response = as_user(rep).post(reverse("leads:accept", args=[lead.pk]), {"next": reverse("leads:queue")}, follow=True)
    assert response.redirect_chain == [(reverse("leads:queue"), 302)]
    assert "Accepted Priya" in response.content.decode()


def test_redirect_back_ignores_foreign_next_urls(as_user, rep, team):
    lead = mql_for(rep, team)
    response = as_user(rep).post(reverse("leads:accept", args=[lead.pk]), {"next": "https://evil.example/"})
    assert response.url == lead.get_absolute_url()


def test_action_urls_refuse_get(as_user, rep, team):
    lead = mql_for(rep, team)
    assert as_user(rep).get(reverse("leads:accept", args=[lead.pk])).status_code == 405
    assert fresh(lead).stage == Stage.MQL


def test_anonymous_post_goes_to_login_and_changes_nothing(client, rep, team):
    lead = mql_for(rep, team)
    response = client.post(reverse("leads:accept", args=[lead.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert fresh(lead).stage == Stage.MQL


def test_posts_need_the_csrf_token(rep, team):
    lead = mql_for(rep, team)
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    assert client.post(reverse("leads:accept", args=[lead.pk]), **HTMX).status_code == 403
    assert fresh(lead).stage == Stage.MQL

    client.get(reverse("leads:queue"))
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("leads:accept", args=[lead.pk]), HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code == 200
    assert fresh(lead).stage == Stage.SAL


# ---------- scoping: another rep's lead is a 404 ----------


def test_rep_gets_404_for_other_reps_lead_detail(as_user, rep, other_rep, team):
    lead = mql_for(other_rep, team)
    response = as_user(rep).get(reverse("leads:detail", args=[lead.pk]))
    assert response.status_code == 404
    assert b"Nothing here" in response.content


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("accept", {}),
        ("reject", {"reason": "no-budget"}),
        ("qualify", {}),
        ("disqualify", {"reason": "no-budget"}),
        ("log_activity", {"kind": "call"}),
        ("reassign", {}),
        ("recycle", {}),
        ("promote", {}),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_rep_gets_404_acting_on_other_reps_lead(as_user, rep, other_rep, team, action, data, htmx):
    lead = mql_for(other_rep, team)
    before = fresh(lead)
    events = LeadEvent.objects.filter(lead=lead).count()
    response = as_user(rep).post(reverse(f"leads:{action}", args=[lead.pk]), data, **(HTMX if htmx else {}))

    assert response.status_code == 404
    after = fresh(lead)
    assert (after.stage, after.owner_id, after.version) == (before.stage, before.owner_id, before.version)
    assert LeadEvent.objects.filter(lead=lead).count() == events


def test_unknown_lead_is_404(as_user, rep):
    assert as_user(rep).get(reverse("leads:detail", args=[999999])).status_code == 404


# ---------- accepted leads: qualify, disqualify, log activity ----------


def test_accepted_lists_own_sals_with_their_last_activity(as_user, rep, other_rep, team):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team, name="Worked Lead")
    lead_in_stage(Stage.SAL, owner=other_rep, team=team, name="Oscars SAL")
    lead_in_stage(Stage.SQL, owner=rep, team=team, name="Qualified Lead")
    transitions.log_activity(lead, by=rep, kind=ActivityKind.CALL, now=timezone.now() - timedelta(minutes=3))

    html = as_user(rep).get(reverse("leads:accepted")).content.decode()
    assert "Worked Lead" in html
    assert "3\xa0minutes ago" in html
    assert "Oscars SAL" not in html and "Qualified Lead" not in html
    for action in ("qualify", "disqualify", "log_activity"):
        assert f'hx-post="{reverse(f"leads:{action}", args=[lead.pk])}"' in html


@pytest.mark.parametrize("count", [1, 4])
def test_accepted_query_count_does_not_grow_with_leads(
    as_user, rep, team, pages_of_two, django_assert_num_queries, count
):
    for _ in range(count):
        lead_in_stage(Stage.SAL, owner=rep, team=team)
    client = as_user(rep)
    # session, user (with the profile), the user's role groups, the SALs' count, the page of SALs with their
    # last activity (one aggregate), the active reasons
    with django_assert_num_queries(6):
        response = client.get(reverse("leads:accepted"))
    assert response.content.decode().count('class="lead-row"') == min(count, 2)


def test_accepted_pages_newest_first(as_user, rep, team, pages_of_two):
    names = ("Newest SAL", "Middle SAL", "Oldest SAL")
    for hours_ago, name in zip((1, 2, 3), names, strict=True):
        lead_in_stage(Stage.SAL, owner=rep, team=team, name=name, now=timezone.now() - timedelta(hours=hours_ago))
    client = as_user(rep)
    first = client.get(reverse("leads:accepted")).content.decode()
    second = client.get(reverse("leads:accepted"), {"page": 2}).content.decode()

    assert names_in_order(first, names) == ["Newest SAL", "Middle SAL"]
    assert names_in_order(second, names) == ["Oldest SAL"]
    assert "data-row-count>3</span> leads you accepted and are working, newest first: page 2 of 2." in second


def test_htmx_qualify_returns_the_confirmation_row(as_user, rep, team):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team, name="Aiko")
    response = as_user(rep).post(reverse("leads:qualify", args=[lead.pk]), **HTMX)
    assert response.status_code == 200
    assert "Qualified Aiko to SQL." in response.content.decode()
    assert fresh(lead).stage == Stage.SQL


def test_htmx_disqualify_needs_a_reason(as_user, rep, team):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team)
    client = as_user(rep)
    response = client.post(reverse("leads:disqualify", args=[lead.pk]), {"reason": ""}, **HTMX)
    assert response.status_code == 400
    assert fresh(lead).stage == Stage.SAL

    response = client.post(reverse("leads:disqualify", args=[lead.pk]), {"reason": "not-decision-maker"}, **HTMX)
    assert response.status_code == 200
    lead = fresh(lead)
    assert (lead.stage, lead.rejection_reason.code) == (Stage.REJECTED, "not-decision-maker")


def test_htmx_log_activity_rerenders_the_row_with_the_activity(as_user, rep, team):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team, name="Emma")
    response = as_user(rep).post(
        reverse("leads:log_activity", args=[lead.pk]), {"kind": "meeting", "note": "Demo booked"}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<li class="lead-row" id="lead-{lead.pk}"')
    assert "Logged the meeting on Emma." in html
    assert "(1)" in html
    assert lead.activities.get().note == "Demo booked"


def test_log_activity_refuses_marketing_kinds(as_user, rep, team):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team)
    response = as_user(rep).post(reverse("leads:log_activity", args=[lead.pk]), {"kind": "webinar"}, **HTMX)
    assert response.status_code == 400
    assert not lead.activities.exists()


# ---------- lead detail ----------


def test_detail_shows_the_whole_history_newest_first(as_user, rep, team):
    lead = lead_in_stage(Stage.REJECTED, owner=rep, team=team, name="History Lead", reason_code="competitor")
    lead = transitions.recycle_lead(lead, by=None, note="nurture again")
    html = as_user(rep).get(reverse("leads:detail", args=[lead.pk]))
    # A recycled lead has no owner, so its former rep no longer sees it.
    assert html.status_code == 404

    manager = make_user("mo", role="manager", team=team, team_role=TeamMember.Role.MANAGER)
    html = as_user(manager).get(reverse("leads:detail", args=[lead.pk])).content.decode()
    html = html[html.index('<ol class="timeline">') :]
    positions = [html.index(label) for label in ("Recycled to nurture", "Rejected", "Became MQL", "Created")]
    assert positions == sorted(positions)
    assert "by System" in html
    assert "Competitor" in html
    assert "nurture again" in html


def visits(lead, count, *, start=None):
    """``count`` website visits of ``lead``, one a minute from ``start``, the newest with the highest number."""
    start = start or timezone.now() - timedelta(hours=1)
    Activity.objects.bulk_create(
        Activity(lead=lead, kind=ActivityKind.WEBSITE_VISIT, url=f"/page-{n}", occurred_at=start + timedelta(minutes=n))
        for n in range(1, count + 1)
    )


def score_change(lead, *, at, before, after):
    return history.record(
        lead, EventKind.SCORE_CHANGED, by=None, now=at, payload={"from": before, "to": after, "cause": "activity"}
    )


def timeline_of(html):
    timeline = html[html.index('<ol class="timeline">') :]
    return timeline[: timeline.index("</ol>")]


def test_detail_is_one_timeline_newest_first_with_score_points(as_user, rep, team):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team)
    accepted = lead.events.get(kind=EventKind.ACCEPTED).at
    visits(lead, 2, start=accepted)
    score_change(lead, at=accepted + timedelta(minutes=1, seconds=30), before=40, after=55)
    score_change(lead, at=accepted + timedelta(minutes=3), before=55, after=50)

    timeline = timeline_of(as_user(rep).get(reverse("leads:detail", args=[lead.pk])).content.decode())

    order = ["-5 points", "/page-2", "+15 points", "/page-1", "Accepted"]
    assert names_in_order(timeline, order) == order
    assert '55 <span aria-hidden="true">→</span><span class="visually-hidden">to</span> 50' in timeline
    assert timeline.index("Became MQL") > timeline.index("Accepted")


def test_detail_timeline_shows_a_logged_sales_activity_once(as_user, rep, team):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team)
    transitions.log_activity(lead, by=rep, kind=ActivityKind.CALL, note="Left a voicemail")
    visits(lead, 1)

    timeline = timeline_of(as_user(rep).get(reverse("leads:detail", args=[lead.pk])).content.decode())

    assert timeline.count("Left a voicemail") == 1
    assert "Sales activity" in timeline and "/page-1" in timeline


def test_detail_timeline_pages_by_keyset_across_history_and_activities(as_user, rep, team, pages_of_two):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team)
    accepted = lead.events.get(kind=EventKind.ACCEPTED).at
    visits(lead, 3, start=accepted)
    # At the very instant of a visit: history sorts before the activity.
    score_change(lead, at=accepted + timedelta(minutes=2), before=40, after=47)
    client = as_user(rep)
    url = reverse("leads:detail", args=[lead.pk])

    shown, pages = [], 0
    while url and pages < 10:
        html = client.get(url).content.decode()
        timeline = timeline_of(html)
        shown += names_in_order(timeline, ["/page-3", "+7 points", "/page-2", "/page-1", "Accepted", "Became MQL"])
        pages += 1
        found = html.split('rel="next"')[0].rsplit('href="', 1)[-1] if 'rel="next"' in html else ""
        url = reverse("leads:detail", args=[lead.pk]) + found.split('"')[0].replace("&amp;", "&") if found else ""
    assert shown[:6] == ["/page-3", "+7 points", "/page-2", "/page-1", "Accepted", "Became MQL"]
    assert len(shown) == len(set(shown))
    assert pages >= 4


def test_detail_timeline_ignores_a_bad_cursor(as_user, rep, team):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team)
    for cursor in ("junk", "2026-13-01T00:00:00~e1", "2026-01-01T00:00:00~e1", "2026-01-01T00:00:00+00:00~x1"):
        html = as_user(rep).get(reverse("leads:detail", args=[lead.pk]), {"before": cursor}).content.decode()
        assert "Accepted" in timeline_of(html)


@pytest.mark.parametrize("count", [1, 4])
def test_detail_query_count_does_not_grow_with_activities(
    as_user, rep, team, pages_of_two, django_assert_num_queries, count
):
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team)
    visits(lead, count)
    score_change(lead, at=timezone.now(), before=40, after=47)
    client = as_user(rep)
    url = reverse("leads:detail", args=[lead.pk])
    client.get(url)
    # session, user (with the profile), roles, the lead, its team's reps (reassign choices), the timeline (a page
    # of the history, a page of the activities), the score's rule shares, the threshold, rejection reasons
    with django_assert_num_queries(10):
        assert client.get(url).status_code == 200
    for later in range(3):
        score_change(lead, at=timezone.now() + timedelta(minutes=later), before=47, after=48)
    # The newest page (two rows) holds score changes only: one query more finds the latest action for Undo.
    with django_assert_num_queries(11):
        assert client.get(url).status_code == 200


def test_detail_shows_fields_milestones_and_actions_for_the_owner(as_user, rep, team):
    lead = mql_for(rep, team, name="Detail Lead", company="Initech", job_title="CTO", phone="+1 555 0100")
    html = as_user(rep).get(reverse("leads:detail", args=[lead.pk])).content.decode()
    for text in ("Detail Lead", "Initech", "CTO", "+1 555 0100", "badge-stage-mql", "Rita Rep", "North"):
        assert text in html
    assert "Became MQL" in html
    assert f'action="{reverse("leads:accept", args=[lead.pk])}"' in html
    assert f'action="{reverse("leads:reject", args=[lead.pk])}"' in html
    assert f'action="{reverse("leads:reassign", args=[lead.pk])}"' not in html
    assert f'action="{reverse("leads:recycle", args=[lead.pk])}"' not in html


def test_detail_shows_a_marketer_only_what_marketing_may_do(as_user, marketer, rep, team):
    mql = mql_for(rep, team)
    rejected = lead_in_stage(Stage.REJECTED, owner=rep, team=team)
    fresh_lead = make_lead(team=team)
    client = as_user(marketer)

    html = client.get(reverse("leads:detail", args=[mql.pk])).content.decode()
    assert f'action="{reverse("leads:accept", args=[mql.pk])}"' not in html
    assert f'action="{reverse("leads:reject", args=[mql.pk])}"' not in html
    # Marketing may record that the person unsubscribed, whatever the stage.
    assert f'action="{reverse("leads:opt_out", args=[mql.pk])}"' in html
    html = client.get(reverse("leads:detail", args=[rejected.pk])).content.decode()
    assert f'action="{reverse("leads:recycle", args=[rejected.pk])}"' in html
    html = client.get(reverse("leads:detail", args=[fresh_lead.pk])).content.decode()
    assert f'action="{reverse("leads:promote", args=[fresh_lead.pk])}"' in html


def test_marketer_promotes_a_lead_from_its_detail_page(as_user, marketer, rep, team):
    lead = make_lead(team=team, name="Hot Lead")
    response = as_user(marketer).post(
        reverse("leads:promote", args=[lead.pk]), {"next": lead.get_absolute_url(), "note": "hand-picked"}, follow=True
    )
    assert "Promoted Hot Lead to MQL." in response.content.decode()
    lead = fresh(lead)
    assert lead.stage == Stage.MQL
    assert lead.events.get(kind=EventKind.PROMOTED).actor == marketer


def test_rep_cannot_recycle(as_user, rep, team):
    lead = lead_in_stage(Stage.REJECTED, owner=rep, team=team)
    response = as_user(rep).post(reverse("leads:recycle", args=[lead.pk]), **HTMX)
    assert response.status_code == 403
    assert fresh(lead).stage == Stage.REJECTED


# ---------- the manager's team queue ----------


def test_team_queue_shows_team_mqls_unassigned_first_and_sals(as_user, manager, rep, other_rep, team):
    mql_for(rep, team, name="Ritas MQL")
    unassigned_mql(team, name="Nobodys MQL")
    lead_in_stage(Stage.SAL, owner=other_rep, team=team, name="Oscars SAL")
    elsewhere = make_team("South")
    south_rep = make_user("sam", role="rep", team=elsewhere)
    mql_for(south_rep, elsewhere, name="Southern MQL")

    html = as_user(manager).get(reverse("leads:team")).content.decode()

    assert html.index("Nobodys MQL") < html.index("Ritas MQL") < html.index("Oscars SAL")
    assert "Unassigned" in html
    assert "1 MQL waits for a rep." in html
    assert "No SLA clock until a rep is assigned" in html
    assert "Southern MQL" not in html
    # The reassign select offers the team's reps.
    assert "Rita Rep" in html and "Oscar Other" in html and "sam" not in html


@pytest.mark.parametrize("count", [1, 4])
def test_team_query_count_does_not_grow_with_leads(
    as_user, manager, rep, team, pages_of_two, django_assert_num_queries, count
):
    for _ in range(count):
        mql_for(rep, team)
        lead_in_stage(Stage.SAL, owner=rep, team=team)
    client = as_user(manager)
    # session, user, the user's role groups, the teams they manage, the open MQLs' count, the page of open MQLs
    # (with owner and team), the SALs' count, the page of SALs (with owner and team), the reps of those teams
    # for the reassign selects, the unassigned MQLs' count, the breached MQLs' count
    with django_assert_num_queries(11):
        response = client.get(reverse("leads:team"))
    assert response.content.decode().count('class="lead-row"') == 2 * min(count, 2)


@pytest.fixture
def busy_team(rep, other_rep, team):
    """Six open MQLs (two unassigned, two breached, two in time) and three SALs, oldest accepted last."""
    unassigned_mql(team, name="Waiting One")
    unassigned_mql(team, name="Waiting Two")
    mql_for(rep, team, minutes_ago=120, name="Breached One")
    mql_for(other_rep, team, minutes_ago=100, name="Breached Two")
    mql_for(rep, team, minutes_ago=20, name="In Time One")
    mql_for(other_rep, team, minutes_ago=10, name="In Time Two")
    for hours_ago, name in ((1, "Newest SAL"), (2, "Middle SAL"), (3, "Oldest SAL")):
        lead_in_stage(Stage.SAL, owner=rep, team=team, name=name, now=timezone.now() - timedelta(hours=hours_ago))


TEAM_MQLS = ("Waiting One", "Waiting Two", "Breached One", "Breached Two", "In Time One", "In Time Two")
TEAM_SALS = ("Newest SAL", "Middle SAL", "Oldest SAL")


def test_team_pages_its_mqls_and_sals_each_on_their_own(as_user, manager, busy_team, pages_of_two):
    html = as_user(manager).get(reverse("leads:team"), {"mql_page": 2, "sal_page": 2}).content.decode()

    assert names_in_order(html, TEAM_MQLS) == ["Breached One", "Breached Two"]
    assert names_in_order(html, TEAM_SALS) == ["Oldest SAL"]
    assert "6 open MQLs, soonest due first: page 2 of 3." in html
    assert "3 accepted leads, newest first: page 2 of 2." in html
    # Paging one list keeps the other list's page.
    assert 'href="?mql_page=3&amp;sal_page=2#team-mqls" rel="next"' in html
    assert 'href="?mql_page=1&amp;sal_page=2#team-mqls" rel="prev"' in html
    assert 'href="?mql_page=2&amp;sal_page=1#team-sals" rel="prev"' in html
    assert '<nav class="pager" aria-label="Pages of open MQLs">' in html
    assert '<nav class="pager" aria-label="Pages of accepted leads">' in html


def test_team_counts_cover_every_page_not_just_the_one_shown(as_user, manager, busy_team, pages_of_two):
    # The first page holds only the two unassigned MQLs; the breaches are further on.
    html = as_user(manager).get(reverse("leads:team")).content.decode()

    assert names_in_order(html, TEAM_MQLS) == ["Waiting One", "Waiting Two"]
    assert '<span class="count-pill">6</span>' in html and '<span class="count-pill">3</span>' in html
    assert "2 MQLs wait for a rep." in html
    assert "2 breached SLAs</a>" in html
    html = as_user(manager).get(reverse("leads:team"), {"mql_page": 3}).content.decode()
    assert names_in_order(html, TEAM_MQLS) == ["In Time One", "In Time Two"]
    assert "2 MQLs wait for a rep." in html and "2 breached SLAs</a>" in html


def test_team_page_out_of_range_shows_the_last_page(as_user, manager, busy_team, pages_of_two):
    html = as_user(manager).get(reverse("leads:team"), {"mql_page": 40, "sal_page": "x"}).content.decode()
    assert names_in_order(html, TEAM_MQLS) == ["In Time One", "In Time Two"]
    assert names_in_order(html, TEAM_SALS) == ["Newest SAL", "Middle SAL"]


def test_manager_reassigns_in_place(as_user, manager, rep, other_rep, team):
    lead = mql_for(rep, team, name="Moving Lead")
    response = as_user(manager).post(reverse("leads:reassign", args=[lead.pk]), {"to": other_rep.pk}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<li class="lead-row" id="lead-{lead.pk}"')
    assert "Reassigned Moving Lead to Oscar Other." in html
    assert fresh(lead).owner == other_rep


def test_manager_assigns_an_unassigned_mql(as_user, manager, rep, team):
    lead = unassigned_mql(team)
    response = as_user(manager).post(reverse("leads:reassign", args=[lead.pk]), {"to": rep.pk}, **HTMX)
    assert response.status_code == 200
    lead = fresh(lead)
    assert lead.owner == rep
    assert lead.sla_due_at is not None


def test_reassign_to_someone_outside_the_team_is_refused(as_user, manager, rep, marketer, team):
    lead = mql_for(rep, team)
    response = as_user(manager).post(reverse("leads:reassign", args=[lead.pk]), {"to": marketer.pk}, **HTMX)
    assert response.status_code == 400
    assert "is not an active rep of this lead" in response.content.decode()
    assert fresh(lead).owner == rep


def test_rep_may_not_reassign(as_user, rep, other_rep, team):
    lead = mql_for(rep, team)
    response = as_user(rep).post(reverse("leads:reassign", args=[lead.pk]), {"to": other_rep.pk}, **HTMX)
    assert response.status_code == 403
    assert fresh(lead).owner == rep


# ---------- the marketer's rejected-leads review ----------


@pytest.fixture
def rejected_leads(rep, other_rep, team):
    leads = {
        "budget": lead_in_stage(
            Stage.REJECTED, owner=rep, team=team, name="Budget Lead", source="webinar", campaign="Q4"
        ),
        "email": lead_in_stage(
            Stage.MQL, owner=other_rep, team=team, name="Gmail Lead", source="organic", campaign="SEO"
        ),
        "dq": lead_in_stage(Stage.SAL, owner=rep, team=team, name="DQ Lead", source="webinar", campaign="Spring"),
    }
    transitions.reject_lead(leads["email"], by=other_rep, reason="personal-email", note="Uses a gmail address")
    transitions.disqualify_lead(leads["dq"], by=rep, reason="not-decision-maker", note="Intern, no say")
    lead_in_stage(Stage.MQL, owner=rep, team=team, name="Open Lead")
    return leads


def test_rejected_review_lists_rejected_leads_with_notes(as_user, marketer, rejected_leads):
    html = as_user(marketer).get(reverse("leads:rejected")).content.decode()
    for text in ("Budget Lead", "Gmail Lead", "DQ Lead", "Uses a gmail address", "Intern, no say"):
        assert text in html
    assert "Open Lead" not in html
    assert "Disqualified after acceptance" in html
    assert html.count('data-action="recycle"') == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"reason": "personal-email"}, {"Gmail Lead"}),
        ({"source": "webinar"}, {"Budget Lead", "DQ Lead"}),
        ({"campaign": "Spring"}, {"DQ Lead"}),
        ({"rep": "rep"}, {"Budget Lead", "DQ Lead"}),
        ({"source": "webinar", "reason": "no-budget"}, {"Budget Lead"}),
        ({"reason": "", "source": "", "campaign": "", "rep": ""}, {"Budget Lead", "Gmail Lead", "DQ Lead"}),
    ],
)
def test_rejected_review_filters(as_user, marketer, rep, rejected_leads, query, expected):
    if query.get("rep") == "rep":
        query = {**query, "rep": rep.pk}
    html = as_user(marketer).get(reverse("leads:rejected"), query).content.decode()
    shown = {name for name in ("Budget Lead", "Gmail Lead", "DQ Lead") if name in html}
    assert shown == expected


def test_rejected_review_reports_a_bad_filter(as_user, marketer, rejected_leads):
    response = as_user(marketer).get(reverse("leads:rejected"), {"reason": "nonsense"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unknown rejection reason." in html
    assert "Budget Lead" not in html


def test_manager_may_review_but_not_recycle(as_user, manager, rejected_leads):
    client = as_user(manager)
    html = client.get(reverse("leads:rejected")).content.decode()
    assert "Budget Lead" in html
    assert 'data-action="recycle"' not in html
    lead = rejected_leads["budget"]
    response = client.post(reverse("leads:recycle", args=[lead.pk]), **HTMX)
    assert response.status_code == 403
    assert fresh(lead).stage == Stage.REJECTED


def test_marketer_recycles_in_place(as_user, marketer, rejected_leads):
    lead = rejected_leads["budget"]
    response = as_user(marketer).post(reverse("leads:recycle", args=[lead.pk]), {"note": "new budget"}, **HTMX)
    assert response.status_code == 200
    assert "Recycled Budget Lead to marketing nurture." in response.content.decode()
    lead = fresh(lead)
    assert (lead.stage, lead.owner) == (Stage.LEAD, None)
    assert lead.events.filter(kind=EventKind.RECYCLED, actor=marketer, note="new budget").exists()


def test_recycling_twice_is_a_conflict(as_user, marketer, rejected_leads):
    lead = rejected_leads["budget"]
    client = as_user(marketer)
    client.post(reverse("leads:recycle", args=[lead.pk]), **HTMX)
    response = client.post(reverse("leads:recycle", args=[lead.pk]), **HTMX)
    assert response.status_code == 409
    assert "Cannot recycle a lead in stage Lead" in response.content.decode()


@pytest.mark.parametrize("count", [1, 4])
def test_rejected_query_count_does_not_grow_with_leads(as_user, marketer, rep, team, django_assert_num_queries, count):
    for n in range(count):
        lead_in_stage(Stage.REJECTED, owner=rep, team=team, source=f"source{n}", campaign=f"campaign{n}")
    client = as_user(marketer)
    # session, user, the user's role groups, the filter choices (sources, campaigns, reps, reasons),
    # the paginator's count, the page of leads with their rejection note (one subquery)
    with django_assert_num_queries(9):
        response = client.get(reverse("leads:rejected"))
    assert response.content.decode().count('class="lead-row"') == count


def test_rejected_review_paginates(as_user, marketer, rep, team, pages_of_two):
    for _ in range(3):
        lead_in_stage(Stage.REJECTED, owner=rep, team=team, source="webinar")
    client = as_user(marketer)
    html = client.get(reverse("leads:rejected"), {"source": "webinar"}).content.decode()
    assert html.count('class="lead-row"') == 2
    assert "?source=webinar&amp;page=2" in html
    html = client.get(reverse("leads:rejected"), {"source": "webinar", "page": 2}).content.decode()
    assert html.count('class="lead-row"') == 1


def test_rejected_review_keeps_the_filters_on_every_page_link(as_user, marketer, rep, team, pages_of_two):
    for _ in range(5):
        lead_in_stage(Stage.REJECTED, owner=rep, team=team, source="webinar")
    lead_in_stage(Stage.REJECTED, owner=rep, team=team, source="organic")
    html = as_user(marketer).get(reverse("leads:rejected"), {"source": "webinar", "page": 2}).content.decode()
    assert "5</span> rejected leads match the filters: page 2 of 3." in html
    assert 'href="?source=webinar&amp;page=1" rel="prev"' in html
    assert 'href="?source=webinar&amp;page=3" rel="next"' in html


# ---------- the response SLA: business-time countdowns, the breached list, the detail panel ----------

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(day, hour, minute=0):
    """A wall-clock time in Berlin in the first week of March 2026 (Monday is the 2nd, Friday the 27th of February)."""
    month = 2 if day > 20 else 3
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
def clock_at(monkeypatch):
    """Fix the time the views and templates read (timezone.now), so countdowns are exact."""

    def freeze(instant):
        monkeypatch.setattr(timezone, "now", lambda: instant.astimezone(UTC))

    return freeze


@pytest.fixture
def berlin_policy(db):
    """Four business hours, Monday to Friday 09:00-17:00 in Berlin: tried before the default policy."""
    hours = BusinessHours.objects.create(
        name="Berlin office", time_zone="Europe/Berlin", opens=time(9), closes=time(17)
    )
    return SLAPolicy.objects.create(
        name="Berlin inbound", position=10, response_minutes=240, business_hours=hours, reassign_on_breach=True
    )


def routed_at(when, owner, team, **fields):
    """An MQL routed to ``owner`` at ``when`` (the factory routes 20 minutes before its ``now``)."""
    return lead_in_stage(Stage.MQL, owner=owner, team=team, now=when + timedelta(minutes=20), **fields)


def test_queue_counts_down_business_time_under_a_business_hours_policy(as_user, clock_at, rep, team, berlin_policy):
    # Routed Monday 15:00 with four business hours: two today, two tomorrow, due Tuesday 11:00.
    lead = routed_at(berlin(2, 15), rep, team)
    assert fresh(lead).sla_due_at == berlin(3, 11)
    clock_at(berlin(2, 16))

    html = as_user(rep).get(reverse("leads:queue")).content.decode()

    assert "due in 3h 00m of business time" in html
    assert 'data-business-left="10800"' in html
    assert 'data-working-now="true"' in html
    # The script pauses the clock at 17:00 and restarts it at 09:00 (UTC below), then the lead is due.
    assert 'data-changes="2026-03-02T16:00:00+00:00 2026-03-03T08:00:00+00:00"' in html
    assert 'data-due="2026-03-03T10:00:00+00:00"' in html
    assert "SLA breached" not in html


def test_queue_shows_a_paused_clock_outside_business_hours(as_user, clock_at, rep, team, berlin_policy):
    # Routed Friday 16:00: one business hour on Friday, three on Monday, due Monday 12:00.
    routed_at(berlin(27, 16), rep, team)
    clock_at(berlin(27, 18))

    html = as_user(rep).get(reverse("leads:queue")).content.decode()

    assert "due in 3h 00m of business time" in html
    assert 'class="countdown is-paused"' in html
    assert 'data-working-now="false"' in html
    # In the viewer's zone (UTC here): Monday 09:00 in Berlin.
    assert "Paused until <span data-until>Mon 2 Mar, 08:00</span>" in html
    assert 'data-changes="2026-03-02T08:00:00+00:00"' in html


def test_round_the_clock_countdown_has_no_business_time(as_user, clock_at, rep, team):
    routed_at(berlin(27, 17, 30), rep, team)
    clock_at(berlin(27, 18))
    html = as_user(rep).get(reverse("leads:queue")).content.decode()
    assert "due in 30m 00s" in html
    assert "data-business-left" not in html and "Paused until" not in html


def test_breached_leads_stand_out_in_the_queue(as_user, rep, team):
    flagged = mql_for(rep, team, minutes_ago=90, name="Flagged Lead")
    sla.flag_overdue_leads()
    unflagged = mql_for(rep, team, minutes_ago=70, name="Late Lead")
    on_time = mql_for(rep, team, name="On Time Lead")

    html = as_user(rep).get(reverse("leads:queue")).content.decode()

    for lead in (flagged, unflagged):
        row = html[html.index(f'id="lead-{lead.pk}"') :]
        row = row[: row.index("</li>")]
        assert ">SLA breached</span>" in row
        assert "countdown is-overdue" in row
    assert f'<li class="lead-row is-breached" id="lead-{flagged.pk}"' in html
    assert f'<li class="lead-row" id="lead-{on_time.pk}"' in html
    assert html.count(">SLA breached</span>") == 2


@pytest.mark.parametrize("count", [1, 4])
def test_queue_query_count_stays_flat_with_business_hours_policies(
    as_user, rep, team, berlin_policy, django_assert_num_queries, count
):
    for _ in range(count):
        mql_for(rep, team)
        mql_for(rep, team, minutes_ago=90)
    client = as_user(rep)
    # session, user (with the profile), the user's role groups, the open MQLs' count, the page's ids, the page's
    # leads (with policy and business hours), the page's top scoring reasons, the active rejection reasons, the
    # one business calendar's holidays, the history's newest id (the live cursor)
    with django_assert_num_queries(10):
        response = client.get(reverse("leads:queue"))
    assert response.content.decode().count("data-lead-id=") == 2 * count


def countdown_of(html):
    """The text of the first SLA countdown on a page."""
    tag = html[html.index('<time class="countdown') :]
    return tag[tag.index(">") + 1 : tag.index("</time>")]


def test_a_holiday_added_on_the_due_day_counts_down_the_real_time_left_not_zero(
    as_user, clock_at, manager, rep, team, berlin_policy
):
    # Routed Monday 09:00 with four business hours: due Monday 13:00. At 10:00 an admin makes
    # Monday a holiday: no working time is left before the stored due time, which still stands.
    lead = routed_at(berlin(2, 9), rep, team)
    Holiday.objects.create(business_hours=berlin_policy.business_hours, date=date(2026, 3, 2), name="Closure")
    clock_at(berlin(2, 10))

    queue = as_user(rep).get(reverse("leads:queue")).content.decode()
    detail = as_user(manager).get(reverse("leads:detail", args=[lead.pk])).content.decode()

    for html in (queue, detail):
        assert countdown_of(html) == "due in 3h 00m"
        assert 'class="countdown"' in html and "data-business-left" not in html
        assert "Paused until" not in html and "SLA breached" not in html


def test_a_holiday_added_before_the_due_day_is_skipped_by_the_countdown(as_user, clock_at, rep, team, berlin_policy):
    # Sixteen business hours routed Monday 15:00: 2h Monday, 8h Tuesday, 6h Wednesday, due Wednesday 15:00.
    berlin_policy.response_minutes = 960
    berlin_policy.save()
    lead = routed_at(berlin(2, 15), rep, team)
    assert fresh(lead).sla_due_at == berlin(4, 15)
    Holiday.objects.create(business_hours=berlin_policy.business_hours, date=date(2026, 3, 3))
    client = as_user(rep)

    clock_at(berlin(2, 16))
    assert countdown_of(client.get(reverse("leads:queue")).content.decode()) == "due in 7h 00m of business time"
    clock_at(berlin(2, 18))
    html = client.get(reverse("leads:queue")).content.decode()
    assert countdown_of(html) == "due in 6h 00m of business time"
    assert "Paused until <span data-until>Wed 4 Mar, 08:00</span>" in html


def test_after_the_last_working_hour_before_a_holiday_due_time_the_countdown_counts_real_time(
    as_user, clock_at, rep, team, berlin_policy
):
    # Routed Friday 16:00: due Monday 12:00, and Monday becomes a holiday.
    routed_at(berlin(27, 16), rep, team)
    Holiday.objects.create(business_hours=berlin_policy.business_hours, date=date(2026, 3, 2))
    client = as_user(rep)

    clock_at(berlin(27, 16, 30))
    html = client.get(reverse("leads:queue")).content.decode()
    # Half an hour of business time today; the script then counts the real time to Monday noon.
    assert countdown_of(html) == "due in 30m 00s of business time"
    assert 'data-changes="2026-02-27T16:00:00+00:00"' in html
    clock_at(berlin(28, 12))
    assert countdown_of(client.get(reverse("leads:queue")).content.decode()) == "due in 2d 0h"


@pytest.fixture
def breached_board(clock_at, rep, other_rep, team):
    """Leads around noon on Monday 2 March: two breached and flagged, one breached unflagged, the rest not breached."""
    noon = berlin(2, 12)
    leads = {
        # Default policy, one hour round the clock: due 2h 5m ago.
        "oldest": routed_at(noon - timedelta(hours=3, minutes=5), rep, team, name="Oldest Breach"),
        "answered_late": routed_at(noon - timedelta(hours=2), other_rep, team, name="Called Too Late"),
        "recent": routed_at(noon - timedelta(minutes=70), other_rep, team, name="Recent Breach"),
        "in_time": routed_at(noon - timedelta(minutes=10), rep, team, name="Still In Time"),
        "accepted_late": routed_at(noon - timedelta(hours=4), rep, team, name="Accepted Late"),
    }
    sla.flag_overdue_leads(now=(noon - timedelta(hours=1)).astimezone(UTC))
    transitions.log_activity(leads["answered_late"], by=other_rep, kind="call", now=noon - timedelta(minutes=30))
    transitions.accept_lead(leads["accepted_late"], by=rep, now=noon - timedelta(minutes=20))
    unassigned_mql(team, name="Nobody Free")
    elsewhere = make_team("South")
    routed_at(
        noon - timedelta(hours=3), make_user("sam", role="rep", team=elsewhere), elsewhere, name="Southern Breach"
    )
    clock_at(noon)
    return leads


def test_breached_page_lists_breached_mqls_of_managed_teams_oldest_first(as_user, manager, breached_board):
    html = as_user(manager).get(reverse("leads:breached")).content.decode()

    names = ["Oldest Breach", "Called Too Late", "Recent Breach"]
    assert [html.index(name) for name in names] == sorted(html.index(name) for name in names)
    for absent in ("Still In Time", "Accepted Late", "Nobody Free", "Southern Breach"):
        assert absent not in html
    rows = {name: html[html.index(name) :][: html[html.index(name) :].index("</li>")] for name in names}
    assert "breached 2h 5m ago" in rows["Oldest Breach"] and "Rita Rep" in rows["Oldest Breach"]
    assert "escalated" in rows["Oldest Breach"]
    assert "breached 10 min ago" in rows["Recent Breach"] and "not escalated yet" in rows["Recent Breach"]
    assert "Oscar Other" in rows["Recent Breach"]
    assert "Followed up" in rows["Called Too Late"]
    assert "Default: answer within 1 hour" in rows["Oldest Breach"]
    # The reassign select offers the team's reps and says where the answer goes.
    assert '<input type="hidden" name="list" value="breached">' in rows["Oldest Breach"]
    assert "Oscar Other</option>" in rows["Oldest Breach"]
    assert '<span class="count-pill count-pill-danger" data-row-count>3</span>' in html
    # The unassigned MQL is not breached (its clock has not started) but the manager hears of it.
    assert "1 MQL waits for a rep." in html


def test_navigation_shows_managers_the_breached_count(as_user, manager, breached_board):
    html = as_user(manager).get(reverse("reports:index")).content.decode()
    nav = html[html.index('<nav class="mainnav"') : html.index("</nav>")]
    assert '>Breached <span data-nav-count><span class="nav-count">3</span>' in nav


def test_admin_sees_every_teams_breaches(as_user, admin, breached_board):
    html = as_user(admin).get(reverse("leads:breached")).content.decode()
    assert "Southern Breach" in html and "Oldest Breach" in html


def test_manager_reassigns_from_the_breached_list_and_the_lead_leaves_it(as_user, manager, other_rep, breached_board):
    lead = breached_board["oldest"]
    client = as_user(manager)
    response = client.post(reverse("leads:reassign", args=[lead.pk]), {"to": other_rep.pk, "list": "breached"}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<li class="lead-row is-done" id="lead-{lead.pk}"')
    assert "Reassigned Oldest Breach to Oscar Other." in html
    lead = fresh(lead)
    assert lead.owner == other_rep
    assert lead.sla_breached_at is None
    assert lead.sla_due_at == berlin(2, 13)
    assert "Oldest Breach" not in client.get(reverse("leads:breached")).content.decode()


def test_a_followed_up_breach_stays_listed_with_its_new_owner(as_user, manager, rep, breached_board):
    lead = breached_board["answered_late"]
    response = as_user(manager).post(
        reverse("leads:reassign", args=[lead.pk]), {"to": rep.pk, "list": "breached"}, **HTMX
    )
    html = response.content.decode()
    assert html.startswith(f'<li class="lead-row is-breached" id="lead-{lead.pk}"')
    assert "Reassigned Called Too Late to Rita Rep." in html
    assert "<span>Rita Rep</span>" in html


def test_plain_reassign_from_the_breached_list_goes_back_to_it(as_user, manager, other_rep, breached_board):
    lead = breached_board["oldest"]
    response = as_user(manager).post(
        reverse("leads:reassign", args=[lead.pk]),
        {"to": other_rep.pk, "list": "breached", "next": reverse("leads:breached")},
        follow=True,
    )
    assert response.redirect_chain == [(reverse("leads:breached"), 302)]
    html = response.content.decode()
    assert "Reassigned Oldest Breach to Oscar Other." in html
    assert f'id="lead-{lead.pk}"' not in html


@pytest.mark.parametrize("count", [1, 4])
def test_breached_query_count_does_not_grow_with_leads(
    as_user, manager, rep, team, berlin_policy, pages_of_two, django_assert_num_queries, count
):
    for _ in range(count):
        # Breached under the business-hours policy: past due, so no calendar is needed to show them.
        lead = mql_for(rep, team)
        Lead.objects.filter(pk=lead.pk).update(sla_due_at=timezone.now() - timedelta(hours=1))
        mql_for(rep, team)
    client = as_user(manager)
    # session, user, the user's role groups, the teams they manage, the breached MQLs' count, the page of
    # breached MQLs (with owner, team, policy and business hours), the reps of those teams for the reassign
    # selects, the unassigned MQLs' count
    with django_assert_num_queries(8):
        response = client.get(reverse("leads:breached"))
    assert response.content.decode().count('class="lead-row is-breached"') == min(count, 2)


def test_breached_pages_oldest_breach_first_and_counts_them_all(as_user, manager, breached_board, pages_of_two):
    names = ("Oldest Breach", "Called Too Late", "Recent Breach")
    client = as_user(manager)
    first = client.get(reverse("leads:breached")).content.decode()
    second = client.get(reverse("leads:breached"), {"page": 2}).content.decode()
    beyond = client.get(reverse("leads:breached"), {"page": 7}).content.decode()

    assert names_in_order(first, names) == ["Oldest Breach", "Called Too Late"]
    assert names_in_order(second, names) == ["Recent Breach"]
    assert names_in_order(beyond, names) == ["Recent Breach"]
    assert '<span class="count-pill count-pill-danger" data-row-count>3</span>' in second
    assert "oldest breach first: page 2 of 2." in second
    assert "1 MQL waits for a rep." in second


def test_detail_shows_the_policy_due_time_and_breach(as_user, clock_at, manager, rep, team, berlin_policy):
    lead = routed_at(berlin(2, 9), rep, team, name="Slow Answer")
    sla.flag_overdue_leads(now=berlin(2, 13, 1).astimezone(UTC))
    clock_at(berlin(2, 14))

    html = as_user(manager).get(reverse("leads:detail", args=[lead.pk])).content.decode()
    panel = html[html.index('aria-labelledby="sla-title"') :]
    panel = panel[: panel.index("</section>")]

    for text in (
        "Berlin inbound",
        "4 h of business time",
        "Mon–Fri, 09:00–17:00",
        "Europe/Berlin",
        "2 Mar 2026, 13:00 (Europe/Berlin)",
        'data-local-time="2026-03-02T12:00:00+00:00"',
        "overdue by 1h 00m",
        "SLA breached",
        'data-local-time="2026-03-02T12:01:00+00:00"',
        "E-mail the owner and the team&#x27;s managers; reassign at once",
    ):
        assert text in panel, text
    history = html[html.index('<ol class="timeline">') :]
    breach = history[history.index("timeline-sla_breached") :]
    breach = breach[: breach.index("</li>")]
    assert "SLA breached" in breach and "by System" in breach
    assert "The response was due" in breach and 'datetime="2026-03-02T12:00:00+00:00"' in breach
    assert "under the SLA policy “Berlin inbound”" in history


@pytest.mark.parametrize(
    ("answered_after", "expected"),
    [(timedelta(minutes=12), "Answered in 12 min (within SLA)"), (timedelta(hours=4), "Answered 3h late")],
)
def test_detail_says_how_fast_the_lead_was_answered(as_user, clock_at, rep, team, answered_after, expected):
    lead = routed_at(berlin(2, 9), rep, team)
    transitions.accept_lead(lead, by=rep, now=berlin(2, 9) + answered_after)
    clock_at(berlin(2, 15))
    html = as_user(rep).get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert expected in html


def test_detail_of_an_unassigned_mql_says_the_clock_waits_for_a_rep(as_user, manager, team, rep):
    lead = unassigned_mql(team, name="Waiting")
    html = as_user(manager).get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "Starts when a rep is assigned" in html
    assert "No rep had capacity: waiting unassigned" in html


# ---------- reports index ----------


def test_reports_index_lists_the_reports_to_come(as_user, rep):
    html = as_user(rep).get(reverse("reports:index")).content.decode()
    for title in ("Ignore rate", "MQL → SQL conversion", "Speed to lead", "SLA compliance", "Rejection reasons"):
        assert title in html


def test_static_assets_are_served_locally(as_user, rep):
    html = as_user(rep).get(reverse("leads:queue")).content.decode()
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert "/static/css/funnel.css" in html and "/static/js/funnel.js" in html
    assert "https://" not in html.split("<body")[0]
