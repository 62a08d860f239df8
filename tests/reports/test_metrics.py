from datetime import UTC, date, datetime, timedelta

import pytest

from leads import transitions
from leads.models import Lead, MqlEpisode, Stage
from reports import metrics
from reports.metrics import Filters, Period, ReportInputError

from ..factories import lead_in_stage, make_lead

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
AS_OF = datetime(2026, 12, 15, tzinfo=UTC)
NO_FILTERS = Filters()


def episodes(count, *, start=datetime(2026, 11, 2, 9, tzinfo=UTC), step=timedelta(minutes=7), **fields):
    """Bulk MQL episodes (each on its own lead) for the big worked examples."""
    leads = Lead.objects.bulk_create(
        Lead(name=f"L{i}", email=f"bulk{i}-{id(fields)}-{count}@example.com", stage=Stage.LEAD) for i in range(count)
    )
    rows = []
    for i, lead in enumerate(leads):
        mql_at = start + i * step
        row = {"lead": lead, "number": 1, "mql_at": mql_at, "due_at": mql_at + timedelta(hours=1)}
        for key, value in fields.items():
            row[key] = value(mql_at) if callable(value) else value
        rows.append(MqlEpisode(**row))
    return MqlEpisode.objects.bulk_create(rows)


def test_ignore_rate_worked_example_200_mqls_50_ignored_is_25_percent(db):
    episodes(150, first_follow_up_at=lambda t: t + timedelta(minutes=30))
    episodes(50)  # never followed up, windows long expired by AS_OF
    result = metrics.ignore_rate(NOVEMBER, NO_FILTERS, as_of=AS_OF)
    assert (result.mqls, result.ignored) == (200, 50)
    assert result.rate.percent == 25.0


def test_late_follow_up_is_an_sla_miss_not_ignored(db):
    episodes(3, first_follow_up_at=lambda t: t + timedelta(hours=5))
    episodes(1, first_follow_up_at=lambda t: t + timedelta(minutes=10))
    ignore = metrics.ignore_rate(NOVEMBER, NO_FILTERS, as_of=AS_OF)
    assert ignore.ignored == 0
    assert ignore.rate.percent == 0.0
    compliance = metrics.sla_compliance(NOVEMBER, NO_FILTERS, as_of=AS_OF)
    assert (compliance.closed, compliance.within, compliance.late) == (4, 1, 3)
    assert compliance.rate.percent == 25.0


def test_mqls_inside_their_window_are_awaiting_response_not_ignored(db):
    as_of = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    episodes(4, step=timedelta(minutes=1))  # due 10:00-10:03
    result = metrics.ignore_rate(NOVEMBER, NO_FILTERS, as_of=as_of)
    assert (result.mqls, result.ignored, result.awaiting) == (4, 0, 4)
    later = metrics.ignore_rate(NOVEMBER, NO_FILTERS, as_of=as_of + timedelta(minutes=31, seconds=30))
    assert (later.ignored, later.awaiting) == (2, 2)


def test_mql_to_sql_worked_example_500_mqls_200_sqls_is_40_percent(db):
    episodes(200, accepted_at=lambda t: t + timedelta(hours=1), qualified_at=lambda t: t + timedelta(days=2))
    episodes(300, step=timedelta(minutes=3))
    result = metrics.conversion(NOVEMBER, NO_FILTERS, view="cohort", as_of=AS_OF)
    assert (result.mqls, result.sals, result.sqls) == (500, 200, 200)
    assert result.mql_to_sql.percent == 40.0
    assert result.mql_to_sal.percent == 40.0


def test_period_view_counts_events_inside_the_period_cohort_follows_the_mqls(db):
    # MQL in October, accepted in November; MQL in November, qualified in December.
    episodes(1, start=datetime(2026, 10, 30, tzinfo=UTC), accepted_at=lambda t: datetime(2026, 11, 3, tzinfo=UTC))
    episodes(
        1,
        start=datetime(2026, 11, 20, tzinfo=UTC),
        accepted_at=lambda t: t + timedelta(hours=1),
        qualified_at=lambda t: datetime(2026, 12, 2, tzinfo=UTC),
    )
    period = metrics.conversion(NOVEMBER, NO_FILTERS, view="period", as_of=AS_OF)
    assert (period.mqls, period.sals, period.sqls) == (1, 2, 0)
    cohort = metrics.conversion(NOVEMBER, NO_FILTERS, view="cohort", as_of=AS_OF)
    assert (cohort.mqls, cohort.sals, cohort.sqls) == (1, 1, 1)


def test_speed_to_lead_with_two_day_sla_and_three_day_mean_misses_the_sla(db):
    start = datetime(2026, 11, 2, tzinfo=UTC)
    for days in (2, 3, 4):
        episodes(
            1,
            start=start,
            due_at=lambda t: t + timedelta(days=2),
            first_follow_up_at=lambda t, d=days: t + timedelta(days=d),
        )
    result = metrics.speed_to_lead(NOVEMBER, NO_FILTERS, as_of=AS_OF)
    assert result.mean == timedelta(days=3)
    assert result.median == timedelta(days=3)
    assert result.typical_window == timedelta(days=2)
    assert result.misses_sla is True
    assert result.within_sla == 1


def test_speed_to_lead_percentiles_bands_and_share_within_an_hour(db):
    minutes = [1, 4, 6, 10, 20, 30, 45, 61, 90, 120]
    for m in minutes:
        episodes(1, first_follow_up_at=lambda t, m=m: t + timedelta(minutes=m))
    result = metrics.speed_to_lead(NOVEMBER, NO_FILTERS, as_of=AS_OF)
    assert result.responded == 10
    assert result.median == timedelta(minutes=25)  # between 20 and 30
    assert result.p90 == timedelta(minutes=93)  # 90 + 0.1 * (120 - 90)
    assert result.mean == timedelta(minutes=sum(minutes) / 10)
    assert [count for _label, count, _share in result.bands] == [2, 2, 3, 3, 0, 0, 0]
    assert result.within_hour_share.percent == 70.0


def test_empty_period_has_no_rate_rather_than_zero(db):
    result = metrics.ignore_rate(NOVEMBER, NO_FILTERS, as_of=AS_OF)
    assert result.mqls == 0
    assert result.rate.percent is None
    assert metrics.conversion(NOVEMBER, NO_FILTERS, as_of=AS_OF).mql_to_sql.percent is None
    speed = metrics.speed_to_lead(NOVEMBER, NO_FILTERS, as_of=AS_OF)
    assert speed.median is None and speed.mean is None and speed.misses_sla is None


def test_recycled_lead_counts_once_per_mql_episode(rep, marketer):
    now = datetime(2026, 11, 10, 9, tzinfo=UTC)
    lead = transitions.promote_to_mql(make_lead(now=now - timedelta(hours=1)), by=marketer, now=now)
    lead = transitions.reject_lead(lead, by=lead.owner, reason="no-budget", now=now + timedelta(minutes=20))
    lead = transitions.recycle_lead(lead, by=marketer, now=now + timedelta(days=3))
    lead = transitions.promote_to_mql(lead, by=marketer, now=now + timedelta(days=5))
    result = metrics.ignore_rate(NOVEMBER, NO_FILTERS, as_of=AS_OF)
    assert result.mqls == 2
    assert result.ignored == 1  # the second episode was never answered
    assert metrics.rejection_reasons(NOVEMBER, NO_FILTERS, as_of=AS_OF).total == 1


def test_reassignment_mid_window_restarts_the_window_for_the_ignore_rate(rep, other_rep, manager, marketer):
    now = datetime(2026, 11, 10, 9, tzinfo=UTC)
    lead = transitions.promote_to_mql(make_lead(), by=marketer, now=now)
    new_owner = other_rep if lead.owner == rep else rep
    transitions.reassign_lead(lead, by=manager, to=new_owner, now=now + timedelta(minutes=50))
    # 70 minutes after promotion: the first window has expired, the restarted one has not.
    result = metrics.ignore_rate(NOVEMBER, NO_FILTERS, as_of=now + timedelta(minutes=70))
    assert (result.ignored, result.awaiting) == (0, 1)
    by_rep = metrics.ignore_rate(NOVEMBER, Filters(rep=new_owner.pk), as_of=now + timedelta(minutes=70))
    assert by_rep.mqls == 1


def test_period_days_follow_the_reports_time_zone(db):
    # 23:30 UTC on 30 November is already 1 December in Berlin.
    episodes(1, start=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    assert metrics.ignore_rate(NOVEMBER, NO_FILTERS, as_of=AS_OF).mqls == 1
    berlin = Period(date(2026, 11, 1), date(2026, 11, 30), "Europe/Berlin")
    assert metrics.ignore_rate(berlin, NO_FILTERS, as_of=AS_OF).mqls == 0


def test_filters_narrow_every_metric(rep, other_rep, marketer):
    now = datetime(2026, 11, 10, 9, tzinfo=UTC)
    for source in ("webinar", "webinar", "organic"):
        transitions.promote_to_mql(make_lead(source=source, campaign="Q4"), by=marketer, now=now)
    assert metrics.ignore_rate(NOVEMBER, Filters(source="webinar"), as_of=AS_OF).mqls == 2
    assert metrics.ignore_rate(NOVEMBER, Filters(campaign="nope"), as_of=AS_OF).mqls == 0
    assert metrics.ignore_rate(NOVEMBER, Filters(rep=rep.pk), as_of=AS_OF).mqls == 2


def test_rejection_reasons_share_trend_and_split(rep, marketer):
    now = datetime(2026, 11, 10, 9, tzinfo=UTC)
    for code, source in [("no-budget", "webinar"), ("no-budget", "organic"), ("personal-email", "webinar")]:
        lead = transitions.promote_to_mql(make_lead(source=source), by=marketer, now=now)
        transitions.reject_lead(lead, by=lead.owner, reason=code, note=f"{code} note", now=now + timedelta(hours=1))
    result = metrics.rejection_reasons(NOVEMBER, NO_FILTERS, as_of=AS_OF)
    assert result.total == 3
    assert [(r.code, r.count) for r in result.reasons] == [("no-budget", 2), ("personal-email", 1)]
    assert round(result.reasons[0].share.percent, 1) == 66.7
    assert result.trend == ((date(2026, 11, 9), {"no-budget": 2, "personal-email": 1}),)
    assert ("webinar", "no-budget", 1) in result.by_source


def test_conversation_rate_compares_mqls_with_colder_leads(rep, marketer):
    now = datetime(2026, 11, 10, 9, tzinfo=UTC)
    mqls = [transitions.promote_to_mql(make_lead(), by=marketer, now=now) for _ in range(2)]
    transitions.log_activity(mqls[0], by=mqls[0].owner, kind="conversation", now=now + timedelta(hours=1))
    transitions.log_activity(mqls[1], by=mqls[1].owner, kind="call", now=now + timedelta(hours=1))
    from leads.models import Activity

    cold = make_lead()
    Activity.objects.create(lead=cold, kind="call", occurred_at=now)
    result = metrics.conversation_rate(NOVEMBER, NO_FILTERS)
    assert (result.mql_contacted, result.mql_conversations) == (2, 1)
    assert (result.colder_contacted, result.colder_conversations) == (1, 0)
    assert result.mql.percent == 50.0 and result.colder.percent == 0.0


def test_mql_target_per_month(db):
    from reports.models import MonthlyTarget

    MonthlyTarget.objects.create(month=date(2026, 11, 1), mql_target=40)
    episodes(30)
    result = metrics.mql_target(Period(date(2026, 10, 15), date(2026, 11, 30)), NO_FILTERS, as_of=AS_OF)
    assert [(m.month, m.mqls, m.target) for m in result.months] == [
        (date(2026, 10, 1), 0, None),
        (date(2026, 11, 1), 30, 40),
    ]
    assert result.months[1].attainment.percent == 75.0
    assert result.months[0].attainment.percent is None


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (date(2026, 11, 30), date(2026, 11, 1), "ends before it starts"),
        (date(2020, 1, 1), date(2026, 1, 1), "at most 731 days"),
        (date(1900, 1, 1), date(1900, 1, 2), "between 2000 and 2100"),
    ],
)
def test_absurd_periods_are_refused(start, end, message):
    with pytest.raises(ReportInputError, match=message):
        Period(start, end)


def test_unknown_view_and_time_zone_are_refused(db):
    with pytest.raises(ReportInputError, match="Unknown view"):
        metrics.conversion(NOVEMBER, NO_FILTERS, view="weekly")
    with pytest.raises(ReportInputError, match="Unknown time zone"):
        Period(date(2026, 11, 1), date(2026, 11, 2), "Mars/Olympus")


def test_every_number_matches_its_drill_down_list(rep, other_rep, marketer):
    lead_in_stage(Stage.SQL, owner=rep)
    lead_in_stage(Stage.REJECTED, owner=other_rep)
    period = Period.last_days(30)
    ignore = metrics.ignore_rate(period, NO_FILTERS)
    assert metrics.mql_episodes(period, NO_FILTERS).count() == ignore.mqls
    assert metrics.ignored_episodes(period, NO_FILTERS).count() == ignore.ignored
    conv = metrics.conversion(period, NO_FILTERS, view="cohort")
    assert metrics.qualified_episodes(period, NO_FILTERS, view="cohort").count() == conv.sqls
    assert (
        metrics.accepted_episodes(period, NO_FILTERS, view="period").count()
        == metrics.conversion(period, NO_FILTERS).sals
    )


def test_each_episode_has_one_outcome_as_of_the_moment_looked_at(db):
    mql_at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    hour = timedelta(hours=1)
    made = {
        "qualified": {"accepted_at": mql_at + hour / 2, "qualified_at": mql_at + 2 * hour},
        "disqualified": {"accepted_at": mql_at + hour / 2, "rejected_at": mql_at + 2 * hour, "rejected_from": "sal"},
        "rejected": {"rejected_at": mql_at + hour / 2, "rejected_from": "mql"},
        "answered": {"first_follow_up_at": mql_at + hour / 4},
        "late": {"first_follow_up_at": mql_at + 2 * hour},
        "unanswered": {},
    }
    ids = {
        name: MqlEpisode.objects.create(
            lead=make_lead(email=f"{name}@example.com"), number=1, mql_at=mql_at, due_at=mql_at + hour, **fields
        ).pk
        for name, fields in made.items()
    }

    def outcomes(as_of):
        by_id = dict(metrics.with_outcomes(MqlEpisode.objects.all(), as_of=as_of).values_list("pk", "outcome"))
        return {name: by_id[pk] for name, pk in ids.items()}

    Outcome = metrics.Outcome
    # Three quarters of an hour in: the rejection is in, the rest are inside their windows.
    assert outcomes(mql_at + hour * 3 / 4) == {
        "qualified": Outcome.SAL,
        "disqualified": Outcome.SAL,
        "rejected": Outcome.REJECTED,
        "answered": Outcome.FOLLOWED_UP,
        "late": Outcome.AWAITING,
        "unanswered": Outcome.AWAITING,
    }
    # A day later, as the Ignore Rate and SLA compliance count them.
    assert outcomes(mql_at + 24 * hour) == {
        "qualified": Outcome.SQL,
        "disqualified": Outcome.DISQUALIFIED,
        "rejected": Outcome.REJECTED,
        "answered": Outcome.FOLLOWED_UP,
        "late": Outcome.FOLLOWED_UP_LATE,
        "unanswered": Outcome.IGNORED,
    }
    assert [Outcome(value).tone for value in ("sql", "awaiting", "ignored")] == ["good", "wait", "bad"]


def test_speed_bands_reach_past_an_hour_to_over_three_days(db):
    # Each band's lower bound belongs to it: exactly 60 minutes is "1–4 h", exactly 3 days "over 3 days".
    answers = [
        timedelta(minutes=3),
        timedelta(minutes=10),
        timedelta(minutes=30),
        timedelta(minutes=60),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=23, minutes=59),
        timedelta(days=2),
        timedelta(days=3),
        timedelta(days=6),
    ]
    for answer in answers:
        episodes(1, first_follow_up_at=lambda t, a=answer: t + a)
    result = metrics.speed_to_lead(NOVEMBER, Filters(), as_of=datetime(2026, 12, 31, tzinfo=UTC))
    labels = [label for label, _count, _share in result.bands]
    assert labels == ["0–5 min", "5–15 min", "15–60 min", "1–4 h", "4–24 h", "1–3 days", "over 3 days"]
    assert [count for _label, count, _share in result.bands] == [1, 1, 1, 2, 2, 1, 2]
