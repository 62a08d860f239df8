"""The metrics written as SQL of their own (percentile aggregates, grouping sets, the
conversation rate as one statement, the overview's one pass) against hand-computed numbers."""

from datetime import UTC, date, datetime, timedelta

import pytest

from leads.models import Activity, Lead, MqlEpisode, Stage
from reports import metrics
from reports.metrics import Filters, Period
from tests.factories import make_user, reason

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
AS_OF = datetime(2026, 12, 15, tzinfo=UTC)
DAY = datetime(2026, 11, 2, 9, tzinfo=UTC)

_leads = iter(range(1, 10_000))


def lead(**fields):
    n = next(_leads)
    return Lead.objects.create(name=f"P{n}", email=f"paths{n}@example.com", stage=Stage.LEAD, **fields)


def episode(mql_at, **fields):
    return MqlEpisode.objects.create(lead=fields.pop("lead", None) or lead(), number=1, mql_at=mql_at, **fields)


# ---------- speed to lead, and the overview's episode headlines ----------

# Minutes to the first follow-up of 12 answered MQLs: the first six (rep A) with a 3-hour
# window, the last six (rep B) with a 1-hour one.
RESPONSES = (2, 3, 7, 9, 12, 16, 20, 40, 55, 70, 100, 130)


@pytest.fixture
def speed_data(db):
    rep_a, rep_b = make_user("speed-a"), make_user("speed-b")
    for i, minutes in enumerate(RESPONSES):
        mql_at = DAY + timedelta(hours=i)
        owner, window = (rep_a, 3) if i < 6 else (rep_b, 1)
        episode(
            mql_at,
            owner=owner,
            due_at=mql_at + timedelta(hours=window),
            first_follow_up_at=mql_at + timedelta(minutes=minutes),
        )
    # Never answered, windows of 1 and 3 hours long expired: ignored.
    episode(DAY + timedelta(days=3), owner=rep_a, due_at=DAY + timedelta(days=3, hours=1))
    episode(DAY + timedelta(days=4), owner=rep_a, due_at=DAY + timedelta(days=4, hours=3))
    # Not routed, answered only after 'as of': awaiting, no window.
    episode(DAY + timedelta(days=27), first_follow_up_at=AS_OF + timedelta(days=1))
    # Outside the period.
    episode(
        datetime(2026, 10, 20, tzinfo=UTC), owner=rep_a, first_follow_up_at=datetime(2026, 10, 20, 0, 1, tzinfo=UTC)
    )
    return rep_a, rep_b


def test_speed_to_lead_interpolates_percentiles_and_the_typical_window(speed_data):
    rep_a, rep_b = speed_data

    result = metrics.speed_to_lead(NOVEMBER, Filters(), as_of=AS_OF)

    assert result.responded == 12
    assert result.median == timedelta(minutes=18)  # 16 + 0.5 × (20 − 16)
    assert result.p90 == timedelta(minutes=97)  # 70 + 0.9 × (100 − 70)
    assert result.mean == timedelta(seconds=2320)  # 464 minutes ÷ 12
    # Windows: seven of 1 hour, seven of 3 hours: halfway between the 7th and 8th.
    assert result.typical_window == timedelta(hours=2)
    assert result.misses_sla is False
    assert (result.within_hour, result.within_sla) == (9, 9)
    assert [count for _label, count, _share in result.bands] == [2, 3, 4, 3, 0, 0, 0]
    assert [(r.rep_id, r.responded, r.mean, r.within_hour, r.within_sla) for r in result.by_rep] == [
        (rep_a.pk, 6, timedelta(seconds=490), 6, 6),
        (rep_b.pk, 6, timedelta(seconds=4150), 3, 3),
    ]


def test_speed_to_lead_for_one_rep(speed_data):
    rep_a, _rep_b = speed_data

    result = metrics.speed_to_lead(NOVEMBER, Filters(rep=rep_a.pk), as_of=AS_OF)

    assert result.responded == 6
    assert result.median == timedelta(minutes=8)  # 7 + 0.5 × (9 − 7)
    assert result.p90 == timedelta(minutes=14)  # 12 + 0.5 × (16 − 12)
    assert result.typical_window == timedelta(hours=3)  # one of 1 hour, seven of 3 hours


def test_speed_headline_and_episode_headlines_give_the_reports_numbers(speed_data):
    rep_a, _rep_b = speed_data
    for filters in (Filters(), Filters(rep=rep_a.pk)):
        speed = metrics.speed_to_lead(NOVEMBER, filters, as_of=AS_OF)
        headline = metrics.speed_headline(NOVEMBER, filters, as_of=AS_OF)
        together = metrics.episode_headlines(NOVEMBER, filters, as_of=AS_OF)

        expected = (speed.responded, speed.median, speed.mean, speed.typical_window, speed.misses_sla)
        assert (headline.responded, headline.median, headline.mean, headline.typical_window, headline.misses_sla) == (
            expected
        )
        assert together.speed == headline
        assert together.ignore_rate == metrics.ignore_rate(NOVEMBER, filters, as_of=AS_OF)
        assert together.sla_compliance == metrics.sla_compliance(NOVEMBER, filters, as_of=AS_OF)

    together = metrics.episode_headlines(NOVEMBER, Filters(), as_of=AS_OF)
    ignore, sla = together.ignore_rate, together.sla_compliance
    assert (ignore.mqls, ignore.ignored, ignore.awaiting, ignore.followed_up) == (15, 2, 1, 12)
    assert (sla.closed, sla.within, sla.late, sla.never) == (14, 9, 3, 2)


def test_speed_numbers_of_an_empty_period_are_empty(db):
    headline = metrics.speed_headline(NOVEMBER, Filters(), as_of=AS_OF)
    assert (headline.responded, headline.median, headline.mean, headline.typical_window) == (0, None, None, None)
    speed = metrics.speed_to_lead(NOVEMBER, Filters(), as_of=AS_OF)
    assert (speed.median, speed.p90, speed.typical_window, speed.by_rep) == (None, None, None, ())


# ---------- rejection reasons ----------


@pytest.fixture
def rejections(db):
    rep = make_user("rejections-rep")
    rows = [
        # (reason, source, campaign, from, rejected on)
        ("no-budget", "webinar", "q4-a", "mql", datetime(2026, 11, 3, 10, tzinfo=UTC)),
        ("no-budget", "webinar", "q4-a", "mql", datetime(2026, 11, 8, 23, 30, tzinfo=UTC)),
        ("no-budget", "organic", "q4-b", "sal", datetime(2026, 11, 10, 10, tzinfo=UTC)),
        ("personal-email", "organic", "q4-b", "mql", datetime(2026, 11, 9, 10, tzinfo=UTC)),
        ("personal-email", "organic", "q4-b", "mql", datetime(2026, 11, 11, 10, tzinfo=UTC)),
        ("personal-email", "organic", "q4-b", "mql", datetime(2026, 11, 12, 10, tzinfo=UTC)),
        ("competitor", "webinar", "q4-a", "sal", datetime(2026, 11, 17, 10, tzinfo=UTC)),
    ]
    for code, source, campaign, rejected_from, at in rows:
        episode(
            at - timedelta(hours=2),
            owner=rep if code != "competitor" else None,
            source=source,
            campaign=campaign,
            rejected_at=at,
            rejected_from=rejected_from,
            rejection_reason=reason(code),
        )
    # Rejected in October: outside the period.
    episode(
        datetime(2026, 10, 30, tzinfo=UTC),
        rejected_at=datetime(2026, 10, 31, tzinfo=UTC),
        rejected_from="mql",
        rejection_reason=reason("no-budget"),
    )
    return rep


def test_rejection_reasons_by_reason_week_source_and_campaign(rejections):
    result = metrics.rejection_reasons(NOVEMBER, Filters(), as_of=AS_OF)

    assert result.total == 7
    # A tie on the count goes by label: "No budget" before "Personal e-mail address".
    assert [(r.code, r.count, r.from_mql, r.from_sal) for r in result.reasons] == [
        ("no-budget", 3, 2, 1),
        ("personal-email", 3, 3, 0),
        ("competitor", 1, 0, 1),
    ]
    assert result.reasons[0].share.numerator == 3 and result.reasons[0].share.denominator == 7
    assert result.trend == (
        (date(2026, 11, 2), {"no-budget": 2}),
        (date(2026, 11, 9), {"no-budget": 1, "personal-email": 3}),
        (date(2026, 11, 16), {"competitor": 1}),
    )
    assert result.by_source == (
        ("organic", "personal-email", 3),
        ("organic", "no-budget", 1),
        ("webinar", "no-budget", 2),
        ("webinar", "competitor", 1),
    )
    assert result.by_campaign == (
        ("q4-a", "no-budget", 2),
        ("q4-a", "competitor", 1),
        ("q4-b", "personal-email", 3),
        ("q4-b", "no-budget", 1),
    )
    counts = metrics.rejection_reason_counts(NOVEMBER, Filters(), as_of=AS_OF)
    assert (counts.total, counts.reasons) == (result.total, result.reasons)
    assert counts.total == 7


def test_rejection_weeks_follow_the_reports_time_zone_and_filters_narrow_them(rejections):
    # 23:30 UTC on Sunday 8 November is already Monday 9 November in Berlin.
    berlin = Period(date(2026, 11, 1), date(2026, 11, 30), "Europe/Berlin")
    result = metrics.rejection_reasons(berlin, Filters(), as_of=AS_OF)
    assert result.trend[:2] == (
        (date(2026, 11, 2), {"no-budget": 1}),
        (date(2026, 11, 9), {"no-budget": 2, "personal-email": 3}),
    )
    mine = metrics.rejection_reasons(NOVEMBER, Filters(rep=rejections.pk, source="organic"), as_of=AS_OF)
    assert (mine.total, [(r.code, r.count) for r in mine.reasons]) == (4, [("personal-email", 3), ("no-budget", 1)])
    assert mine.by_campaign == (("q4-b", "personal-email", 3), ("q4-b", "no-budget", 1))


# ---------- conversation rate ----------


@pytest.fixture
def contacts(team):
    rep = make_user("contacts-rep", team=team)

    def contacted(*activities, mql_at=None, **fields):
        one = lead(**fields)
        if mql_at:
            episode(mql_at, lead=one)
        for kind, at in activities:
            Activity.objects.create(lead=one, kind=kind, occurred_at=at)
        return one

    def nov(day, hour=10):
        return datetime(2026, 11, day, hour, tzinfo=UTC)

    # An MQL when first contacted, then a conversation.
    contacted(("call", nov(6)), ("conversation", nov(7)), mql_at=nov(5), owner=rep, source="webinar")
    # An MQL when first contacted, no conversation.
    contacted(("email", nov(6)), mql_at=nov(5), source="webinar")
    # Never an MQL, talked.
    contacted(("call", nov(10)), ("conversation", nov(11)), owner=rep)
    # First contacted before becoming an MQL: colder, although a conversation followed the MQL.
    contacted(("call", nov(10)), ("conversation", nov(21)), mql_at=nov(20), team=team)
    # An MQL since October, contacted in November.
    contacted(("call", nov(3)), mql_at=datetime(2026, 10, 1, tzinfo=UTC))
    # Became an MQL at the very moment of the first contact (a conversation): an MQL.
    contacted(("conversation", nov(12)), mql_at=nov(12))
    # The conversation was in October: contacted in November, but no conversation in it.
    contacted(("conversation", datetime(2026, 10, 31, tzinfo=UTC)), ("call", nov(2)))
    # Marketing behaviour is no contact; neither is a call after the period.
    contacted(("website_visit", nov(4)))
    contacted(("call", datetime(2026, 12, 2, tzinfo=UTC)))
    return rep


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (lambda rep, team: Filters(), (4, 2, 3, 2)),
        (lambda rep, team: Filters(rep=rep.pk), (1, 1, 1, 1)),
        (lambda rep, team: Filters(source="webinar"), (2, 1, 0, 0)),
        (lambda rep, team: Filters(team=team.pk), (0, 0, 1, 1)),
        (lambda rep, team: Filters(rep=rep.pk, source="webinar"), (1, 1, 0, 0)),
    ],
)
def test_conversation_rate_splits_on_the_first_contact(contacts, team, filters, expected):
    filters = filters(contacts, team)

    result = metrics.conversation_rate(NOVEMBER, filters)

    counts = (result.mql_contacted, result.mql_conversations, result.colder_contacted, result.colder_conversations)
    assert counts == expected
    lists = (
        metrics.contacted_leads(NOVEMBER, filters, warmth="mql").count(),
        metrics.contacted_leads(NOVEMBER, filters, warmth="mql", conversations_only=True).count(),
        metrics.contacted_leads(NOVEMBER, filters, warmth="colder").count(),
        metrics.contacted_leads(NOVEMBER, filters, warmth="colder", conversations_only=True).count(),
    )
    assert lists == expected
