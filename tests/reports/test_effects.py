"""The waterfall and the response-time effect against hand-computed numbers."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from leads.models import Lead, MqlEpisode, Stage
from reports import metrics
from reports.metrics import Filters, Period
from reports.pages.effects import effect_sentence

AS_OF = datetime(2026, 12, 15, tzinfo=UTC)
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
PARAMS = {"from": "2026-11-01", "to": "2026-11-30", "tz": "UTC", "as_of": AS_OF.isoformat()}

_leads = iter(range(1, 10_000))


def lead(created_at, **fields):
    n = next(_leads)
    return Lead.objects.create(
        name=f"W{n}", email=f"wf{n}@example.com", stage=Stage.LEAD, created_at=created_at, **fields
    )


def episode(mql_at, *, created_at=None, answered=None, accepted=None, qualified=None, **fields):
    return MqlEpisode.objects.create(
        lead=lead(created_at or mql_at - timedelta(days=1)),
        number=1,
        mql_at=mql_at,
        due_at=mql_at + timedelta(hours=1),
        first_follow_up_at=mql_at + answered if answered is not None else None,
        accepted_at=mql_at + accepted if accepted is not None else None,
        qualified_at=mql_at + qualified if qualified is not None else None,
        **fields,
    )


@pytest.fixture
def effect_data(db):
    day = datetime(2026, 11, 3, 9, tzinfo=UTC)
    # 10 answered within an hour (exactly an hour counts), 4 of them SQLs: 40%.
    for i in range(10):
        answer = timedelta(hours=1) if i == 0 else timedelta(minutes=20)
        episode(day + timedelta(hours=i), answered=answer, qualified=timedelta(days=3) if i < 4 else None)
    # 40 answered later, 5 of them SQLs: 12.5%.
    for i in range(40):
        episode(
            day + timedelta(days=1, hours=i),
            answered=timedelta(hours=5),
            qualified=timedelta(days=4) if i < 5 else None,
        )
    # Never answered, or answered after 'as of': in neither group.
    episode(day + timedelta(days=10))
    episode(day + timedelta(days=11), answered=timedelta(days=60))


def test_response_effect_compares_sql_rates_and_says_it_plainly(effect_data):
    result = metrics.response_effect(NOVEMBER, Filters(), as_of=AS_OF)
    assert (result.fast, result.fast_sqls, result.slow, result.slow_sqls) == (10, 4, 40, 5)
    assert result.fast_rate.percent == 40.0
    assert result.slow_rate.percent == 12.5
    assert result.times == pytest.approx(3.2)
    assert effect_sentence(result) == (
        "Answered within an hour, MQLs became SQLs 3.2 times as often (4 of 10, against 5 of 40 answered later)."
    )


def test_response_effect_json_and_page_with_links(api, client, marketer, effect_data):
    body = api(marketer).get(reverse("reports_api:response-time-effect"), PARAMS).json()
    assert body["times"] == pytest.approx(3.2)
    assert (body["fast_rate"]["percent"], body["slow_rate"]["percent"]) == (40.0, 12.5)
    follow = body["fast_sqls"]["leads_url"].split("/api/", 1)[1]
    assert api(marketer).get(f"/api/{follow}").json()["count"] == 4
    previous = {number["name"]: number for number in body["previous"]["numbers"]}
    assert previous["fast"]["value"] == 0
    client.force_login(marketer)
    page = client.get(reverse("reports:response_effect"), PARAMS).content.decode()
    assert "MQLs became SQLs 3.2 times as often" in page


def test_response_effect_with_nothing_to_compare_says_so(db):
    result = metrics.response_effect(NOVEMBER, Filters(), as_of=AS_OF)
    assert result.times is None
    assert effect_sentence(result).startswith("Not enough answered MQLs to compare")


@pytest.fixture
def waterfall_data(db):
    nov = datetime(2026, 11, 2, 9, tzinfo=UTC)
    # Leads created in November that never became MQLs.
    for _ in range(6):
        lead(nov)
    # Four MQLs of November: 1, 2, 3 and 4 days after their lead was created.
    # Accepted after 1, 2 and 5 hours; qualified 2 and 4 days after acceptance.
    episode(nov + timedelta(days=1), created_at=nov, accepted=timedelta(hours=1), qualified=timedelta(hours=1, days=2))
    episode(nov + timedelta(days=2), created_at=nov, accepted=timedelta(hours=2), qualified=timedelta(hours=2, days=4))
    episode(nov + timedelta(days=3), created_at=nov, accepted=timedelta(hours=5))
    episode(nov + timedelta(days=4), created_at=nov)
    # An October lead, MQL in October, accepted in November after 10 days.
    episode(
        datetime(2026, 10, 25, tzinfo=UTC), created_at=datetime(2026, 10, 20, tzinfo=UTC), accepted=timedelta(days=10)
    )


def test_waterfall_counts_steps_and_times_in_each_stage(waterfall_data):
    result = metrics.waterfall(NOVEMBER, Filters(), as_of=AS_OF)
    # 6 + 4 leads created in November; 4 MQLs; 4 acceptances (3 + October's); 2 qualifications.
    assert (result.leads, result.mqls, result.sals, result.sqls) == (10, 4, 4, 2)
    assert [rate.percent for _label, rate in result.steps] == [40.0, 100.0, 50.0]
    # Lead → MQL: 1, 2, 3, 4 days: median 2.5 days, p90 3.7 days.
    assert result.lead_time == (timedelta(days=2.5), timedelta(days=3.7))
    # MQL → SAL: 1 h, 2 h, 5 h, 10 days: median 3.5 h; p90 = 5 h + 0.7 × (240 h − 5 h) = 169.5 h.
    assert result.mql_time == (timedelta(hours=3.5), timedelta(hours=169.5))
    # SAL → SQL: 2 and 4 days: median 3 days, p90 3.8 days.
    assert result.sal_time == (timedelta(days=3), timedelta(days=3.8))


def test_waterfall_by_cohort_month_follows_each_months_leads(waterfall_data):
    result = metrics.waterfall(Period(date(2026, 10, 1), date(2026, 11, 30)), Filters(), as_of=AS_OF)
    cohorts = {c.month: (c.leads, c.mqls, c.sals, c.sqls) for c in result.cohorts}
    assert cohorts == {date(2026, 10, 1): (1, 1, 1, 0), date(2026, 11, 1): (10, 4, 3, 2)}


def test_waterfall_json_and_page(api, client, marketer, waterfall_data):
    body = api(marketer).get(reverse("reports_api:waterfall"), PARAMS).json()
    assert (body["leads"]["count"], body["mqls"]["count"], body["sals"]["count"], body["sqls"]["count"]) == (
        10,
        4,
        4,
        2,
    )
    assert body["stages"][0] == {
        "stage": "lead",
        "label": "Lead → MQL",
        "median_seconds": 2.5 * 86400,
        "p90_seconds": 3.7 * 86400,
    }
    assert body["cohorts"][0]["month"] == "2026-11-01"
    client.force_login(marketer)
    page = client.get(reverse("reports:waterfall"), PARAMS).content.decode()
    assert 'id="table-steps"' in page and 'id="table-cohorts"' in page
