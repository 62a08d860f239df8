"""The conversation rate by group and over several periods at once: each group's counts are the leads its list (``contacted_leads``) holds, each period's what the rate says for it alone."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import Count, Q

from leads.models import Activity, ActivityKind, Lead, MqlEpisode, Stage
from reports.metrics import Filters, Period, contacted_leads, conversation_rate
from reports.metrics.compare import _GROUP_FIELDS, BREAKDOWNS, _group_key, headline_breakdown, trend_periods
from reports.metrics.conversations import conversation_rates

KINDS = [ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.CONVERSATION, ActivityKind.MEETING, "website_visit"]


def _contacts(rep, other_rep, team, other_team):
    rng = random.Random(5)
    start = datetime(2026, 10, 20, tzinfo=UTC)
    for i in range(80):
        lead = Lead.objects.create(
            name=f"Lead {i}",
            company=f"Co {i}",
            email=f"c{i}@example.com",
            stage=Stage.LEAD,
            owner=rng.choice([rep, other_rep, None]),
            team=rng.choice([team, other_team, None]),
            source=rng.choice(["web", "event", ""]),
            campaign=rng.choice(["spring", ""]),
        )
        if rng.random() < 0.5:
            MqlEpisode.objects.create(
                lead=lead, number=1, mql_at=start + timedelta(hours=rng.randint(0, 900)), owner=lead.owner
            )
        for _ in range(rng.randint(0, 4)):
            Activity.objects.create(
                lead=lead, kind=rng.choice(KINDS), occurred_at=start + timedelta(hours=rng.randint(0, 1000))
            )


@pytest.mark.parametrize("by", BREAKDOWNS)
def test_each_groups_counts_are_the_leads_its_list_holds(rep, other_rep, team, by):
    other_team = team.__class__.objects.create(name="Second team")
    _contacts(rep, other_rep, team, other_team)
    period = Period(date(2026, 11, 1), date(2026, 11, 30), "Europe/Berlin")
    for filters in (Filters(), Filters(rep=rep.pk), Filters(source="web"), Filters(team=other_team.pk)):
        listed = (
            contacted_leads(period, filters)
            .values(*_GROUP_FIELDS[by])
            .annotate(
                mql_contacted=Count("id", filter=Q(was_mql=True)),
                mql_conversations=Count("id", filter=Q(was_mql=True, had_conversation=True)),
                colder_contacted=Count("id", filter=Q(was_mql=False)),
                colder_conversations=Count("id", filter=Q(was_mql=False, had_conversation=True)),
            )
        )
        expected = {
            _group_key(by, row): (
                row["mql_contacted"],
                row["mql_conversations"],
                row["colder_contacted"],
                row["colder_conversations"],
            )
            for row in listed
        }
        rows = headline_breakdown("conversation_rate", by, period, filters, view="period")
        found = {
            row.key: tuple(
                row.values[name]
                for name in ("mql_contacted", "mql_conversations", "colder_contacted", "colder_conversations")
            )
            for row in rows
        }
        assert found == expected, filters
        assert sum(counts[0] + counts[2] for counts in found.values()) == contacted_leads(period, filters).count()
        assert len(found) > 1 or filters != Filters()


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "Asia/Kolkata"])
def test_the_series_says_for_each_period_what_the_rate_says_for_it_alone(rep, other_rep, team, tz):
    other_team = team.__class__.objects.create(name="Second team")
    _contacts(rep, other_rep, team, other_team)
    period = Period(date(2026, 10, 26), date(2026, 11, 30), tz)
    previous = Period(date(2026, 9, 20), date(2026, 10, 25), tz)
    periods = [period, *trend_periods(period)[1], previous, Period(date(2026, 11, 3), date(2026, 11, 3), tz)]
    for filters in (Filters(), Filters(rep=rep.pk), Filters(source="web"), Filters(team=other_team.pk)):
        series = conversation_rates(periods, filters)
        assert series == [conversation_rate(p, filters) for p in periods], filters
    assert series[0].mql_contacted + series[0].colder_contacted > 0
