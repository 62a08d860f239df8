"""Erasing a person changes no report: every JSON report answers byte for byte the same."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import URLPattern, reverse

from leads import transitions
from reports.api import urls as report_urls
from reports.models import MonthlyTarget
from tests.factories import make_lead

from .conftest import AS_OF, NOVEMBER

DRILL_DOWN = "leads"
# Every JSON report under /api/reports/; the drill-down lists people, so it is compared apart.
REPORTS = [
    pattern.name
    for pattern in report_urls.urlpatterns
    if isinstance(pattern, URLPattern) and pattern.name != DRILL_DOWN
]


def at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def jane(rep, marketer, admin, team):
    """One person in every report: rejected, recycled, then an MQL again, talked to, accepted and qualified."""
    MonthlyTarget.objects.create(month=date(2026, 11, 1), mql_target=10)
    lead = make_lead(
        by=marketer,
        now=at(2, 9),
        name="Jane Roe",
        email="jane.roe@example.com",
        phone="+49 30 1234567",
        company="Roe Consulting",
        job_title="CEO",
        source="webinar",
        campaign="spring",
        team=team,
    )
    lead = transitions.promote_to_mql(lead, by=marketer, note="Jane asked for a demo", now=at(2, 10))
    lead = transitions.reject_lead(lead, by=rep, reason="no-budget", note="Jane's budget is frozen", now=at(2, 10, 30))
    lead = transitions.recycle_lead(lead, by=marketer, note="Jane back in nurture", now=at(3, 9))
    lead = transitions.promote_to_mql(lead, by=marketer, now=at(4, 10))
    lead = transitions.log_activity(lead, by=rep, kind="conversation", note="Jane: 20 seats", now=at(4, 10, 20))
    lead = transitions.accept_lead(lead, by=rep, now=at(4, 11))
    lead = transitions.qualify_lead(lead, by=rep, note="Jane signs in Q1", now=at(5, 9))
    return lead


def report_bytes(client, rep, team):
    """The raw bytes of every report, unfiltered and filtered to the person's source, rep and team."""
    variants = [{}, {"source": "webinar", "campaign": "spring"}, {"rep": rep.pk}, {"team": team.pk}, {"view": "cohort"}]
    answers = {}
    for name in REPORTS:
        for extra in variants:
            response = client.get(reverse(f"reports_api:{name}"), {**NOVEMBER, "as_of": AS_OF.isoformat(), **extra})
            assert response.status_code == 200, (name, extra, response.content)
            answers[name, tuple(sorted(extra.items()))] = response.content
    return answers


def drill_down_rows(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_every_report_answers_byte_for_byte_the_same_after_erasing_a_person_in_it(client, admin, rep, team, jane):
    client.force_login(admin)
    before = report_bytes(client, rep, team)
    overview = client.get(reverse("reports_api:overview"), {**NOVEMBER, "as_of": AS_OF.isoformat()}).json()
    # The person is in the numbers: two MQL episodes, one rejection, one SQL, one conversation.
    assert overview["mqls"]["count"] == 2
    assert overview["rejections"]["count"] == 1
    assert overview["mql_to_sql"]["numerator"] == 1
    assert overview["mql_conversation_rate"]["numerator"] == 1

    transitions.erase_lead(jane, by=admin, now=AS_OF - timedelta(days=1))

    after = report_bytes(client, rep, team)
    assert set(after) == set(before) and len(REPORTS) >= 8
    for key, content in before.items():
        assert after[key] == content, key


def test_drill_downs_list_the_same_episodes_after_erasure_without_the_person(client, admin, rep, team, jane):
    client.force_login(admin)
    body = client.get(reverse("reports_api:rejection-reasons"), {**NOVEMBER, "as_of": AS_OF.isoformat()}).json()
    conversion = client.get(reverse("reports_api:conversion"), {**NOVEMBER, "as_of": AS_OF.isoformat()}).json()
    urls = [body["reasons"][0]["leads_url"], conversion["mqls"]["leads_url"]]
    before = [drill_down_rows(client, url) for url in urls]
    assert before[0][0]["name"] == "Jane Roe" and before[0][0]["rejection_note"] == "Jane's budget is frozen"

    transitions.erase_lead(jane, by=admin, now=AS_OF - timedelta(days=1))

    personal = {"name": "Erased person", "company": "", "rejection_note": None}
    for rows_before, rows_after in zip(before, [drill_down_rows(client, url) for url in urls], strict=True):
        assert len(rows_after) == len(rows_before)
        for row_before, row_after in zip(rows_before, rows_after, strict=True):
            assert row_after["name"] == personal["name"] and row_after["company"] == ""
            assert row_after["rejection_note"] in ("", "[erased]")
            facts = {key for key in row_before if key not in ("name", "company", "rejection_note")}
            assert {k: row_after[k] for k in facts} == {k: row_before[k] for k in facts}
