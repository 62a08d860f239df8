"""The reports API: the same numbers as the pages, as JSON, with a leads_url per number."""

import csv
import io
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from leads import transitions
from leads.models import Stage
from reports.models import MonthlyTarget
from tests.factories import lead_in_stage, make_team, make_user

from .conftest import AS_OF, NOVEMBER, REJECTIONS, SORT_MEMORY, SPEED_HEADLINE, SPEED_TOTALS, episodes

PERIOD = {**NOVEMBER, "as_of": AS_OF.isoformat()}
ENDPOINTS = [
    "overview",
    "ignore-rate",
    "conversion",
    "speed-to-lead",
    "sla-compliance",
    "rejection-reasons",
    "conversation-rate",
    "mql-target",
]


def fetch(client, endpoint, **params):
    response = client.get(reverse(f"reports_api:{endpoint}"), {**PERIOD, **params})
    return response


def ok(response):
    assert response.status_code == 200, response.content
    return response.json()


def follow(client, url):
    """GET a leads_url (absolute) with the same client."""
    parts = urlsplit(url)
    return ok(client.get(f"{parts.path}?{parts.query}"))


# ---------- the worked examples ----------


def test_ignore_rate_is_25_percent_for_200_mqls_with_50_ignored(api, marketer):
    episodes(150, first_follow_up_at=lambda t: t + timedelta(minutes=30))
    episodes(50)

    body = ok(fetch(api(marketer), "ignore-rate"))

    assert body["ignore_rate"]["percent"] == 25.0
    assert (body["ignore_rate"]["numerator"], body["ignore_rate"]["denominator"]) == (50, 200)
    assert body["mqls"]["count"] == 200 and body["awaiting"]["count"] == 0
    assert body["formula"].startswith("MQLs never followed up although their SLA window has expired")
    assert body["period"] == {"from": "2026-11-01", "to": "2026-11-30", "tz": "UTC", "days": 30}
    assert body["filters"] == {"source": "", "campaign": "", "team": None, "rep": None}
    assert body["as_of"] == "2026-12-15T00:00:00Z"


def test_a_late_follow_up_counts_as_an_sla_miss_not_as_ignored(api, marketer):
    episodes(3, first_follow_up_at=lambda t: t + timedelta(hours=5))
    episodes(1, first_follow_up_at=lambda t: t + timedelta(minutes=10))
    client = api(marketer)

    assert ok(fetch(client, "ignore-rate"))["ignored"]["count"] == 0
    sla = ok(fetch(client, "sla-compliance"))
    assert sla["compliance"]["percent"] == 25.0
    assert sla["late"]["count"] == 3


def test_mql_to_sql_is_40_percent_for_500_mqls_with_200_sqls(api, marketer):
    episodes(200, accepted_at=lambda t: t + timedelta(hours=1), qualified_at=lambda t: t + timedelta(days=2))
    episodes(300, step=timedelta(minutes=3))

    body = ok(fetch(api(marketer), "conversion", view="cohort"))

    assert body["mql_to_sql"]["percent"] == 40.0
    assert body["mql_to_sql"]["formula"] == "SQLs ÷ MQLs × 100"
    assert body["view"] == "cohort"


def test_speed_to_lead_reports_seconds_and_flags_a_missed_sla(api, marketer):
    for days in (2, 3, 4):
        episodes(1, due_at=lambda t: t + timedelta(days=2), first_follow_up_at=lambda t, d=days: t + timedelta(days=d))

    body = ok(fetch(api(marketer), "speed-to-lead"))

    assert body["mean_seconds"] == 3 * 86400
    assert body["typical_window_seconds"] == 2 * 86400
    assert body["misses_sla"] is True
    assert body["within_sla"]["numerator"] == 1


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_empty_period_has_null_percentages_not_zero(api, marketer, endpoint):
    body = ok(fetch(api(marketer), endpoint))

    def percents(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "percent":
                    yield item
                yield from percents(item)
        elif isinstance(value, list):
            for item in value:
                yield from percents(item)

    found = list(percents(body))
    assert all(value is None for value in found), found


def test_overview_gives_every_headline(api, marketer):
    episodes(150, first_follow_up_at=lambda t: t + timedelta(minutes=30))
    episodes(50)

    body = ok(fetch(api(marketer), "overview"))

    assert body["ignore_rate"]["percent"] == 25.0
    assert body["mqls"]["count"] == 200
    assert body["sla_compliance"]["percent"] == 150 / 200 * 100
    assert body["median_response_seconds"] == 1800


# ---------- leads_url ----------


def test_every_leads_url_lists_as_many_leads_as_its_number(api, marketer, rep, other_rep, team):
    episodes(5, owner=rep, team=team, first_follow_up_at=lambda t: t + timedelta(minutes=20))
    episodes(3, owner=other_rep, team=team, first_follow_up_at=lambda t: t + timedelta(hours=3))
    episodes(2, owner=rep, team=team)
    client = api(marketer)

    checked = 0
    for endpoint in ("ignore-rate", "sla-compliance", "conversion"):
        body = ok(fetch(client, endpoint))
        for value in body.values():
            if isinstance(value, dict) and "count" in value and "leads_url" in value:
                assert follow(client, value["leads_url"])["count"] == value["count"], value
                checked += 1
    speed = ok(fetch(client, "speed-to-lead"))
    for band in speed["bands"]:
        assert follow(client, band["leads_url"])["count"] == band["count"]
        checked += 1
    assert checked >= 15


def test_every_reps_leads_url_lists_their_leads_and_unassigned_mqls_have_none(api, marketer, november_data):
    november_data(2)
    episodes(3, first_follow_up_at=lambda t: t + timedelta(hours=2))  # nobody owns these
    client = api(marketer)

    checked = 0
    for endpoint, names in (
        ("ignore-rate", ("mqls", "ignored", "awaiting", "followed_up")),
        ("speed-to-lead", ("responded",)),
    ):
        by_rep = ok(fetch(client, endpoint))["by_rep"]
        assert "Unassigned" in [row["name"] for row in by_rep]
        for row in by_rep:
            for name in names:
                if row["rep"] is None:
                    assert row[name]["leads_url"] is None
                else:
                    assert follow(client, row[name]["leads_url"])["count"] == row[name]["count"]
                    checked += 1
    assert checked >= 2 * 4 + 1


def test_the_json_twin_gives_the_rows_its_page_exports(api, as_user, marketer, november_data):
    november_data(2)
    episodes(3)
    body = ok(fetch(api(marketer), "ignore-rate"))
    page = as_user(marketer).get(reverse("reports:ignore_rate"), {**PERIOD, "format": "csv", "table": "by-rep"})

    exported = list(csv.reader(io.StringIO(page.content.decode())))[1:]

    assert exported == [
        [
            row["name"],
            *(str(row[name]["count"]) for name in ("mqls", "ignored", "awaiting", "followed_up")),
            f"{row['ignore_rate']['percent']:.2f}",
        ]
        for row in body["by_rep"]
    ]
    assert len(exported) == 3


def test_the_overview_json_gives_every_card_of_the_overview_page(api, marketer):
    MonthlyTarget.objects.create(month=date(2026, 11, 1), mql_target=400)
    episodes(150, first_follow_up_at=lambda t: t + timedelta(minutes=30))
    episodes(50)

    body = ok(fetch(api(marketer), "overview"))

    assert body["mql_target_attainment"] == {
        "numerator": 200,
        "denominator": 400,
        "percent": 50.0,
        "formula": "MQLs produced per month ÷ the month's target (pro-rated by business days for part of a month) × 100",
        "leads_url": None,
    }


def test_leads_list_has_the_rows_a_client_needs(api, marketer, rep, team):
    now = AS_OF - timedelta(days=30)
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team, now=now, name="Jane Cooper", company="Northwind")
    transitions.reject_lead(lead, by=rep, reason="personal-email", note="gmail", now=now + timedelta(minutes=3))
    client = api(marketer)
    reasons = ok(fetch(client, "rejection-reasons"))["reasons"]

    listed = follow(client, reasons[0]["leads_url"])

    assert listed["count"] == 1 and listed["metric"] == "rejection_reasons"
    (row,) = listed["results"]
    assert row["name"] == "Jane Cooper" and row["company"] == "Northwind"
    assert row["owner"] == rep.pk and row["owner_name"] == "Rita Rep"
    assert row["outcome"] == "Rejected"
    assert row["rejection_reason"] == "personal-email" and row["rejection_note"] == "gmail"
    assert row["lead_url"].endswith(f"/api/leads/{lead.pk}/")


def test_conversation_rate_lists_contacted_leads(api, marketer, rep, team):
    now = AS_OF - timedelta(days=30)
    lead = lead_in_stage(Stage.SAL, owner=rep, team=team, now=now)
    transitions.log_activity(lead, by=rep, kind="conversation", now=now + timedelta(minutes=1))
    client = api(marketer)

    body = ok(fetch(client, "conversation-rate"))
    listed = follow(client, body["mql"]["conversations"]["leads_url"])

    assert body["mql"]["rate"]["percent"] == 100.0
    assert listed["count"] == 1
    assert listed["results"][0]["had_conversation"] is True


# ---------- role scoping ----------


def test_a_rep_gets_only_their_own_numbers(api, rep, other_rep, team):
    episodes(4, owner=rep, team=team)
    episodes(6, owner=other_rep, team=team)

    body = ok(fetch(api(rep), "ignore-rate"))

    assert body["mqls"]["count"] == 4
    assert body["filters"]["rep"] == rep.pk
    response = fetch(api(rep), "ignore-rate", rep=other_rep.pk)
    assert response.status_code == 400
    assert response.json() == {"rep": ["You can see only your own numbers."]}


def test_a_manager_gets_their_team_and_a_400_for_another(api, manager, rep, team):
    elsewhere = make_team("South")
    episodes(3, owner=rep, team=team)
    episodes(5, team=elsewhere)

    body = ok(fetch(api(manager), "ignore-rate"))
    assert body["mqls"]["count"] == 3 and body["filters"]["team"] == team.pk

    response = fetch(api(manager), "ignore-rate", team=elsewhere.pk)
    assert response.status_code == 400
    assert response.json() == {"team": ["You can see reports only for the teams you manage."]}


def test_anonymous_clients_get_401_and_roleless_users_403(api, db):
    assert fetch(APIClient(), "overview").status_code == 401
    assert fetch(api(make_user("nobody")), "overview").status_code == 403


# ---------- bad input ----------


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        (
            {"from": "2026-11-30", "to": "2026-11-01"},
            {"to": ["The period ends before it starts: 'to' must be on or after 'from'."]},
        ),
        (
            {"from": "2020-01-01", "to": "2026-01-01"},
            {"to": ["The period is 2193 days long; reports cover at most 731 days (two years)."]},
        ),
        (
            {"from": "1900-01-01", "to": "1900-01-02"},
            {"from": ["'from' must be between 2000 and 2100, got 1900-01-01."]},
        ),
        ({"from": "2026-02-30"}, {"from": ["Enter a date as YYYY-MM-DD."]}),
        ({"to": "30.11.2026"}, {"to": ["Enter a date as YYYY-MM-DD."]}),
        ({"tz": "Mars/Olympus"}, {"tz": ["Unknown time zone 'Mars/Olympus'."]}),
        ({"view": "weekly"}, {"view": ["Choose 'period' or 'cohort'."]}),
        ({"team": "99999999999999999999999"}, {"team": ["Unknown team."]}),
        ({"rep": "99999999"}, {"rep": ["Unknown rep."]}),
        ({"as_of": "3000-01-01T00:00:00Z"}, {"as_of": ["'as_of' must be between 2000 and 2100, got 3000-01-01."]}),
    ],
)
@pytest.mark.parametrize("endpoint", ["ignore-rate", "overview"])
def test_absurd_periods_get_a_400_with_a_message_per_field(api, marketer, params, errors, endpoint):
    response = fetch(api(marketer), endpoint, **params)

    assert response.status_code == 400
    assert response.json() == errors


def test_leads_list_refuses_an_unknown_number_or_page(api, marketer):
    client = api(marketer)
    url = reverse("reports_api:leads")

    response = client.get(url, {**PERIOD, "metric": "ignore_rate", "bucket": "sqls"})
    assert response.status_code == 400
    assert "bucket" in response.json()
    assert client.get(url, {**PERIOD, "metric": "ignore_rate", "bucket": "mqls", "page": 9}).status_code == 404
    assert client.get(url, {**PERIOD, "metric": "ignore_rate", "bucket": "mqls", "page_size": 0}).status_code == 400


def test_schema_documents_every_report_endpoint_with_its_parameters_and_errors(api, db):
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()

    for endpoint in [*ENDPOINTS, "leads"]:
        operation = schema["paths"][f"/api/reports/{endpoint}/"]["get"]
        assert {"200", "400", "401", "403"} <= set(operation["responses"]), endpoint
        names = {parameter["name"] for parameter in operation["parameters"]}
        assert {"from", "to", "view", "as_of", "tz", "source", "campaign", "team", "rep"} <= names, endpoint


# ---------- query counts ----------


# Every endpoint starts with one query: the token with its user and the user's role groups
# (TOKEN; the form's team and rep choices are read only to check a team or rep filter, and
# these calls have none). The rest is the queries of the report its page builds (PAGE_QUERIES in
# test_views.py), less the rejection notes, which only the page lists.
# Every report adds its previous period, current period and trend buckets in one more query
# (pages.compare); the overview in two: every episode report's headlines, and the conversation rate's.
# A report made only of headline numbers (conversion, SLA compliance, the conversation rate; on the
# overview also the ignore rate's card) takes them from that query's current period: no query of its own.
TOKEN = 1
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
ENDPOINT_QUERIES = {
    # the ignore rate by rep from the rollup, the reps' names (the total is the reps' sum)
    "ignore-rate": TOKEN + 2 + COMPARISONS,
    # the period's numbers are the series' (COMPARISONS)
    "conversion": TOKEN + COMPARISONS,
    "sla-compliance": TOKEN + COMPARISONS,
    "conversation-rate": TOKEN + COMPARISONS,
    # totals, by rep
    "speed-to-lead": TOKEN + SPEED_TOTALS + 1 + COMPARISONS + SERIES_DURATIONS,
    "rejection-reasons": TOKEN + SORT_MEMORY + REJECTIONS + COMPARISONS,
    # MQLs per month (from the rollup), the months' targets
    # and the default SLA policy's calendar (business days to pro-rate a partial month)
    "mql-target": TOKEN + MONTHS + 1 + PACING + COMPARISONS,
    # the overview's cards: the speed headline, rejections by reason, and the MQL target (one more
    # than before: the JSON now gives its attainment too) with its business-day calendar; the
    # ignore rate, conversion, SLA compliance and conversation rate are the series' (OVERVIEW_COMPARISONS)
    "overview": TOKEN + SPEED_HEADLINE + 1 + MONTHS + 1 + PACING + WATERFALL + RESPONSE_EFFECT + OVERVIEW_SERIES,
    # the waterfall: the totals, leads per cohort month, MQLs/SALs/SQLs per cohort month
    "waterfall": TOKEN + WATERFALL + COMPARISONS,
    # one aggregate (from the rollup)
    "response-time-effect": TOKEN + RESPONSE_EFFECT + COMPARISONS,
}


@pytest.mark.parametrize("count", [1, 4])
@pytest.mark.parametrize("endpoint", sorted(ENDPOINT_QUERIES))
def test_endpoint_query_count_does_not_grow_with_leads(
    api, marketer, november_data, django_assert_num_queries, endpoint, count
):
    november_data(count)
    client = api(marketer)
    with django_assert_num_queries(ENDPOINT_QUERIES[endpoint]):
        ok(fetch(client, endpoint))


@pytest.mark.parametrize("count", [1, 4])
def test_the_overview_breakdown_adds_two_queries(api, marketer, november_data, django_assert_num_queries, count):
    november_data(count)
    client = api(marketer)
    # every episode report's headlines per rep, and the conversation rate's
    with django_assert_num_queries(ENDPOINT_QUERIES["overview"] + 2):
        body = ok(fetch(client, "overview", by="rep"))
    assert body["breakdown"]["by"] == "rep"


@pytest.mark.parametrize("count", [1, 4])
def test_a_team_or_rep_filter_reads_its_choices_once(
    api, marketer, rep, team, november_data, django_assert_num_queries, count
):
    november_data(count)
    client = api(marketer)
    # token with user and role groups, the rep (or team) choices to check the filter against, the
    # counts by rep from the rollup and the rep's name, the previous period and trend
    with django_assert_num_queries(5):
        body = ok(fetch(client, "ignore-rate", rep=rep.pk))
    assert body["mqls"]["count"] == 2 * count
    # a team's split by rep is not among the rollup's totals: one aggregate over the episodes
    with django_assert_num_queries(4):
        body = ok(fetch(client, "ignore-rate", team=team.pk))
    assert body["mqls"]["count"] == 3 * count


@pytest.mark.parametrize("count", [1, 4])
def test_leads_list_query_count_does_not_grow_with_leads(
    api, marketer, november_data, django_assert_num_queries, count
):
    november_data(count)
    client = api(marketer)
    # token with user and role groups, the count, the page of episodes with lead, owner and reason
    with django_assert_num_queries(3):
        body = ok(client.get(reverse("reports_api:leads"), {**PERIOD, "metric": "ignore_rate", "bucket": "mqls"}))
    assert body["count"] == len(body["results"]) == 3 * count
