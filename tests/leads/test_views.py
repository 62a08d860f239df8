"""The browser UI: pages per role, scoping, htmx actions in place and their plain-POST fallbacks."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leads.models import ActivityKind, EventKind, Lead, LeadEvent, Stage, TeamMember
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
        ("rep", ["Queue", "Accepted", "Reports"], ["Team", "Rejected", "Admin"]),
        ("manager", ["Team", "Rejected", "Reports"], ["Queue", "Accepted", "Admin"]),
        ("marketer", ["Rejected", "Reports"], ["Queue", "Accepted", "Team", "Admin"]),
        ("admin", ["Team", "Rejected", "Reports", "Admin"], ["Queue", "Accepted"]),
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
    lead = mql_for(rep, team, minutes_ago=0, source="webinar", campaign="Q4 Cloud", job_title="CTO", score=77)
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
def test_queue_query_count_does_not_grow_with_leads(as_user, rep, team, django_assert_num_queries, count):
    for _ in range(count):
        mql_for(rep, team)
    client = as_user(rep)
    # session, user, the user's role groups, the open MQLs, the active rejection reasons
    with django_assert_num_queries(5):
        response = client.get(reverse("leads:queue"))
    assert response.content.decode().count('class="lead-row"') == count


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
    from leads import transitions

    transitions.log_activity(lead, by=rep, kind=ActivityKind.CALL, now=timezone.now() - timedelta(minutes=3))

    html = as_user(rep).get(reverse("leads:accepted")).content.decode()
    assert "Worked Lead" in html
    assert "3\xa0minutes ago" in html
    assert "Oscars SAL" not in html and "Qualified Lead" not in html
    for action in ("qualify", "disqualify", "log_activity"):
        assert f'hx-post="{reverse(f"leads:{action}", args=[lead.pk])}"' in html


@pytest.mark.parametrize("count", [1, 4])
def test_accepted_query_count_does_not_grow_with_leads(as_user, rep, team, django_assert_num_queries, count):
    for _ in range(count):
        lead_in_stage(Stage.SAL, owner=rep, team=team)
    client = as_user(rep)
    # session, user, the user's role groups, the SALs with their last activity (one aggregate), the active reasons
    with django_assert_num_queries(5):
        response = client.get(reverse("leads:accepted"))
    assert response.content.decode().count('class="lead-row"') == count


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


def test_detail_shows_the_whole_history_oldest_first(as_user, rep, team):
    lead = lead_in_stage(Stage.REJECTED, owner=rep, team=team, name="History Lead", reason_code="competitor")
    from leads import transitions

    lead = transitions.recycle_lead(lead, by=None, note="nurture again")
    html = as_user(rep).get(reverse("leads:detail", args=[lead.pk]))
    # A recycled lead has no owner, so its former rep no longer sees it.
    assert html.status_code == 404

    manager = make_user("mo", role="manager", team=team, team_role=TeamMember.Role.MANAGER)
    html = as_user(manager).get(reverse("leads:detail", args=[lead.pk])).content.decode()
    html = html[html.index('<ol class="timeline">') :]
    positions = [html.index(label) for label in ("Created", "Became MQL", "Rejected", "Recycled to nurture")]
    assert positions == sorted(positions)
    assert "by System" in html
    assert "Competitor" in html
    assert "nurture again" in html


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
    assert "Nothing for you to do" in html
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
    assert "Southern MQL" not in html
    # The reassign select offers the team's reps.
    assert "Rita Rep" in html and "Oscar Other" in html and "sam" not in html


@pytest.mark.parametrize("count", [1, 4])
def test_team_query_count_does_not_grow_with_leads(as_user, manager, rep, team, django_assert_num_queries, count):
    for _ in range(count):
        mql_for(rep, team)
        lead_in_stage(Stage.SAL, owner=rep, team=team)
    client = as_user(manager)
    # session, user, the user's role groups, the teams they manage, the open MQLs (with owner and team),
    # the SALs (with owner and team), the reps of those teams for the reassign selects
    with django_assert_num_queries(7):
        response = client.get(reverse("leads:team"))
    assert response.content.decode().count('class="lead-row"') == 2 * count


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
    from leads import transitions

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


def test_rejected_review_paginates(as_user, marketer, rep, team, monkeypatch):
    monkeypatch.setattr("leads.views.REJECTED_PAGE_SIZE", 2)
    for _ in range(3):
        lead_in_stage(Stage.REJECTED, owner=rep, team=team, source="webinar")
    client = as_user(marketer)
    html = client.get(reverse("leads:rejected"), {"source": "webinar"}).content.decode()
    assert html.count('class="lead-row"') == 2
    assert "?source=webinar&amp;page=2" in html
    html = client.get(reverse("leads:rejected"), {"source": "webinar", "page": 2}).content.decode()
    assert html.count('class="lead-row"') == 1


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
