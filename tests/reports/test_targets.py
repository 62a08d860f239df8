"""Targets per month overall, per team and per rep, pro-rated by business days for part of a month."""

from datetime import UTC, date, datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from leads.models import BusinessHours, Holiday, Lead, MqlEpisode, SLAPolicy, Stage
from reports import metrics
from reports.metrics import Filters, Period
from reports.metrics.targets import business_days
from reports.models import MonthlyTarget, TrackedMonthlyTarget

AS_OF = datetime(2026, 12, 15, tzinfo=UTC)
NOVEMBER = date(2026, 11, 1)
LATE_NOVEMBER = {"from": "2026-11-20", "to": "2026-11-30", "tz": "UTC", "as_of": AS_OF.isoformat()}

_leads = iter(range(1, 10_000))


def mqls(count, *, day, **fields):
    for _ in range(count):
        n = next(_leads)
        lead = Lead.objects.create(
            name=f"T{n}",
            email=f"target{n}@example.com",
            stage=Stage.LEAD,
            owner=fields.get("owner"),
            team=fields.get("team"),
        )
        MqlEpisode.objects.create(lead=lead, number=1, mql_at=datetime(2026, 11, day, 10, tzinfo=UTC), **fields)


def test_november_2026_has_21_business_days_and_its_last_eleven_days_seven(db):
    days = business_days(date(2026, 11, 1), date(2026, 11, 30))
    assert days.count(date(2026, 11, 1), date(2026, 11, 30)) == 21
    # Friday 20, Monday 23 to Friday 27, Monday 30.
    assert days.count(date(2026, 11, 20), date(2026, 11, 30)) == 7


def test_part_of_a_month_is_compared_with_its_target_pro_rated_by_business_days(db):
    # The case: 20 to 30 November showed 29 of 80 = 36%; 7 of 21 business days → 26.67.
    MonthlyTarget.objects.create(month=NOVEMBER, mql_target=80)
    mqls(29, day=24)
    result = metrics.mql_target(Period(date(2026, 11, 20), date(2026, 11, 30)), Filters(), as_of=AS_OF)
    (month,) = result.months
    assert (month.full_target, month.covered_days, month.month_days) == (80, 7, 21)
    assert month.target == pytest.approx(80 * 7 / 21)
    assert month.attainment.percent == pytest.approx(108.75)
    assert result.partial_months == (month,)


def test_holidays_of_the_default_calendar_are_not_business_days(db):
    hours = BusinessHours.objects.create(name="Office", time_zone="UTC")
    Holiday.objects.create(business_hours=hours, date=date(2026, 11, 26), name="Thanksgiving")
    SLAPolicy.objects.filter(is_default=True).update(business_hours=hours)
    MonthlyTarget.objects.create(month=NOVEMBER, mql_target=80)
    mqls(29, day=24)
    (month,) = metrics.mql_target(Period(date(2026, 11, 20), date(2026, 11, 30)), Filters(), as_of=AS_OF).months
    # 20 business days in November, 6 of them from the 20th: 80 × 6 ÷ 20 = 24.
    assert (month.covered_days, month.month_days, month.target) == (6, 20, 24.0)
    assert month.attainment.percent == pytest.approx(29 / 24 * 100)


def test_whole_months_keep_their_target(db):
    MonthlyTarget.objects.create(month=NOVEMBER, mql_target=80)
    mqls(40, day=3)
    (month,) = metrics.mql_target(Period(date(2026, 11, 1), date(2026, 11, 30)), Filters(), as_of=AS_OF).months
    assert (month.target, month.partial) == (80, False)
    assert month.attainment.percent == 50.0


def test_a_rep_sees_the_reps_own_target_or_none(api, rep, team, marketer):
    MonthlyTarget.objects.create(month=NOVEMBER, mql_target=80)
    MonthlyTarget.objects.create(month=NOVEMBER, team=team, mql_target=40)
    mqls(7, day=24, owner=rep, team=team)
    body = api(rep).get(reverse("reports_api:mql-target"), LATE_NOVEMBER).json()
    assert body["target_scope"] == "rep"
    assert body["months"][0]["target"] is None
    assert body["attainment"]["percent"] is None
    MonthlyTarget.objects.create(month=NOVEMBER, rep=rep, mql_target=21)
    body = api(rep).get(reverse("reports_api:mql-target"), LATE_NOVEMBER).json()
    # 21 × 7 ÷ 21 = 7 pro-rated; 7 MQLs: 100%.
    assert body["months"][0]["target"] == 7.0
    assert body["months"][0]["full_target"] == 21
    assert body["months"][0]["pro_rated"] is True
    assert body["attainment"]["percent"] == 100.0
    # The team's report compares with the team's target: 40 × 7 ÷ 21 = 13.33.
    body = api(marketer).get(reverse("reports_api:mql-target"), {**LATE_NOVEMBER, "team": team.pk}).json()
    assert (body["target_scope"], body["months"][0]["target"]) == ("team", 13.33)


def test_the_page_says_the_target_is_pro_rated(client, marketer):
    MonthlyTarget.objects.create(month=NOVEMBER, mql_target=80)
    mqls(29, day=24)
    client.force_login(marketer)
    page = client.get(reverse("reports:mql_target"), LATE_NOVEMBER).content.decode()
    assert "the period covers 7 of its 21 business days, so its target of 80 is pro-rated to 26.7" in page
    assert "108.8%" in page


def test_a_target_is_for_a_team_or_a_rep_never_both(rep, team):
    MonthlyTarget.objects.create(month=NOVEMBER, rep=rep, mql_target=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyTarget.objects.create(month=NOVEMBER, rep=rep, mql_target=12)
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyTarget.objects.create(month=NOVEMBER, rep=rep, team=team, mql_target=12)
    # The rep's target is not the overall one: an overall target for the month may still be set.
    MonthlyTarget.objects.create(month=NOVEMBER, mql_target=80)


def test_rep_targets_are_in_the_audit_log(rep):
    target = MonthlyTarget.objects.create(month=NOVEMBER, rep=rep, mql_target=10)
    events = TrackedMonthlyTarget.pgh_event_model.objects.filter(pgh_obj_id=target.pk)
    assert [(event.pgh_label, event.rep_id) for event in events] == [("created", rep.pk)]


def test_marketer_sets_a_reps_own_target_on_the_targets_page(client, marketer, rep, team):
    client.force_login(marketer)
    url = f"{reverse('reports:targets')}?year=2026&rep={rep.pk}"
    response = client.post(url, {"target_2026_11": "21"})
    assert response.status_code == 302
    target = MonthlyTarget.objects.get(month=NOVEMBER, rep=rep)
    assert (target.team, target.mql_target) == (None, 21)
    assert not MonthlyTarget.objects.filter(rep__isnull=True).exists()
    assert "Rita Rep" in client.get(url).content.decode()
    # A team and a rep at once: refused, nothing saved.
    both = f"{reverse('reports:targets')}?year=2026&rep={rep.pk}&team={team.pk}"
    assert client.post(both, {"target_2026_12": "5"}).status_code == 400
    assert "not both" in client.get(both).content.decode()
    assert not MonthlyTarget.objects.filter(month=date(2026, 12, 1)).exists()


# ---------- pacing ----------

MID_NOVEMBER = datetime(2026, 11, 18, 12, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def pacing_data(db):
    MonthlyTarget.objects.create(month=NOVEMBER, mql_target=80)
    mqls(26, day=10)
    # In flight: created this month, not (yet) an MQL.
    for n in range(10):
        Lead.objects.create(
            name=f"F{n}", email=f"flight{n}@example.com", stage=Stage.LEAD, created_at=datetime(2026, 11, 5, tzinfo=UTC)
        )
    # History: 20 leads of October, 5 of them became MQLs (and were recycled): 25%. A lead's episode
    # number counts its episodes, as the transitions keep it.
    for n in range(20):
        lead = Lead.objects.create(
            name=f"H{n}",
            email=f"history{n}@example.com",
            stage=Stage.LEAD,
            created_at=datetime(2026, 10, 10, tzinfo=UTC),
            mql_episode=1 if n < 5 else 0,
        )
        if n < 5:
            MqlEpisode.objects.create(lead=lead, number=1, mql_at=datetime(2026, 10, 12, tzinfo=UTC))


def test_pacing_of_the_month_under_way(pacing_data):
    pacing = metrics.mql_pacing(Filters(), today=date(2026, 11, 18), tz="UTC", as_of=MID_NOVEMBER)
    # 21 business days in November, 13 gone by Wednesday 18th, 8 left.
    assert (pacing.business_days_gone, pacing.remaining_business_days) == (13, 8)
    assert pacing.mqls == 26
    assert pacing.target_to_date == pytest.approx(80 * 13 / 21)  # 49.52
    assert pacing.behind is True
    assert pacing.needed_per_day == pytest.approx((80 - 26) / 8)  # 6.75
    assert (pacing.in_flight, pacing.conversion.percent) == (10, 25.0)
    # Run rate 26 ÷ 13 × 21 = 42, plus 10 in flight × 25% = 44.5.
    assert pacing.projected == pytest.approx(44.5)


def test_pacing_card_and_the_overview_flag_a_month_behind_pace(api, client, marketer, pacing_data):
    params = {"from": "2026-11-01", "to": "2026-11-18", "tz": "UTC", "as_of": MID_NOVEMBER.isoformat()}
    body = api(marketer).get(reverse("reports_api:mql-target"), params).json()
    assert body["pacing"]["behind"] is True
    assert (body["pacing"]["projected"], body["pacing"]["needed_per_business_day"]) == (44.5, 6.75)
    assert body["pacing"]["target_to_date"] == 49.52
    client.force_login(marketer)
    page = client.get(reverse("reports:mql_target"), params).content.decode()
    assert (
        "November is behind pace: 26 MQLs to date against 49.5 pro-rated; 6.8 needed per remaining business day."
        in page
    )
    assert 'id="table-pacing"' in page
    overview = client.get(reverse("reports:overview"), params).content.decode()
    assert "November is behind pace" in overview


def test_a_month_without_a_target_has_no_pace_verdict(api, rep):
    params = {"from": "2026-11-01", "to": "2026-11-18", "tz": "UTC", "as_of": MID_NOVEMBER.isoformat()}
    body = api(rep).get(reverse("reports_api:mql-target"), params).json()
    assert body["pacing"]["target"] is None
    assert body["pacing"]["behind"] is False
    assert body["pacing"]["needed_per_business_day"] is None


def test_pacing_at_the_edge_of_the_years_is_no_error(api, marketer):
    params = {"from": "2000-01-01", "to": "2000-01-05", "tz": "UTC", "as_of": "2000-01-03T10:00:00+00:00"}
    body = api(marketer).get(reverse("reports_api:mql-target"), params).json()
    assert body["pacing"]["month"] == "2000-01-01"
    # 23:30 UTC on the last day of 2100 is already 2101 in Kiritimati.
    params = {
        "from": "2100-12-01",
        "to": "2100-12-31",
        "tz": "Pacific/Kiritimati",
        "as_of": "2100-12-31T23:30:00+00:00",
    }
    response = api(marketer).get(reverse("reports_api:mql-target"), params)
    assert response.status_code == 200
    assert response.json()["pacing"] is None
