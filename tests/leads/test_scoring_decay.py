"""Score decay: a behaviour rule's points halve every half-life, from each activity's time."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from leads import activities, jobs, scoring
from leads.models import (
    Activity,
    EventKind,
    Lead,
    LeadEvent,
    LeadRuleScore,
    ScoringConfig,
    ScoringRule,
    Stage,
)

from ..factories import lead_in_stage, make_lead
from .test_api import api

B = ScoringRule.Category.BEHAVIOUR
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
PRICING = ("website_visit", "https://acme.example/pricing")
CAREERS = ("website_visit", "https://acme.example/careers")


def behaviour(name, points, *, half_life=None, cap=None, kind="website_visit", url=""):
    return ScoringRule.objects.create(
        name=name, category=B, points=points, cap=cap, half_life_days=half_life, activity_kind=kind, url_contains=url
    )


def set_threshold(value):
    ScoringConfig.objects.update(mql_threshold=value)


def visit(lead, spec, *, days_ago, now=NOW):
    """Store one activity ``days_ago`` days before ``now`` and score it in, as the API does."""
    kind, url = spec
    activity = Activity.objects.create(lead=lead, kind=kind, url=url, occurred_at=now - timedelta(days=days_ago))
    return activities.apply_activities([activity], now=now)[lead.pk]


def shares(lead):
    return dict(LeadRuleScore.objects.filter(lead=lead).values_list("rule__name", "points"))


@pytest.fixture
def decaying(db):
    set_threshold(1000)
    return {
        "pricing": behaviour("Pricing", 20, half_life=14, url="/pricing"),
        "careers": behaviour("Careers", -10, half_life=7, cap=20, url="/careers"),
        "webinar": behaviour("Webinar", 25, kind="webinar"),  # never fades
    }


def test_each_activity_halves_every_half_life(decaying):
    lead = make_lead(country="US")
    assert visit(lead, PRICING, days_ago=14).score == 10  # 20 x 0.5
    assert visit(lead, PRICING, days_ago=28).score == 10 + 5  # + 20 x 0.25
    assert visit(lead, PRICING, days_ago=0).score == 10 + 5 + 20


def test_the_decayed_sum_is_rounded_once_halves_away_from_zero(decaying):
    lead = make_lead(country="US")
    visit(lead, PRICING, days_ago=5)
    lead = visit(lead, PRICING, days_ago=5)
    # 2 x 20 x 0.5 ** (5/14) = 31.23: 31, where rounding each visit (15.61 -> 16) would say 32
    assert lead.score == 31
    assert scoring.whole_points(2.5) == 3
    assert scoring.whole_points(-2.5) == -3
    assert scoring.whole_points(-2.4) == -2


def test_negative_rules_decay_the_same_way(decaying):
    lead = make_lead(country="US")
    assert visit(lead, CAREERS, days_ago=7).score == -5  # -10 x 0.5
    assert visit(lead, CAREERS, days_ago=14).score == -5 - 3  # -10 x 0.25 = -2.5: -7.5 rounds to -8


def test_the_cap_applies_to_the_decayed_sum(decaying):
    decaying["pricing"].cap = 30
    decaying["pricing"].save()
    fresh, old = make_lead(country="US"), make_lead(country="US")
    for _ in range(4):
        fresh = visit(fresh, PRICING, days_ago=0)
        old = visit(old, PRICING, days_ago=28)
    assert fresh.score == 30  # 80 capped at 30
    # 4 x 20 x 0.25 = 20, under the cap; capping before decaying would have said 30 x 0.25 = 8
    assert old.score == 20
    for _ in range(3):
        old = visit(old, CAREERS, days_ago=0)
    assert shares(old)["Careers"] == -20  # -30 capped at -20


def test_decay_counts_absolute_time_across_a_dst_change():
    berlin = ZoneInfo("Europe/Berlin")
    # 14 calendar days at noon, Berlin time, across the switch to summer time on 29 March: 335 hours.
    then = datetime(2026, 3, 22, 12, tzinfo=berlin)
    now = datetime(2026, 4, 5, 12, tzinfo=berlin)
    factor = scoring.decay_factor(then, now=now, half_life_days=14)
    assert factor == pytest.approx(0.5 ** (335 / 336), abs=1e-12)
    assert factor == scoring.decay_factor(then.astimezone(UTC), now=now.astimezone(UTC), half_life_days=14)


def test_an_activity_dated_in_the_future_counts_in_full():
    assert scoring.decay_factor(NOW + timedelta(days=3), now=NOW, half_life_days=14) == 1


def test_a_new_activity_brings_the_leads_other_decayed_shares_up_to_date(decaying):
    lead = make_lead(country="US")
    lead = visit(lead, PRICING, days_ago=0, now=NOW - timedelta(days=28))
    assert lead.score == 20
    lead = visit(lead, ("webinar", ""), days_ago=0)
    assert shares(lead) == {"Pricing": 5, "Webinar": 25}
    assert lead.score == 30


def test_incremental_scores_equal_a_full_rescore_with_decay(decaying):
    lead = make_lead(country="US")
    for days_ago, spec, now in [
        (3, PRICING, NOW - timedelta(days=40)),
        (1, CAREERS, NOW - timedelta(days=20)),
        (0, ("webinar", ""), NOW - timedelta(days=9)),
        (6, PRICING, NOW - timedelta(days=2)),
        (0, CAREERS, NOW),
    ]:
        lead = visit(lead, spec, days_ago=days_ago, now=now)
    incremental, incremental_shares = lead.score, shares(lead)
    LeadRuleScore.objects.filter(lead=lead).delete()
    Lead.objects.filter(pk=lead.pk).update(score=0)
    rescored = scoring.score_lead(lead, now=NOW)
    assert (rescored.score, shares(rescored)) == (incremental, incremental_shares)
    # by hand: pricing 20 x (0.5 ** (43/14) + 0.5 ** (8/14)) = 2.38 + 13.46 = 15.84 -> 16;
    # careers -10 x (0.5 ** (21/7) + 1) = -11.25 -> -11; webinar 25
    assert incremental_shares == {"Pricing": 16, "Careers": -11, "Webinar": 25}
    assert incremental == 30


def test_nightly_refresh_decays_stored_scores_once_and_records_why(decaying):
    lead = make_lead(country="US")
    lead = visit(lead, PRICING, days_ago=0, now=NOW - timedelta(days=14))
    plain = visit(make_lead(country="US"), ("webinar", ""), days_ago=30)
    assert lead.score == 20

    result = jobs.refresh_decayed_scores(now=NOW)
    again = jobs.refresh_decayed_scores(now=NOW)

    assert (result.leads, result.changed) == (1, 1)  # the webinar lead has no decaying share to read
    assert again.changed == 0
    lead.refresh_from_db()
    assert lead.score == 10
    events = LeadEvent.objects.filter(lead=lead, kind=EventKind.SCORE_CHANGED).order_by("at", "id")
    assert events.last().payload == {"from": 20, "to": 10, "cause": "decay"}
    assert events.count() == 2
    assert Lead.objects.get(pk=plain.pk).score == 25


def test_a_share_decayed_to_nothing_is_no_longer_read_at_night(decaying):
    lead = visit(make_lead(country="US"), PRICING, days_ago=0, now=NOW - timedelta(days=200))
    assert jobs.refresh_decayed_scores(now=NOW).changed == 1
    assert shares(Lead.objects.get(pk=lead.pk)) == {"Pricing": 0}  # the visit still shows, worth nothing
    assert scoring.decayed_lead_ids() == []


def test_decay_never_demotes_but_a_lead_drifts_below_the_threshold(decaying, rep):
    set_threshold(25)
    with_sales = lead_in_stage(Stage.SAL, owner=rep, country="US", now=NOW - timedelta(days=14))
    with_sales = visit(with_sales, ("webinar", ""), days_ago=0, now=NOW - timedelta(days=14))
    with_sales = visit(with_sales, PRICING, days_ago=0, now=NOW - timedelta(days=14))
    marketing = visit(make_lead(country="US"), PRICING, days_ago=0, now=NOW - timedelta(days=14))
    assert (with_sales.score, marketing.score) == (45, 20)

    jobs.refresh_decayed_scores(now=NOW)

    with_sales.refresh_from_db()
    marketing.refresh_from_db()
    assert (with_sales.stage, with_sales.score) == (Stage.SAL, 35)  # below 25 + 10 would not matter either
    assert (marketing.stage, marketing.score) == (Stage.LEAD, 10)


def test_a_fading_negative_share_can_lift_a_lead_to_the_threshold(decaying, rep, other_rep):
    lead = make_lead(country="US")
    for _ in range(2):
        lead = visit(lead, CAREERS, days_ago=0, now=NOW - timedelta(days=28))
    lead = visit(lead, ("webinar", ""), days_ago=0, now=NOW - timedelta(days=28))
    set_threshold(10)  # as if lowered without a rescore: the refresh still promotes what it lifts
    assert (lead.stage, lead.score) == (Stage.LEAD, 5)  # 25 - 20

    result = jobs.refresh_decayed_scores(now=NOW)

    lead.refresh_from_db()
    assert result.promoted == 1
    assert (lead.stage, lead.score) == (Stage.MQL, 25 - 1)  # -20 x 0.0625 = -1.25


def test_score_api_and_lead_page_show_points_then_and_now(decaying, marketer, client):
    lead = visit(make_lead(country="US"), PRICING, days_ago=0, now=NOW - timedelta(days=21))
    lead = visit(lead, ("webinar", ""), days_ago=0)

    response = api(marketer).get(reverse("api:lead-score", args=[lead.pk]))

    assert response.status_code == 200
    body = response.json()
    assert (body["lead"], body["score"]) == (lead.pk, 25 + 7)
    pricing = next(share for share in body["shares"] if share["rule_name"] == "Pricing")
    # 20 x 0.5 ** 1.5 = 7.07
    assert (pricing["matches"], pricing["points_then"], pricing["points"], pricing["half_life_days"]) == (1, 20, 7, 14)
    webinar = next(share for share in body["shares"] if share["rule_name"] == "Webinar")
    assert (webinar["points_then"], webinar["points"], webinar["half_life_days"]) == (25, 25, None)
    client.force_login(marketer)
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "+20 → +7, 14-day half-life" in page


def test_score_api_is_scoped_like_every_lead(decaying, rep, other_rep):
    lead = lead_in_stage(Stage.MQL, owner=other_rep)
    assert api(rep).get(reverse("api:lead-score", args=[lead.pk])).status_code == 404
    assert api(rep).get("/api/leads/abc/score/").status_code == 404
    assert api().get(reverse("api:lead-score", args=[lead.pk])).status_code == 401
