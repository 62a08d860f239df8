"""The report pages as a manager, marketer or rep sees them: numbers, formulas, links to
the leads behind every number, CSV, role scoping, bad periods and query counts."""

import csv
import html as html_lib
import io
import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from leads import transitions
from leads.models import Stage
from reports.models import MonthlyTarget
from tests.factories import lead_in_stage, make_team, make_user

from .conftest import AS_OF, NOVEMBER, REJECTIONS, SORT_MEMORY, SPEED_HEADLINE, SPEED_TOTALS, episodes

PAGES = [
    "reports:overview",
    "reports:ignore_rate",
    "reports:conversion",
    "reports:speed_to_lead",
    "reports:sla_compliance",
    "reports:rejection_reasons",
    "reports:conversation_rate",
    "reports:mql_target",
]
PERIOD = {**NOVEMBER, "as_of": AS_OF.isoformat()}


def get(client, name, **params):
    return client.get(reverse(name), {**PERIOD, **params})


def kpi(page, label):
    """The big number shown under ``label`` (its text, e.g. '25%' or '—')."""
    match = re.search(
        rf'<span class="kpi-label">{re.escape(label)}</span>\s*<(?:a|span) class="kpi-value"[^>]*>([^<]*)<',
        page,
    )
    assert match, f"no number labelled {label!r}"
    return match.group(1).strip()


def kpi_link(page, label):
    match = re.search(rf'<span class="kpi-label">{re.escape(label)}</span>\s*<a class="kpi-value" href="([^"]+)"', page)
    assert match, f"number {label!r} links nowhere"
    return html_lib.unescape(match.group(1))


def listed_count(page):
    return int(re.search(r'<span class="count-pill" data-row-count>(\d+)</span>', page).group(1))


def csv_rows(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(content.decode())))


# ---------- the worked examples ----------


def test_ignore_rate_page_shows_25_percent_for_200_mqls_with_50_ignored(as_user, marketer):
    episodes(150, first_follow_up_at=lambda t: t + timedelta(minutes=30))
    episodes(50)  # never followed up, windows long expired by AS_OF

    page = get(as_user(marketer), "reports:ignore_rate").content.decode()

    assert kpi(page, "Ignore rate") == "25%"
    assert kpi(page, "MQLs") == "200"
    assert kpi(page, "Awaiting response") == "0"
    assert "MQLs never followed up although their SLA window has expired ÷ all MQLs of the period × 100" in page


def test_a_late_follow_up_is_an_sla_miss_not_ignored(as_user, marketer):
    episodes(3, first_follow_up_at=lambda t: t + timedelta(hours=5))
    episodes(1, first_follow_up_at=lambda t: t + timedelta(minutes=10))
    client = as_user(marketer)

    assert kpi(get(client, "reports:ignore_rate").content.decode(), "Ignore rate") == "0%"
    sla = get(client, "reports:sla_compliance").content.decode()
    assert kpi(sla, "SLA compliance") == "25%"
    assert kpi(sla, "Answered late") == "3"


def test_mqls_inside_their_window_are_shown_as_awaiting_response(as_user, marketer):
    episodes(4, step=timedelta(minutes=1))  # due 10:00-10:03 on 2 November

    page = get(as_user(marketer), "reports:ignore_rate", as_of="2026-11-02T09:30:00+00:00").content.decode()

    assert kpi(page, "Awaiting response") == "4"
    assert kpi(page, "Ignore rate") == "0%"


def test_conversion_page_shows_40_percent_for_500_mqls_with_200_sqls(as_user, marketer):
    episodes(200, accepted_at=lambda t: t + timedelta(hours=1), qualified_at=lambda t: t + timedelta(days=2))
    episodes(300, step=timedelta(minutes=3))
    client = as_user(marketer)

    for view in ("cohort", "period"):
        page = get(client, "reports:conversion", view=view).content.decode()
        assert kpi(page, "MQL → SQL conversion") == "40%", view
        assert kpi(page, "SQLs") == "200"
        assert kpi(page, "MQLs") == "500"


def test_two_day_sla_with_three_day_mean_response_is_shown_as_missing_the_sla(as_user, marketer):
    for days in (2, 3, 4):
        episodes(1, due_at=lambda t: t + timedelta(days=2), first_follow_up_at=lambda t, d=days: t + timedelta(days=d))

    page = get(as_user(marketer), "reports:speed_to_lead").content.decode()

    assert kpi(page, "Mean response") == "3d"
    assert kpi(page, "Median response") == "3d"
    assert "Missing the SLA: the mean response (3d) is slower than the typical SLA window (2d)." in page


@pytest.mark.parametrize("name", PAGES)
def test_an_empty_period_shows_a_dash_not_zero_percent(as_user, marketer, name):
    response = get(as_user(marketer), name)

    assert response.status_code == 200
    page = response.content.decode()
    numbers = re.findall(r'class="kpi-value"[^>]*>([^<]*)<', page)
    assert numbers
    assert "0%" not in numbers
    assert "—" in numbers or name == "reports:rejection_reasons"  # rejections: a count, 0 is right


# ---------- every number links to its leads ----------


def _linked_numbers(page):
    """(text, url) of every number on the page that links to its leads."""
    pattern = r'<a (?:class="kpi-value" )?href="(/reports/leads/\?[^"]+)"[^>]*>([\d,]+)</a>'
    return [(int(text.replace(",", "")), html_lib.unescape(url)) for url, text in re.findall(pattern, page)]


@pytest.fixture
def mixed_november(rep, other_rep, team):
    episodes(6, owner=rep, team=team, source="webinar", first_follow_up_at=lambda t: t + timedelta(minutes=20))
    episodes(3, owner=other_rep, team=team, source="organic", first_follow_up_at=lambda t: t + timedelta(hours=3))
    episodes(
        4,
        owner=rep,
        team=team,
        accepted_at=lambda t: t + timedelta(minutes=30),
        qualified_at=lambda t: t + timedelta(days=1),
    )
    episodes(2, owner=other_rep, team=team)


@pytest.mark.parametrize(
    "name", ["reports:ignore_rate", "reports:sla_compliance", "reports:conversion", "reports:speed_to_lead"]
)
def test_every_number_links_to_a_list_of_exactly_that_many_leads(as_user, marketer, mixed_november, name):
    client = as_user(marketer)
    numbers = _linked_numbers(get(client, name).content.decode())

    assert len(numbers) >= 4
    for count, url in numbers:
        response = client.get(url)
        assert response.status_code == 200, url
        assert listed_count(response.content.decode()) == count, url


def test_drill_down_lists_name_company_owner_times_and_outcome(as_user, marketer, rep, team):
    lead = lead_in_stage(
        Stage.REJECTED, owner=rep, team=team, now=AS_OF - timedelta(days=30), name="Jane Cooper", company="Northwind"
    )

    page = get(as_user(marketer), "reports:leads", metric="rejection_reasons", bucket="rejected").content.decode()

    assert listed_count(page) == 1
    assert f'href="{lead.get_absolute_url()}"' in page
    for text in ("Jane Cooper", "Northwind", "Rita Rep", "Rejected", "No budget"):
        assert text in page


def test_drill_down_paginates(as_user, marketer, monkeypatch):
    monkeypatch.setattr("reports.views.LEADS_PAGE_SIZE", 10)
    episodes(25)
    client = as_user(marketer)

    first = get(client, "reports:leads", metric="ignore_rate", bucket="mqls").content.decode()
    last = get(client, "reports:leads", metric="ignore_rate", bucket="mqls", page=3).content.decode()

    assert "Page 1 of 3" in first
    assert first.count("<tr>") == 1 + 10
    assert last.count("<tr>") == 1 + 5


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"metric": "nope", "bucket": "mqls"}, "Unknown metric."),
        ({"metric": "ignore_rate", "bucket": "sqls"}, "Unknown number &#x27;sqls&#x27; for ignore_rate"),
        ({"metric": "ignore_rate"}, "Say which number of the report"),
    ],
)
def test_drill_down_refuses_an_unknown_number(as_user, marketer, params, message):
    response = get(as_user(marketer), "reports:leads", **params)

    assert response.status_code == 400
    assert message in response.content.decode()


# ---------- CSV ----------


def test_each_report_table_exports_as_csv(as_user, marketer):
    episodes(150, first_follow_up_at=lambda t: t + timedelta(minutes=30))
    episodes(50)

    response = get(as_user(marketer), "reports:ignore_rate", format="csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"] == 'attachment; filename="funnel-ignore_rate-status-2026-11-01-2026-11-30.csv"'
    )
    assert csv_rows(response) == [
        ["Status", "MQLs", "Share of MQLs (%)"],
        ["Ignored", "50", "25.00"],
        ["Awaiting response", "0", "0.00"],
        ["Followed up", "150", "75.00"],
        ["All MQLs", "200", "100.00"],
    ]


def test_every_table_on_a_page_has_its_own_csv(as_user, marketer, rep, team):
    episodes(2, owner=rep, team=team, first_follow_up_at=lambda t: t + timedelta(minutes=3))
    client = as_user(marketer)
    page = get(client, "reports:speed_to_lead").content.decode()

    tables = re.findall(r"format=csv&amp;table=([\w-]+)", page)
    assert tables == ["bands", "by-rep", "trend"]
    by_rep = csv_rows(get(client, "reports:speed_to_lead", format="csv", table="by-rep"))
    assert by_rep[0] == ["Rep", "Answered", "Mean response (seconds)", "Within 1 hour (%)", "Within SLA window (%)"]
    assert by_rep[1] == ["Rita Rep", "2", "180", "100.00", "100.00"]
    assert get(client, "reports:speed_to_lead", format="csv", table="nope").status_code == 400


def test_drill_down_exports_every_lead_as_csv(as_user, marketer, monkeypatch):
    monkeypatch.setattr("reports.views.LEADS_PAGE_SIZE", 10)
    episodes(3, first_follow_up_at=lambda t: t + timedelta(minutes=30))
    episodes(25)

    response = get(as_user(marketer), "reports:leads", metric="ignore_rate", bucket="ignored", format="csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = csv_rows(response)
    assert rows[0][:3] == ["lead_id", "name", "company"]
    assert len(rows) == 1 + 25
    assert {row[14] for row in rows[1:]} == {"Ignored (window expired)"}


def test_csv_cells_cannot_smuggle_spreadsheet_formulas(as_user, marketer):
    (episode,) = episodes(1)
    episode.lead.name = "=HYPERLINK(1)"
    episode.lead.save()

    rows = csv_rows(get(as_user(marketer), "reports:leads", metric="ignore_rate", bucket="mqls", format="csv"))

    assert rows[1][1] == "'=HYPERLINK(1)"


# ---------- role scoping ----------


def test_a_rep_sees_only_their_own_numbers(as_user, rep, other_rep, team):
    episodes(4, owner=rep, team=team)
    episodes(6, owner=other_rep, team=team)
    client = as_user(rep)

    page = get(client, "reports:ignore_rate").content.decode()
    assert kpi(page, "MQLs") == "4"
    assert 'name="rep"' not in page  # no choosing someone else
    listed = get(client, "reports:leads", metric="ignore_rate", bucket="mqls").content.decode()
    assert listed_count(listed) == 4


def test_a_rep_asking_for_another_reps_numbers_gets_an_error(as_user, rep, other_rep):
    response = get(as_user(rep), "reports:ignore_rate", rep=other_rep.pk)

    assert response.status_code == 400
    assert "You can see only your own numbers." in response.content.decode()


def test_a_manager_sees_their_teams_numbers_by_default(as_user, manager, rep, team):
    elsewhere = make_team("South")
    episodes(3, owner=rep, team=team)
    episodes(5, team=elsewhere)

    page = get(as_user(manager), "reports:ignore_rate").content.decode()

    assert kpi(page, "MQLs") == "3"


def test_a_manager_asking_for_another_team_gets_an_error(as_user, manager):
    elsewhere = make_team("South")

    response = get(as_user(manager), "reports:ignore_rate", team=elsewhere.pk)

    assert response.status_code == 400
    assert "You can see reports only for the teams you manage." in response.content.decode()


def test_marketers_see_every_team_and_may_narrow_to_one(as_user, marketer, rep, team):
    elsewhere = make_team("South")
    episodes(3, owner=rep, team=team)
    episodes(5, team=elsewhere)
    client = as_user(marketer)

    assert kpi(get(client, "reports:ignore_rate").content.decode(), "MQLs") == "8"
    assert kpi(get(client, "reports:ignore_rate", team=elsewhere.pk).content.decode(), "MQLs") == "5"


@pytest.mark.parametrize("name", [*PAGES, "reports:leads", "reports:targets"])
def test_a_user_without_a_role_gets_403(client, db, name):
    client.force_login(make_user("nobody"))
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("persona", ["rep", "manager"])
def test_only_marketers_and_admins_edit_targets(request, as_user, persona):
    assert as_user(request.getfixturevalue(persona)).get(reverse("reports:targets")).status_code == 403


# ---------- bad input ----------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-11-30", "to": "2026-11-01"}, "The period ends before it starts"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "reports cover at most 731 days"),
        ({"from": "1900-01-01", "to": "1900-01-02"}, "must be between 2000 and 2100"),
        ({"from": "2026-13-01"}, "Enter a date as YYYY-MM-DD."),
        ({"to": "yesterday"}, "Enter a date as YYYY-MM-DD."),
        ({"tz": "Mars/Olympus"}, "Unknown time zone"),
        ({"view": "weekly"}, "Choose &#x27;period&#x27; or &#x27;cohort&#x27;."),
        ({"as_of": "soon"}, "Give &#x27;as_of&#x27; as an ISO 8601 date-time"),
        ({"as_of": "1999-12-31T00:00:00+00:00"}, "must be between 2000 and 2100"),
        ({"team": "abc"}, "Unknown team."),
    ],
)
@pytest.mark.parametrize("name", ["reports:overview", "reports:ignore_rate", "reports:leads"])
def test_absurd_periods_and_filters_get_a_clear_error_on_the_page(as_user, marketer, params, message, name):
    query = {**NOVEMBER, "metric": "ignore_rate", "bucket": "mqls", **params}

    response = as_user(marketer).get(reverse(name), query)

    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'role="alert"' in page


def test_the_default_period_is_the_last_30_days(as_user, marketer):
    page = as_user(marketer).get(reverse("reports:ignore_rate")).content.decode()

    start, end = re.findall(r'type="date" name="(?:from|to)" value="([\d-]+)"', page)
    assert (date.fromisoformat(end) - date.fromisoformat(start)).days == 29


# ---------- the overview, the index and the rejection review ----------


def test_the_index_is_the_overview_of_every_report(as_user, rep):
    assert reverse("reports:index") == reverse("reports:overview")
    page = as_user(rep).get(reverse("reports:index")).content.decode()
    for title in ("Ignore rate", "MQL → SQL conversion", "Speed to lead", "SLA compliance", "Rejection reasons"):
        assert title in page
    # An empty period says so instead of drawing a blank chart (issue #12).
    assert 'data-chart="overview-funnel-chart"' not in page
    assert "Nothing to chart in this period." in page
    assert "/static/vendor/chartjs/chart.umd.min.js" in page


def test_overview_shows_each_headline_with_its_formula_and_link(as_user, marketer):
    episodes(150, first_follow_up_at=lambda t: t + timedelta(minutes=30))
    episodes(50)

    page = get(as_user(marketer), "reports:overview").content.decode()

    assert kpi(page, "Ignore rate") == "25%"
    assert "metric=ignore_rate&amp;bucket=ignored" in page
    assert "SQLs ÷ MQLs × 100" in page


@pytest.fixture
def rejections(rep, team):
    now = AS_OF - timedelta(days=30)
    notes = [("no-budget", "Budget frozen until Q2"), ("no-budget", "No money"), ("personal-email", "gmail signup")]
    for code, note in notes:
        lead = lead_in_stage(Stage.MQL, owner=rep, team=team, now=now)
        transitions.reject_lead(lead, by=rep, reason=code, note=note, now=now + timedelta(minutes=5))


def test_rejection_review_shows_reasons_with_their_notes(as_user, marketer, rejections):
    page = get(as_user(marketer), "reports:rejection_reasons").content.decode()

    assert kpi(page, "Rejections") == "3"
    for note in ("Budget frozen until Q2", "No money", "gmail signup"):
        assert note in page
    narrowed = get(as_user(marketer), "reports:rejection_reasons", reason="no-budget").content.decode()
    assert "Budget frozen until Q2" in narrowed and "gmail signup" not in narrowed


def test_a_reason_links_to_its_leads_and_their_notes(as_user, marketer, rejections):
    client = as_user(marketer)
    page = get(client, "reports:rejection_reasons").content.decode()
    url = html_lib.unescape(re.search(r'<a href="(/reports/leads/\?[^"]*reason=no-budget[^"]*)">2</a>', page).group(1))

    listed = client.get(url).content.decode()

    assert listed_count(listed) == 2
    assert "Budget frozen until Q2" in listed and "gmail signup" not in listed


# ---------- monthly targets ----------


def test_marketer_sets_and_clears_monthly_targets(as_user, marketer):
    client = as_user(marketer)
    MonthlyTarget.objects.create(month=date(2026, 3, 1), mql_target=10)
    url = f"{reverse('reports:targets')}?year=2026"

    response = client.post(url, {"target_2026_11": "40", "target_2026_12": "55", "target_2026_03": ""})

    assert response.status_code == 302
    saved = dict(MonthlyTarget.objects.filter(team=None).values_list("month", "mql_target"))
    assert saved == {date(2026, 11, 1): 40, date(2026, 12, 1): 55}
    assert MonthlyTarget.objects.get(month=date(2026, 11, 1)).updated_by == marketer
    assert 'value="40"' in client.get(url).content.decode()


def test_a_bad_target_is_refused_and_nothing_is_saved(as_user, marketer):
    url = f"{reverse('reports:targets')}?year=2026"

    response = as_user(marketer).post(url, {"target_2026_11": "-5", "target_2026_12": "lots"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "A target cannot be negative." in page and "Give a whole number of MQLs." in page
    assert not MonthlyTarget.objects.exists()


def test_targets_per_team_feed_the_mql_target_report(as_user, marketer, team):
    client = as_user(marketer)
    client.post(f"{reverse('reports:targets')}?year=2026&team={team.pk}", {"target_2026_11": "40"})
    episodes(30, team=team)

    page = get(client, "reports:mql_target", team=team.pk).content.decode()

    assert kpi(page, "Target attainment") == "75%"
    assert kpi(get(client, "reports:mql_target").content.decode(), "Target attainment") == "—"


# ---------- query counts ----------


# Every page starts with: session, user, the user's role groups, the active teams
# and the reps (the filter form's choices). The rest is the metrics' own queries.
# Every report page adds its previous period, current period and trend buckets in one more
# query (pages.compare); the overview in two: every episode report's headlines, and the
# conversation rate's. A report made only of headline numbers (conversion, SLA compliance, the
# conversation rate; on the overview also the ignore rate's card) takes them from that query's
# current period: no query of its own.
COMPARISONS = 1
OVERVIEW_COMPARISONS = 2
# The counts of that query come from the rollup (these periods are whole UTC days, no
# event lies after the report's instant); medians and means from the episodes, one query more
# for the reports that show them (speed to lead; the overview's speed card).
SERIES_DURATIONS = 1
OVERVIEW_SERIES = OVERVIEW_COMPARISONS + SERIES_DURATIONS
# The MQL target's months: their MQLs from the rollup, then their targets.
MONTHS = 2
# Pacing: MQLs to date, the month's target, the leads in flight and history, the calendar.
PACING = 4
WATERFALL = 3
RESPONSE_EFFECT = 1
# session, user (with the viewer's profile: language and time zone), role groups, teams and reps
BASE = 5
PAGE_QUERIES = {
    # the ignore rate by rep from the rollup, the reps' names (the total is the reps' sum)
    "reports:ignore_rate": BASE + 2 + COMPARISONS,
    # the period's numbers are the series' (COMPARISONS)
    "reports:conversion": BASE + COMPARISONS,
    # totals, by rep
    "reports:speed_to_lead": BASE + SPEED_TOTALS + 1 + COMPARISONS + SERIES_DURATIONS,
    # the period's numbers are the series' (COMPARISONS)
    "reports:sla_compliance": BASE + COMPARISONS,
    # the counts, the notes
    "reports:rejection_reasons": BASE + SORT_MEMORY + REJECTIONS + 1 + COMPARISONS,
    # the period's numbers are the series' (COMPARISONS)
    "reports:conversation_rate": BASE + COMPARISONS,
    # MQLs per month (from the rollup), the months' targets
    # and the default SLA policy's calendar (business days to pro-rate a partial month)
    "reports:mql_target": BASE + MONTHS + 1 + PACING + COMPARISONS,
    # the cards: the speed headline, rejections by reason, MQL target and its business-day calendar;
    # the ignore rate (without the per-rep breakdown), conversion, SLA compliance and conversation
    # rate are the series' (OVERVIEW_COMPARISONS)
    "reports:overview": BASE + SPEED_HEADLINE + 1 + MONTHS + 1 + PACING + WATERFALL + RESPONSE_EFFECT + OVERVIEW_SERIES,
    # the waterfall: the totals, leads per cohort month, MQLs/SALs/SQLs per cohort month
    "reports:waterfall": BASE + WATERFALL + COMPARISONS,
    "reports:response_effect": BASE + RESPONSE_EFFECT + COMPARISONS,
}


@pytest.mark.parametrize("count", [1, 4])
@pytest.mark.parametrize("name", sorted(PAGE_QUERIES))
def test_report_page_query_count_does_not_grow_with_leads(
    as_user, marketer, november_data, django_assert_num_queries, name, count
):
    november_data(count)
    client = as_user(marketer)
    with django_assert_num_queries(PAGE_QUERIES[name]):
        response = get(client, name)
    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 4])
def test_drill_down_query_count_does_not_grow_with_leads(
    as_user, marketer, november_data, django_assert_num_queries, count
):
    november_data(count)
    client = as_user(marketer)
    # session, user (with the profile), role groups, teams, reps, the paginator's count, the page of episodes with lead, owner, reason
    with django_assert_num_queries(7):
        response = get(client, "reports:leads", metric="ignore_rate", bucket="mqls")
    assert response.content.decode().count("<tr>") == 1 + 3 * count


@pytest.mark.parametrize("count", [1, 4])
def test_rep_page_query_count_does_not_grow_with_leads(as_user, rep, november_data, django_assert_num_queries, count):
    november_data(count)
    client = as_user(rep)
    # session, user (with the profile), role groups, the teams they manage (none), the ignore rate by rep (with the total)
    # from the rollup and the rep's name, the previous period and trend
    with django_assert_num_queries(7):
        get(client, "reports:ignore_rate")
