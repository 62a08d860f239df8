"""The next question of every report: the previous period, the trend and the breakdown, against hand-computed numbers."""

import json
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from leads.models import Activity, ActivityKind, Lead, MqlEpisode, RejectionReason, Stage
from reports import metrics
from reports.metrics import Filters, Period, compare

AS_OF = datetime(2026, 12, 15, tzinfo=UTC)
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30", "tz": "UTC", "as_of": AS_OF.isoformat()}

_leads = iter(range(1, 10_000))


def episode(mql_at, *, answered_after=None, window=timedelta(hours=1), **fields):
    """One MQL episode on a lead of its own; ``answered_after`` None: never followed up."""
    n = next(_leads)
    lead = Lead.objects.create(
        name=f"C{n}",
        email=f"compare{n}@example.com",
        stage=Stage.LEAD,
        owner=fields.get("owner"),
        team=fields.get("team"),
    )
    return MqlEpisode.objects.create(
        lead=lead,
        number=1,
        mql_at=mql_at,
        due_at=mql_at + window,
        first_follow_up_at=mql_at + answered_after if answered_after is not None else None,
        **fields,
    )


def api_get(client, endpoint, **params):
    response = client.get(reverse(f"reports_api:{endpoint}"), {**NOVEMBER, **params})
    assert response.status_code == 200, response.content
    return response.json()


def numbers(body):
    return {number["name"]: number for number in body["previous"]["numbers"]}


# ---------- the previous period ----------


@pytest.fixture
def two_months(rep, other_rep, team):
    # November: 4 MQLs, 1 ignored (window expired, never answered), 3 answered in 10 minutes.
    for day in (2, 9, 16):
        episode(datetime(2026, 11, day, 10, tzinfo=UTC), answered_after=timedelta(minutes=10), owner=rep, team=team)
    episode(datetime(2026, 11, 20, 10, tzinfo=UTC), owner=rep, team=team)
    # The previous 30 days (2 Oct to 31 Oct): 2 MQLs, 1 ignored: 50%.
    episode(datetime(2026, 10, 2, 0, 30, tzinfo=UTC), answered_after=timedelta(minutes=5), owner=other_rep, team=team)
    episode(datetime(2026, 10, 31, 23, 30, tzinfo=UTC), owner=other_rep, team=team)
    # 1 October is before the previous period.
    episode(datetime(2026, 10, 1, 12, tzinfo=UTC), owner=other_rep, team=team)


def test_previous_period_has_equal_length_and_ends_the_day_before():
    assert compare.previous_period(Period(date(2026, 11, 1), date(2026, 11, 30))) == Period(
        date(2026, 10, 2), date(2026, 10, 31)
    )
    # 1 to 31 March (31 days) → 29 January to 28 February.
    assert compare.previous_period(Period(date(2026, 3, 1), date(2026, 3, 31))) == Period(
        date(2026, 1, 29), date(2026, 2, 28)
    )
    assert compare.previous_period(Period(date(2000, 1, 1), date(2000, 1, 31))) is None


def test_previous_period_beside_each_headline_with_the_change(api, marketer, two_months):
    body = api_get(api(marketer), "ignore-rate")
    assert (body["previous"]["from"], body["previous"]["to"]) == ("2026-10-02", "2026-10-31")
    previous = numbers(body)
    # 25% now, 50% before: −25 points.
    assert (previous["ignore_rate"]["value"], previous["ignore_rate"]["change"]) == (50.0, -25.0)
    assert (previous["mqls"]["value"], previous["mqls"]["change"]) == (2, 2)
    assert (previous["followed_up"]["value"], previous["followed_up"]["change"]) == (1, 2)
    assert (previous["awaiting"]["value"], previous["awaiting"]["change"]) == (0, 0)
    # The previous number links to the previous period's leads.
    query = parse_qs(urlsplit(previous["ignored"]["leads_url"]).query)
    assert (query["from"], query["to"], query["bucket"]) == (["2026-10-02"], ["2026-10-31"], ["ignored"])
    # A zero is no link.
    assert previous["awaiting"]["leads_url"] is None


def test_the_page_shows_the_previous_number_and_the_change(client, marketer, two_months):
    client.force_login(marketer)
    page = client.get(reverse("reports:ignore_rate"), NOVEMBER).content.decode()
    assert "Previous period: 50%" in page
    assert "(−25 pts)" in page


def test_speed_previous_period_compares_times_in_seconds(api, marketer, two_months):
    body = api_get(api(marketer), "speed-to-lead")
    previous = numbers(body)
    # Now: 3 answers, all in 10 minutes; before: one in 5 minutes.
    assert previous["median"]["value"] == 300.0
    assert previous["median"]["change"] == 300.0
    assert (previous["within_hour"]["value"], previous["within_hour"]["change"]) == (100.0, 0.0)


def test_the_overview_has_the_previous_period_of_every_report(api, marketer, two_months):
    body = api_get(api(marketer), "overview")
    assert (body["previous"]["from"], body["previous"]["to"]) == ("2026-10-02", "2026-10-31")
    previous = numbers(body)
    # The same numbers as the ignore rate's and speed's own pages (above), named <report>.<headline>.
    assert (previous["ignore_rate.ignore_rate"]["value"], previous["ignore_rate.ignore_rate"]["change"]) == (
        50.0,
        -25.0,
    )
    assert (previous["ignore_rate.mqls"]["value"], previous["ignore_rate.mqls"]["change"]) == (2, 2)
    assert (previous["speed_to_lead.median"]["value"], previous["speed_to_lead.median"]["change"]) == (300.0, 300.0)
    assert (previous["mql_target.produced"]["value"], previous["mql_target.produced"]["change"]) == (2, 2)
    assert previous["conversation_rate.mql_rate"]["value"] is None  # no contacted leads: 0 ÷ 0
    query = parse_qs(urlsplit(previous["ignore_rate.ignored"]["leads_url"]).query)
    assert (query["metric"], query["from"], query["bucket"]) == (["ignore_rate"], ["2026-10-02"], ["ignored"])
    every = {(slug, h.name) for slug in metrics_slugs() for h in compare.headlines_of(slug)}
    assert {tuple(name.split(".")) for name in previous} == every


def metrics_slugs():
    return [*compare.HEADLINES, "conversation_rate"]


def test_the_overview_trend_counts_each_week(api, marketer, two_months):
    body = api_get(api(marketer), "overview")
    assert body["trend"]["unit"] == "week"
    # November 2026 starts on a Sunday: 1 Nov, then the weeks of 2, 9, 16, 23 and 30 November.
    weeks = [(bucket["from"], bucket["values"]["ignore_rate.mqls"]) for bucket in body["trend"]["buckets"]]
    assert weeks == [
        ("2026-11-01", 0),
        ("2026-11-02", 1),
        ("2026-11-09", 1),
        ("2026-11-16", 2),
        ("2026-11-23", 0),
        ("2026-11-30", 0),
    ]
    assert body["trend"]["buckets"][3]["values"]["ignore_rate.ignore_rate"] == 50.0


def test_the_overview_cards_show_the_previous_number_and_the_change(client, marketer, two_months):
    client.force_login(marketer)
    page = client.get(reverse("reports:overview"), NOVEMBER).content.decode()
    assert "Previous period: 50%" in page
    assert "(−25 pts)" in page
    assert '<canvas data-chart="overview-trend-chart"' in page
    assert 'id="table-trend"' in page


def test_the_overview_breakdown_by_rep_matches_each_reports_own(api, marketer, rep, other_rep, team, two_months):
    # A colder lead of other_rep's, contacted with a conversation in November: in the conversation
    # rate's breakdown only, so its row in the overview has zero episode counts.
    lead = Lead.objects.create(name="Talk", email="talk@example.com", stage=Stage.SAL, owner=other_rep, team=team)
    Activity.objects.create(lead=lead, kind=ActivityKind.CONVERSATION, occurred_at=datetime(2026, 11, 17, tzinfo=UTC))
    client = api(marketer)
    overview = api_get(client, "overview", by="rep")
    assert overview["breakdown"]["by"] == "rep"
    rows = {row["name"]: {n["name"]: n for n in row["numbers"]} for row in overview["breakdown"]["rows"]}
    for endpoint, slug in (("ignore-rate", "ignore_rate"), ("conversation-rate", "conversation_rate")):
        own = api_get(client, endpoint, by="rep")["breakdown"]["rows"]
        for row in own:
            for number in row["numbers"]:
                mine = rows[row["name"]][f"{slug}.{number['name']}"]
                assert (mine["value"], mine["leads_url"]) == (number["value"], number["leads_url"]), (row, number)
    # Rita: 4 November MQLs, 1 ignored; Oscar: no MQL in November, one colder conversation.
    rita = next(name for name in rows if name.startswith("Rita"))
    oscar = next(name for name in rows if name.startswith("Oscar"))
    assert (rows[rita]["ignore_rate.mqls"]["value"], rows[rita]["ignore_rate.ignore_rate"]["value"]) == (4, 25.0)
    assert rows[oscar]["ignore_rate.mqls"]["value"] == 0
    assert rows[oscar]["speed_to_lead.median"]["value"] is None
    assert rows[oscar]["conversation_rate.colder_conversations"]["value"] == 1


def test_the_overview_offers_a_breakdown_table(client, marketer, two_months):
    client.force_login(marketer)
    page = client.get(reverse("reports:overview"), {**NOVEMBER, "by": "team"}).content.decode()
    assert 'id="table-breakdown-team"' in page
    assert 'name="by"' in page


# ---------- the trend ----------


def test_weeks_run_monday_to_sunday_cut_to_the_period():
    # 1 November 2026 is a Sunday, 30 November a Monday.
    unit, buckets = compare.trend_periods(Period(date(2026, 11, 1), date(2026, 11, 30)))
    assert unit == "week"
    assert [(b.start.day, b.end.day) for b in buckets] == [(1, 1), (2, 8), (9, 15), (16, 22), (23, 29), (30, 30)]


def test_periods_over_six_months_trend_by_month():
    unit, buckets = compare.trend_periods(Period(date(2026, 1, 15), date(2026, 12, 31)))
    assert unit == "month"
    assert [(b.start, b.end) for b in buckets][:2] == [
        (date(2026, 1, 15), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
    ]
    assert len(buckets) == 12
    # 183 days are still weeks.
    assert compare.trend_unit(Period(date(2026, 1, 1), date(2026, 7, 2))) == "week"


def test_trend_counts_per_week_in_the_reports_time_zone_across_the_dst_change(db):
    # Berlin leaves winter time at 02:00 on Sunday 29 March 2026.
    episode(datetime(2026, 3, 28, 23, 30, tzinfo=UTC))  # Sunday 29 March, 00:30 CET
    episode(datetime(2026, 3, 29, 22, 30, tzinfo=UTC))  # Monday 30 March, 00:30 CEST
    berlin = Period(date(2026, 3, 23), date(2026, 4, 5), "Europe/Berlin")
    _unit, weeks = compare.trend_periods(berlin)
    series = compare.headline_series("ignore_rate", weeks, Filters(), view="period", as_of=AS_OF)
    assert [values["mqls"] for values in series] == [1, 1]
    utc = Period(date(2026, 3, 23), date(2026, 4, 5), "UTC")
    _unit, weeks = compare.trend_periods(utc)
    series = compare.headline_series("ignore_rate", weeks, Filters(), view="period", as_of=AS_OF)
    assert [values["mqls"] for values in series] == [2, 0]


def test_trend_by_month_puts_a_month_boundary_mql_in_its_local_month(api, marketer, two_months):
    # 31 October 23:30 UTC is 1 November 00:30 in Berlin.
    body = api_get(api(marketer), "conversion", **{"from": "2026-06-01", "to": "2026-12-31", "tz": "Europe/Berlin"})
    assert body["trend"]["unit"] == "month"
    by_month = {bucket["from"]: bucket["values"]["mqls"] for bucket in body["trend"]["buckets"]}
    assert by_month["2026-10-01"] == 2  # 1 and 2 October
    assert by_month["2026-11-01"] == 5  # the four of November and the one of 31 October UTC
    body = api_get(api(marketer), "conversion", **{"from": "2026-06-01", "to": "2026-12-31", "tz": "UTC"})
    by_month = {bucket["from"]: bucket["values"]["mqls"] for bucket in body["trend"]["buckets"]}
    assert (by_month["2026-10-01"], by_month["2026-11-01"]) == (3, 4)


@pytest.mark.parametrize("view", ["period", "cohort"])
def test_each_trend_bucket_says_what_the_report_says_for_that_bucket_alone(two_months, rep, view):
    # Accepted and qualified later, across the weeks: the period view counts them where they happen.
    first = MqlEpisode.objects.order_by("mql_at").filter(mql_at__month=11).first()
    MqlEpisode.objects.filter(pk=first.pk).update(
        accepted_at=datetime(2026, 11, 10, tzinfo=UTC), qualified_at=datetime(2026, 11, 24, tzinfo=UTC)
    )
    november = Period(date(2026, 11, 1), date(2026, 11, 30))
    _unit, weeks = compare.trend_periods(november)
    for slug, metric in (
        ("ignore_rate", lambda p: metrics.ignore_rate(p, Filters(), as_of=AS_OF).ignored),
        ("sla_compliance", lambda p: metrics.sla_compliance(p, Filters(), as_of=AS_OF).within),
        ("conversion", lambda p: metrics.conversion(p, Filters(), view=view, as_of=AS_OF).sqls),
    ):
        series = compare.headline_series(slug, weeks, Filters(), view=view, as_of=AS_OF)
        name = {"ignore_rate": "ignored", "sla_compliance": "within", "conversion": "sqls"}[slug]
        assert [values[name] for values in series] == [metric(week) for week in weeks], slug


def test_conversation_rate_series_matches_the_metric_per_period(rep, team):
    lead = Lead.objects.create(name="Talk", email="talk@example.com", stage=Stage.SAL, owner=rep, team=team)
    Activity.objects.create(lead=lead, kind=ActivityKind.CALL, occurred_at=datetime(2026, 11, 3, tzinfo=UTC))
    Activity.objects.create(lead=lead, kind=ActivityKind.CONVERSATION, occurred_at=datetime(2026, 11, 17, tzinfo=UTC))
    periods = [Period(date(2026, 11, 1), date(2026, 11, 8)), Period(date(2026, 11, 9), date(2026, 11, 30))]
    for filters in (Filters(), Filters(rep=rep.pk), Filters(team=team.pk)):
        series = metrics.conversations.conversation_rates(periods, filters)
        assert series == [metrics.conversation_rate(p, filters) for p in periods]
    # Week one: contacted, no conversation; the rest of November: contacted with a conversation.
    assert [(r.colder_contacted, r.colder_conversations) for r in series] == [(1, 0), (1, 1)]


def test_an_empty_period_says_so_without_a_chart(client, marketer):
    client.force_login(marketer)
    page = client.get(reverse("reports:sla_compliance"), NOVEMBER).content.decode()
    assert "Nothing to chart in this period." in page
    assert 'data-chart="sla-compliance-trend-chart"' not in page


# ---------- the breakdown ----------


def test_breakdown_by_rep_links_each_count_and_not_zeros(api, marketer, rep, other_rep, team, two_months):
    episode(datetime(2026, 11, 25, 10, tzinfo=UTC), owner=other_rep, team=team, answered_after=timedelta(minutes=2))
    episode(datetime(2026, 11, 26, 10, tzinfo=UTC))  # unassigned, ignored
    body = api_get(api(marketer), "ignore-rate", by="rep")
    rows = {row["name"]: {n["name"]: n for n in row["numbers"]} for row in body["breakdown"]["rows"]}
    assert [row["name"] for row in body["breakdown"]["rows"]] == ["Oscar Other", "Rita Rep", "Unassigned"]
    assert (rows["Rita Rep"]["mqls"]["value"], rows["Rita Rep"]["ignored"]["value"]) == (4, 1)
    assert rows["Rita Rep"]["ignore_rate"]["value"] == 25.0
    query = parse_qs(urlsplit(rows["Rita Rep"]["ignored"]["leads_url"]).query)
    assert (query["rep"], query["bucket"]) == ([str(rep.pk)], ["ignored"])
    assert rows["Oscar Other"]["ignored"]["value"] == 0
    assert rows["Oscar Other"]["ignored"]["leads_url"] is None
    assert rows["Unassigned"]["ignored"]["value"] == 1
    assert rows["Unassigned"]["ignored"]["leads_url"] is None
    # The breakdown's link lists exactly the leads it counts.
    url = urlsplit(rows["Rita Rep"]["mqls"]["leads_url"])
    listed = api(marketer).get(f"{url.path}?{url.query}").json()
    assert listed["count"] == 4


def test_breakdown_by_source_and_team_on_the_page(client, marketer, rep, team):
    episode(datetime(2026, 11, 3, tzinfo=UTC), owner=rep, team=team, source="webinar")
    episode(datetime(2026, 11, 4, tzinfo=UTC), owner=rep, team=team, source="webinar")
    episode(datetime(2026, 11, 5, tzinfo=UTC), owner=rep, team=team, source="")
    client.force_login(marketer)
    page = client.get(reverse("reports:conversion"), {**NOVEMBER, "by": "source"}).content.decode()
    assert 'id="table-breakdown-source"' in page
    assert "webinar" in page and "(none)" in page
    page = client.get(reverse("reports:conversion"), {**NOVEMBER, "by": "team"}).content.decode()
    assert 'id="table-breakdown-team"' in page and "North" in page


def test_a_reps_breakdown_shows_only_the_rep(api, rep, two_months):
    body = api_get(api(rep), "ignore-rate", by="rep")
    assert [row["name"] for row in body["breakdown"]["rows"]] == ["Rita Rep"]
    body = api_get(api(rep), "ignore-rate", by="team")
    assert [row["name"] for row in body["breakdown"]["rows"]] == ["North"]


@pytest.mark.parametrize("value", ["owner", "REP", "rep\x00", "x" * 200])
def test_a_bad_breakdown_is_a_clear_400(api, client, marketer, value):
    response = api(marketer).get(reverse("reports_api:ignore-rate"), {**NOVEMBER, "by": value})
    assert response.status_code == 400
    if "\x00" not in value:
        assert response.json()["by"] == ["Break down by rep, team, source or campaign."]
    client.force_login(marketer)
    assert client.get(reverse("reports:ignore_rate"), {**NOVEMBER, "by": value}).status_code == 400


def test_without_by_there_is_no_breakdown(api, marketer, two_months):
    assert api_get(api(marketer), "mql-target")["breakdown"] is None


def test_a_time_zone_name_too_long_for_the_file_system_is_a_400(api, marketer):
    # ZoneInfo looks the name up as a file: a name over 255 bytes is an OSError, not "not found".
    response = api(marketer).get(reverse("reports_api:conversion"), {**NOVEMBER, "tz": "é" * 130})
    assert response.status_code == 400
    assert "tz" in response.json()


# ---------- readability ----------


def test_with_notes_lists_only_rejections_with_notes_and_titles_the_reason_by_label(client, marketer, rep, team):
    budget = RejectionReason.objects.get(code="no-budget")
    rejected = datetime(2026, 11, 10, tzinfo=UTC)
    for note in ("Frozen until Q3", ""):
        row = episode(datetime(2026, 11, 9, tzinfo=UTC), owner=rep, team=team, answered_after=timedelta(hours=1))
        MqlEpisode.objects.filter(pk=row.pk).update(
            rejected_at=rejected, rejection_reason=budget, rejection_note=note, rejected_from="mql"
        )
    client.force_login(marketer)
    page = client.get(reverse("reports:rejection_reasons"), {**NOVEMBER, "reason": "no-budget"}).content.decode()
    assert "bucket=with_notes" in page
    listed = client.get(
        reverse("reports:leads"),
        {**NOVEMBER, "metric": "rejection_reasons", "bucket": "with_notes", "reason": "no-budget"},
    ).content.decode()
    assert "with a note: No budget" in listed
    api_body = client.get(
        reverse("reports_api:leads"),
        {**NOVEMBER, "metric": "rejection_reasons", "bucket": "with_notes", "reason": "no-budget"},
    ).json()
    assert [row["rejection_note"] for row in api_body["results"]] == ["Frozen until Q3"]


def test_rejection_trend_is_stacked_bars_in_a_colour_blind_safe_palette(client, marketer, rep, team):
    for index in range(9):
        code = RejectionReason.objects.create(code=f"r{index}", label=f"Reason {index}")
        row = episode(datetime(2026, 11, 9, tzinfo=UTC), owner=rep, team=team, answered_after=timedelta(hours=1))
        MqlEpisode.objects.filter(pk=row.pk).update(
            rejected_at=datetime(2026, 11, 10 + index, tzinfo=UTC), rejection_reason=code, rejected_from="mql"
        )
    client.force_login(marketer)
    page = client.get(reverse("reports:rejection_reasons"), NOVEMBER).content.decode()
    blob = re.search(r'<script id="rejection-trend-chart" type="application/json">(.*?)</script>', page, re.S)
    chart = json.loads(blob.group(1))
    assert (chart["kind"], chart["stacked"]) == ("bar", True)
    tones = [dataset["tone"] for dataset in chart["datasets"]]
    assert tones == ["cb1", "cb2", "cb3", "cb4", "cb5", "cb6", "cb7", "cbother"]
    assert chart["datasets"][-1]["label"] == "Other reasons (2)"
    assert 'tabindex="0" role="region"' in page


def test_the_breakdown_table_exports_as_csv(client, marketer, rep, team, two_months):
    client.force_login(marketer)
    page = client.get(reverse("reports:ignore_rate"), {**NOVEMBER, "by": "rep"}).content.decode()
    assert "by=rep&amp;format=csv&amp;table=breakdown-rep" in page
    response = client.get(
        reverse("reports:ignore_rate"), {**NOVEMBER, "by": "rep", "format": "csv", "table": "breakdown-rep"}
    )
    lines = response.content.decode().splitlines()
    assert lines[0] == "Rep,Ignore rate (%),MQLs,Ignored,Awaiting response,Followed up"
    assert "Rita Rep,25.00,4,1,0,3" in lines


# ---------- the series of a long period: months, the whole period and the previous one ----------

# 1 June to 31 December 2026: 214 days, so the trend is by month; the previous period is
# 30 October 2025 to 31 May 2026.
SUMMER_ON = Period(date(2026, 6, 1), date(2026, 12, 31))


def _series_periods(period):
    """The periods in the order the pages ask for them: the period, its trend's buckets, the previous period."""
    _unit, buckets = compare.trend_periods(period)
    return [period, *buckets, compare.previous_period(period)]


def test_speed_series_has_each_months_median_the_whole_periods_and_empty_months(db):
    minutes = timedelta(minutes=1)
    for day, answered in ((2, 10), (3, 20), (4, 60)):  # June: median 20 min, mean 30 min
        episode(datetime(2026, 6, day, 9, tzinfo=UTC), answered_after=answered * minutes)
    for day, answered in ((5, 30), (6, 90)):  # August: median 60 min (interpolated), mean 60 min
        episode(datetime(2026, 8, day, 9, tzinfo=UTC), answered_after=answered * minutes)
    episode(datetime(2026, 5, 20, 9, tzinfo=UTC), answered_after=5 * minutes)  # the previous period
    episode(datetime(2026, 12, 20, 9, tzinfo=UTC), answered_after=5 * minutes)  # after as_of
    periods = _series_periods(SUMMER_ON)
    assert [p.start.month for p in periods[1:-1]] == [6, 7, 8, 9, 10, 11, 12]

    series = compare.headline_series("speed_to_lead", periods, Filters(), view="period", as_of=AS_OF)

    whole, june, july, august, previous = series[0], series[1], series[2], series[3], series[-1]
    # The period: 10, 20, 30, 60, 90 minutes.
    assert (whole["responded"], whole["median"], whole["mean"]) == (5, 30 * minutes, 42 * minutes)
    assert whole["within_hour"] == metrics.Ratio(4, 5)
    assert (june["responded"], june["median"], june["mean"]) == (3, 20 * minutes, 30 * minutes)
    assert june["within_hour"] == metrics.Ratio(3, 3)  # 60 minutes is within the hour
    assert (july["responded"], july["median"], july["mean"], july["within_hour"]) == (
        0,
        None,
        None,
        metrics.Ratio(0, 0),
    )
    assert (august["median"], august["mean"], august["within_hour"]) == (
        60 * minutes,
        60 * minutes,
        metrics.Ratio(1, 2),
    )
    assert (previous["responded"], previous["median"]) == (1, 5 * minutes)
    assert [values["responded"] for values in series[4:-1]] == [0, 0, 0, 0]
    # The whole period says what the report says.
    report = metrics.speed_to_lead(SUMMER_ON, Filters(), as_of=AS_OF)
    assert (report.median, report.mean, report.responded) == (whole["median"], whole["mean"], whole["responded"])


@pytest.fixture
def steps_across_months(db):
    # MQL in the previous period (20 May), accepted in June, qualified in August.
    episode(
        datetime(2026, 5, 20, 9, tzinfo=UTC),
        answered_after=timedelta(minutes=5),
        accepted_at=datetime(2026, 6, 3, 9, tzinfo=UTC),
        qualified_at=datetime(2026, 8, 10, 9, tzinfo=UTC),
    )
    # MQL in June, accepted the next day, rejected in July.
    episode(
        datetime(2026, 6, 5, 9, tzinfo=UTC),
        answered_after=timedelta(minutes=5),
        accepted_at=datetime(2026, 6, 6, 9, tzinfo=UTC),
        rejected_at=datetime(2026, 7, 2, 9, tzinfo=UTC),
    )
    # MQL in December, accepted after 'as of': no SAL yet.
    episode(datetime(2026, 12, 1, 9, tzinfo=UTC), accepted_at=datetime(2026, 12, 20, 9, tzinfo=UTC))


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        # (mqls, sals, sqls) of: the period, June, July, August, December, the previous period.
        ("period", [(2, 2, 1), (1, 2, 0), (0, 0, 0), (0, 0, 1), (1, 0, 0), (1, 0, 0)]),
        ("cohort", [(2, 1, 0), (1, 1, 0), (0, 0, 0), (0, 0, 0), (1, 0, 0), (1, 1, 1)]),
    ],
)
def test_conversion_series_counts_each_step_in_its_own_month(steps_across_months, view, expected):
    series = compare.headline_series("conversion", _series_periods(SUMMER_ON), Filters(), view=view, as_of=AS_OF)
    picked = [series[0], series[1], series[2], series[3], series[7], series[8]]
    assert [(values["mqls"], values["sals"], values["sqls"]) for values in picked] == expected
    rejections = compare.headline_series(
        "rejection_reasons", _series_periods(SUMMER_ON), Filters(), view=view, as_of=AS_OF
    )
    assert [values["rejections"] for values in rejections] == [1, 0, 1, 0, 0, 0, 0, 0, 0]


@pytest.mark.parametrize("view", ["period", "cohort"])
def test_the_overview_series_says_what_each_reports_series_says(steps_across_months, view):
    periods = _series_periods(SUMMER_ON)
    overview = compare.overview_series(periods, Filters(), view=view, as_of=AS_OF)
    for slug in compare.HEADLINES:
        assert [values[slug] for values in overview] == compare.headline_series(
            slug, periods, Filters(), view=view, as_of=AS_OF
        ), slug
