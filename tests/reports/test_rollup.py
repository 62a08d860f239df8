"""The rollup (reports.EpisodeRollup): kept exact by the database, and the reports' numbers the same from it as from the episodes."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from leads import transitions
from leads.models import ActivityKind, MqlEpisode, Stage
from reports.metrics import Filters, Period, ignore_rate_by_rep, mql_target, response_effect, rollup
from reports.metrics.compare import (
    BREAKDOWNS,
    HEADLINES,
    headline_breakdown,
    headline_series,
    previous_period,
    trend_periods,
)
from reports.models import EpisodeRollup
from tests.factories import lead_in_stage

from .conftest import episodes

AS_OF = datetime(2026, 7, 10, 12, tzinfo=UTC)


def exact():
    return rollup.verify() == {}


def test_every_kind_of_write_keeps_the_rollup_equal_to_the_episodes(rep, other_rep, team):
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    # A multi-row INSERT.
    episodes(5, owner=rep, team=team, source="web", campaign="spring", start=now - timedelta(days=3))
    assert EpisodeRollup.objects.filter(dimension="all").exists()
    assert exact()
    # The transitions, each in its own transaction.
    sql = lead_in_stage(Stage.SQL, owner=rep, team=team, now=now, source="event")
    rejected = lead_in_stage(Stage.REJECTED, owner=other_rep, team=team, now=now)
    awaiting = lead_in_stage(Stage.MQL, owner=rep, team=team, now=now)
    assert exact()
    transitions.log_activity(awaiting, by=rep, kind=ActivityKind.CALL, now=now + timedelta(minutes=5))
    transitions.reassign_lead(sql, by=None, to=other_rep, now=now + timedelta(minutes=6))
    assert exact()
    rejected = transitions.recycle_lead(rejected, by=None, now=now + timedelta(days=1))
    transitions.promote_to_mql(rejected, by=None, team=team, now=now + timedelta(days=2))
    assert MqlEpisode.objects.filter(lead=rejected).count() == 2
    assert exact()
    # A bulk UPDATE of counted and uncounted columns, one of them a no-op, and a DELETE.
    MqlEpisode.objects.filter(source="web").update(campaign="summer", rejection_note="moved")
    MqlEpisode.objects.filter(owner=rep).update(owner=other_rep)
    MqlEpisode.objects.update(source="")
    assert exact()
    MqlEpisode.objects.filter(campaign="summer").delete()
    assert exact()
    assert EpisodeRollup.objects.filter(dimension="campaign", key="summer").exclude(mqls=0).count() == 0


def test_the_check_finds_a_wrong_row_and_the_rebuild_mends_it(rep, team):
    episodes(3, owner=rep, team=team, first_follow_up_at=lambda t: t + timedelta(minutes=20))
    row = EpisodeRollup.objects.filter(dimension="rep", key=str(rep.pk), grain="day").first()
    EpisodeRollup.objects.filter(pk=row.pk).update(followed_up=row.followed_up + 1)
    EpisodeRollup.objects.create(dimension="source", key="ghost", grain="hour", start=row.start, mqls=2)

    wrong = rollup.verify()

    assert set(wrong) == {("rep", str(rep.pk), "day", row.start), ("source", "ghost", "hour", row.start)}
    assert wrong[("source", "ghost", "hour", row.start)][1]["mqls"] == 0
    rollup.rebuild()
    assert exact()


def test_truncating_the_episodes_empties_the_rollup(rep, team):
    episodes(2, owner=rep, team=team)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys' checks of the insert, first
        cursor.execute("TRUNCATE leads_mqlepisode")
    assert not EpisodeRollup.objects.exists()


# ---------- the same numbers from the rollup as from the episodes ----------


def _random_history(seed, people, teams):
    """Episodes of every outcome in the first half of 2026 (across a DST change), all events before AS_OF, some windows still open at AS_OF."""
    rng = random.Random(seed)
    start = datetime(2025, 12, 20, tzinfo=UTC)
    span = (AS_OF - timedelta(days=2) - start).total_seconds()
    rows = []
    for _ in range(400):
        mql_at = start + timedelta(seconds=rng.uniform(0, span))
        fields = {
            "owner": rng.choice(people),
            "team": rng.choice(teams),
            "source": rng.choice(["web", "event", ""]),
            "campaign": rng.choice(["spring", "summer", ""]),
        }
        roll = rng.random()
        fields["due_at"] = (
            None if roll < 0.1 else mql_at + timedelta(minutes=rng.choice([60, 60, 240, 60 * 30, 60 * 24 * 9]))
        )
        if rng.random() < 0.7:
            answered = mql_at + timedelta(minutes=rng.choice([0, 5, 59, 60, 61, 300, 60 * 26, 60 * 24 * 5]))
            fields["first_follow_up_at"] = min(answered, AS_OF)
            if rng.random() < 0.6:
                fields["accepted_at"] = min(fields["first_follow_up_at"] + timedelta(hours=rng.randint(0, 72)), AS_OF)
                if rng.random() < 0.5:
                    fields["qualified_at"] = min(fields["accepted_at"] + timedelta(days=rng.randint(0, 20)), AS_OF)
        if "qualified_at" not in fields and rng.random() < 0.3:
            fields["rejected_at"] = min(mql_at + timedelta(hours=rng.randint(1, 400)), AS_OF)
        rows.append((mql_at, fields))
    for mql_at, fields in rows:
        episodes(1, start=mql_at, **fields)


PERIODS = [
    Period(date(2026, 3, 1), date(2026, 5, 31), "UTC"),
    Period(date(2026, 3, 15), date(2026, 4, 15), "Europe/Berlin"),  # summer time from 29 March
    Period(date(2026, 1, 1), date(2026, 6, 30), "America/New_York"),
    Period(date(2025, 7, 10), date(2026, 7, 9), "Europe/Berlin"),  # a year, by month
    Period(date(2026, 2, 1), date(2026, 4, 30), "Asia/Kolkata"),  # half an hour off UTC: the episodes
]


def _periods(period):
    previous = previous_period(period)
    return [period, *trend_periods(period)[1], *([previous] if previous else [])]


@pytest.mark.parametrize("view", ["period", "cohort"])
def test_every_report_has_the_same_numbers_from_the_rollup_and_from_the_episodes(settings, rep, other_rep, team, view):
    other_team = team.__class__.objects.create(name="Second team")
    _random_history(12, [rep, other_rep, None], [team, other_team, None])
    filters = [
        Filters(),
        Filters(rep=rep.pk),
        Filters(team=other_team.pk),
        Filters(source="web"),
        Filters(campaign=""),
        Filters(campaign="summer"),
        Filters(rep=other_rep.pk, source="event"),  # two filters: the episodes
    ]
    answered_by_rollup = 0
    for period in PERIODS:
        periods = _periods(period)
        for chosen in filters:
            settings.REPORTS_ROLLUP = True
            selected = rollup.scope(periods, chosen)
            answered_by_rollup += selected is not None and rollup.slice_counts(periods, selected, AS_OF) is not None
            for slug in HEADLINES:
                settings.REPORTS_ROLLUP = True
                fast = headline_series(slug, periods, chosen, view=view, as_of=AS_OF)
                settings.REPORTS_ROLLUP = False
                counted = headline_series(slug, periods, chosen, view=view, as_of=AS_OF)
                assert fast == counted, (slug, period, chosen)
            settings.REPORTS_ROLLUP = True
            fast = ignore_rate_by_rep(period, chosen, as_of=AS_OF)
            settings.REPORTS_ROLLUP = False
            assert fast == ignore_rate_by_rep(period, chosen, as_of=AS_OF), (period, chosen)
            assert fast.reps, (period, chosen)
            settings.REPORTS_ROLLUP = True
            fast = response_effect(period, chosen, as_of=AS_OF)
            settings.REPORTS_ROLLUP = False
            assert fast == response_effect(period, chosen, as_of=AS_OF), (period, chosen)
            settings.REPORTS_ROLLUP = True
            fast = mql_target(period, chosen, as_of=AS_OF)
            settings.REPORTS_ROLLUP = False
            assert fast == mql_target(period, chosen, as_of=AS_OF), (period, chosen)
    # Four of the five periods, six of the seven filters each.
    assert answered_by_rollup == 4 * 6


@pytest.mark.parametrize("by", BREAKDOWNS)
def test_every_breakdown_has_the_same_rows_from_the_rollup_and_from_the_episodes(settings, rep, other_rep, team, by):
    other_team = team.__class__.objects.create(name="Second team")
    _random_history(7, [rep, other_rep, None], [team, other_team, None])
    filters = [Filters(), Filters(rep=rep.pk), Filters(team=team.pk), Filters(source="event"), Filters(campaign="")]
    for period in (PERIODS[0], PERIODS[3], PERIODS[4]):
        for chosen in filters:
            for slug in HEADLINES:
                for view in ("period", "cohort"):
                    settings.REPORTS_ROLLUP = True
                    fast = headline_breakdown(slug, by, period, chosen, view=view, as_of=AS_OF)
                    settings.REPORTS_ROLLUP = False
                    counted = headline_breakdown(slug, by, period, chosen, view=view, as_of=AS_OF)
                    assert fast == counted, (slug, by, period, chosen, view)
                    assert fast, (slug, by, period, chosen)


def test_a_report_as_of_an_earlier_instant_reads_the_episodes(rep, team):
    episodes(4, owner=rep, team=team, start=datetime(2026, 3, 2, 9, tzinfo=UTC), first_follow_up_at=lambda t: t)
    periods = [Period(date(2026, 3, 1), date(2026, 3, 31), "UTC")]
    selected = rollup.scope(periods, Filters())

    assert rollup.slice_counts(periods, selected, datetime(2026, 4, 1, tzinfo=UTC)) is not None
    assert rollup.slice_counts(periods, selected, datetime(2026, 3, 2, 9, 10, tzinfo=UTC)) is None
    early = headline_series(
        "ignore_rate", periods, Filters(), view="period", as_of=datetime(2026, 3, 2, 9, 10, tzinfo=UTC)
    )
    assert early[0]["mqls"] == 2  # two of the four MQLs (every 7 minutes from 09:00) by 09:10


def test_awaiting_and_ignored_follow_the_clock_not_the_rollup(rep, team):
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    episodes(3, owner=rep, team=team, start=start, step=timedelta(hours=1))  # windows close 10:00, 11:00, 12:00
    periods = [Period(date(2026, 3, 2), date(2026, 3, 2), "UTC")]
    # 11:30: the first two windows have closed; 13:30: all three.
    for hour, ignored in ((11, 2), (13, 3)):
        as_of = start.replace(hour=hour, minute=30)
        values = headline_series("ignore_rate", periods, Filters(rep=rep.pk), view="period", as_of=as_of)[0]
        assert (values["ignored"], values["awaiting"]) == (ignored, 3 - ignored)


def test_a_rep_in_the_rollup_is_the_rep_the_filter_names(rep, other_rep, team):
    episodes(2, owner=rep, team=team)
    episodes(3, owner=other_rep, team=team)
    periods = [Period(date(2026, 11, 1), date(2026, 11, 30), "UTC")]
    for person, mqls in ((rep, 2), (other_rep, 3)):
        selected = rollup.scope(periods, Filters(rep=person.pk))
        assert rollup.slice_counts(periods, selected, AS_OF.replace(year=2027))[""][0]["mqls"] == mqls


def test_the_check_command_reports_and_repairs(rep, team, capsys):
    episodes(2, owner=rep, team=team)
    call_command("check_rollup")
    assert "equals" in capsys.readouterr().out
    EpisodeRollup.objects.filter(dimension="all").update(mqls=7)

    with pytest.raises(SystemExit) as stopped:
        call_command("check_rollup", "--repair")

    assert stopped.value.code == 1
    assert "mqls 7 != " in capsys.readouterr().err
    call_command("check_rollup")
    assert exact()
