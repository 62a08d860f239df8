"""The threshold what-if: replayed from the recorded scores, next to the MQLs actually produced."""

from datetime import UTC, datetime

import pytest

from leads import activities, scoring, transitions
from leads.models import Activity, MqlEpisode, ScoringConfig, ScoringRule

from ..factories import make_lead

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)  # a Sunday: the replay covers the weeks of Nov 2, 9 and 16


def at(day, hour=10):
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def set_threshold(value):
    ScoringConfig.objects.update(mql_threshold=value)


def webinar(lead, when):
    activity = Activity.objects.create(lead=lead, kind="webinar", occurred_at=when)
    return activities.apply_activities([activity], now=when)[lead.pk]


def weeks(result):
    return {w.week_start.isoformat(): (w.actual, w.manual, w.current, w.candidate) for w in result.weeks}


@pytest.fixture
def history(db, rep, other_rep, marketer):
    """Five MQLs in three weeks, one by hand and one a recycled lead's second episode, and a lead that stayed."""
    ScoringRule.objects.create(name="Webinar", category="behaviour", activity_kind="webinar", points=25)
    ScoringRule.objects.create(
        name="CEO", category="demographic", field="job_title", operator="contains", value="ceo", points=30
    )
    set_threshold(50)
    leads = {}
    # A: 25, then 50 on Nov 3: an MQL, rejected for no budget.
    a = make_lead(name="A", country="US", now=at(2, 9))
    webinar(a, at(2))
    a = webinar(a, at(3))
    leads["a"] = transitions.reject_lead(a, by=a.owner, reason="no-budget", now=at(4))
    # B: a CEO (30), 55 on Nov 10: an MQL, accepted and qualified.
    b = webinar(make_lead(name="B", job_title="CEO", country="US", now=at(9)), at(10))
    b = transitions.accept_lead(b, by=b.owner, now=at(10, 12))
    leads["b"] = transitions.qualify_lead(b, by=b.owner, now=at(11))
    # C: 25 on Nov 16, handed over by a marketer on Nov 17.
    c = webinar(make_lead(name="C", country="US", now=at(2)), at(16))
    leads["c"] = transitions.promote_to_mql(c, by=marketer, now=at(17), note="Asked for a demo on the phone.")
    # D: 25 since Nov 9, still with marketing.
    leads["d"] = webinar(make_lead(name="D", country="US", now=at(9, 9)), at(9))
    # E: a CEO at 55 on Nov 3, rejected, recycled, and an MQL again at 80 on Nov 12.
    e = webinar(make_lead(name="E", job_title="CEO", country="US", now=at(2, 8)), at(3))
    e = transitions.reject_lead(e, by=e.owner, reason="not-decision-maker", now=at(4))
    e = transitions.recycle_lead(e, by=marketer, now=at(5))
    leads["e"] = webinar(e, at(12))
    assert MqlEpisode.objects.count() == 5
    return leads


def test_the_replay_at_todays_threshold_equals_the_mqls_produced(history):
    result = scoring.what_if(50, weeks=3, now=NOW)

    assert (result.actual_total, result.manual_total, result.current_total) == (5, 1, 5)
    assert result.differences == {}
    produced = {w: (actual, manual) for w, (actual, manual, _c, _k) in weeks(result).items()}
    assert produced == {"2026-10-26": (0, 0), "2026-11-02": (2, 0), "2026-11-09": (2, 0), "2026-11-16": (1, 1)}
    assert all(actual == current == candidate for actual, _m, current, candidate in weeks(result).values())
    assert (result.added.count, result.removed.count) == (0, 0)


def test_a_lower_threshold_adds_the_lead_that_stayed_and_promotes_the_others_earlier(history):
    result = scoring.what_if(25, weeks=3, now=NOW)

    assert result.candidate_total == 6
    assert result.added.count == 1
    assert result.added.lead_ids == (history["d"].pk,)
    assert result.added.outcomes == {scoring.NEVER_AN_MQL: 1}
    assert result.removed.count == 0
    # C crosses 25 on Nov 16, a day before the marketer handed it over: the same week.
    assert weeks(result)["2026-11-16"] == (1, 1, 1, 1)
    assert weeks(result)["2026-11-09"] == (2, 0, 2, 3)  # B, E's second episode, and D


def test_a_higher_threshold_removes_leads_each_with_how_they_fared(history):
    result = scoring.what_if(55, weeks=3, now=NOW)
    assert result.candidate_total == 4
    assert result.removed.lead_ids == (history["a"].pk,)
    assert (result.removed.outcomes, result.removed.reasons) == ({"rejected": 1}, {"No budget": 1})
    assert result.added.count == 0

    result = scoring.what_if(80, weeks=3, now=NOW)
    assert result.candidate_total == 2  # E's second episode (80) and C, handed over by hand
    assert result.removed.count == 3
    assert set(result.removed.lead_ids) == {history["a"].pk, history["b"].pk, history["e"].pk}
    assert result.removed.outcomes == {"rejected": 2, "sql": 1}
    assert result.removed.reasons == {"No budget": 1, "Not a decision maker": 1}


def test_a_promotion_under_an_earlier_threshold_is_named(history):
    set_threshold(40)
    f = webinar(make_lead(name="F", job_title="CEO", country="US", now=at(18)), at(18, 11))  # 55
    assert f.stage == "mql"
    webinar(make_lead(name="G", country="US", now=at(18)), at(18, 12))
    set_threshold(60)

    result = scoring.what_if(60, weeks=3, now=NOW)

    assert result.actual_total == 6
    # A (50), B (55), E's first (55) and F (55) were promoted below 60; E's second reached 80.
    assert result.differences == {"promoted_below": 4}
    assert result.current_total == 2


def test_only_leads_scored_or_promoted_in_the_window_are_read(history, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):  # threshold, the stints, their episodes, the reps
        scoring.what_if(25, weeks=1, now=NOW)
