"""The next question on every report page: the previous period beside each headline, the trend, and a breakdown.

``with_comparisons(slug, build)`` wraps a report's builder: the report it
builds gets, in its ``data`` (so the JSON twin gives them too),

- ``previous``: the headline numbers of the previous period of equal length,
  each with its change (percentage points for a rate, seconds for a time);
- ``trend``: the headline numbers per week, or per month for periods over six
  months, drawn as a chart with the table as its text alternative;
- ``breakdown`` (with ``by=rep|team|source|campaign``): the headline numbers
  per group, each count linked to its leads (no link for a zero, nor for a
  group no filter selects, such as unassigned MQLs).

The previous period, the current one and the trend's buckets come from one
query (``metrics.compare.headline_series``), the breakdown from one more.
"""

import dataclasses
from datetime import timedelta

from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy

from ..metrics import Ratio, compare
from ..templatetags.reports_ui import cell, duration, number
from .blocks import Cell, Number, Table, _chart, _dataset, _linker

# Where a headline's ``Number`` sits in a report's ``data``, when not under its own name.
_NUMBER_PATHS = {
    "conversation_rate": {
        "mql_rate": ("mql", "rate"),
        "colder_rate": ("colder", "rate"),
        "mql_contacted": ("mql", "contacted"),
        "mql_conversations": ("mql", "conversations"),
        "colder_contacted": ("colder", "contacted"),
        "colder_conversations": ("colder", "conversations"),
    },
}
_BY_LABELS = {
    "rep": gettext_lazy("Rep"),
    "team": gettext_lazy("Team"),
    "source": gettext_lazy("Source"),
    "campaign": gettext_lazy("Campaign"),
}
# "Per week", "Breakdown by rep": the unit and the grouping in words.
_PER = {"week": gettext_lazy("Per week"), "month": gettext_lazy("Per month")}
_BREAKDOWN_TITLES = {
    "rep": gettext_lazy("Breakdown by rep"),
    "team": gettext_lazy("Breakdown by team"),
    "source": gettext_lazy("Breakdown by source"),
    "campaign": gettext_lazy("Breakdown by campaign"),
}
_TREND_TONES = ("primary", "good", "bad", "wait", "muted")


def plain(value):
    """A headline value for JSON: a rate as its percent (None for 0 ÷ 0), a time in seconds, a count as is."""
    if isinstance(value, Ratio):
        return None if value.percent is None else round(value.percent, 4)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def change(current, previous):
    """``current`` minus ``previous`` (rates in percentage points, times in seconds); None when either is unknown."""
    current, previous = plain(current), plain(previous)
    if current is None or previous is None:
        return None
    difference = current - previous
    return round(difference, 4) if isinstance(difference, float) else difference


def change_text(value, kind):
    """'+3', '−2.5 pts', '+1h 02m', 'no change' (German '−2,5 Pkt.', 'unverändert'); '' when unknown."""
    if value is None:
        return ""
    if not value:
        return gettext("no change")
    sign = "+" if value > 0 else "−"
    if kind == "percent":
        points = round(abs(value), 1)
        shown = number(points, 0) if points == int(points) else number(points, 1)
        # Translators: a change in percentage points, e.g. "+3 pts".
        return gettext("%(sign)s%(points)s pts") % {"sign": sign, "points": shown}
    if kind == "duration":
        return f"{sign}{duration(abs(value))}"
    return f"{sign}{number(abs(value))}"


# The reports whose page shows nothing but their headline numbers: built from the series' period.
_HEADLINES_ONLY = ("conversion", "sla_compliance", "conversation_rate")


def with_comparisons(slug, build):
    """``build`` with the previous period, the trend and the breakdown added to the report it returns.

    The series (the period, the trend's buckets, the previous period) is computed
    first, and the period's numbers are computed once: a report made of nothing
    but its headline numbers (``compare.headline_result``) is built from the
    series' period, and a median or mean of the period comes from the report
    (which sorts the same response times for its p90), not again from the series.
    """

    def build_and_compare(form, as_of, **options):
        view = form.selected_view
        timed = any(h.kind == "duration" for h in compare.headlines_of(slug))
        periods = comparison_periods(form.period)[-1]
        series = compare.headline_series(slug, periods, form.filters, view=view, as_of=as_of, first_durations=not timed)
        if slug in _HEADLINES_ONLY:
            options["result"] = compare.headline_result(slug, series[0], view=view, as_of=as_of)
        report = build(form, as_of, **options)
        if timed:
            series[0] = _with_report_durations(report, slug, series[0])
        add_comparisons(report, slug, form, as_of, series, leads_url=options.get("leads_url"))
        return report

    build_and_compare.__name__ = getattr(build, "__name__", "build")
    build_and_compare.__doc__ = build.__doc__
    return build_and_compare


def _with_report_durations(report, slug, values):
    """``values`` with each duration headline taken from the report's own ``Number`` of it."""
    values = dict(values)
    for h in compare.headlines_of(slug):
        if h.kind == "duration":
            holder, key = _number_in(report.data, slug, h.name)
            values[h.name] = holder[key].value
    return values


def comparison_periods(period):
    """The trend's unit and buckets, the previous period (or None) and the series' periods: the period, the buckets, the previous one."""
    previous = compare.previous_period(period)
    unit, buckets = compare.trend_periods(period)
    return unit, buckets, previous, [period, *buckets] + ([previous] if previous else [])


def add_comparisons(report, slug, form, as_of, series, *, leads_url=None):
    """Add to ``report`` the previous period and trend from ``series`` (the headline numbers of ``comparison_periods``), and the ``by=`` breakdown."""
    period, filters, view = form.period, form.filters, form.selected_view
    headlines = compare.headlines_of(slug)
    link = _linker(form, as_of, slug, leads_url)
    unit, buckets, previous, _periods_asked = comparison_periods(period)
    current, trend = series[0], series[1 : 1 + len(buckets)]
    before = series[-1] if previous else None

    report.data["previous"] = _previous(headlines, current, before, previous, link)
    report.data["trend"] = {
        "unit": unit,
        "buckets": [
            {"from": bucket.start, "to": bucket.end, "values": {h.name: plain(values[h.name]) for h in headlines}}
            for bucket, values in zip(buckets, trend, strict=True)
        ],
    }
    _mark_numbers(report, slug, headlines, report.data["previous"])
    report.charts.append(_trend_chart(slug, unit, headlines, buckets, trend))
    report.tables.append(_trend_table(unit, headlines, buckets, trend))

    by = form.cleaned_data.get("by") or ""
    report.data["breakdown"] = None
    if by:
        rows = compare.headline_breakdown(slug, by, period, filters, view=view, as_of=as_of)
        report.data["breakdown"] = _breakdown(by, headlines, rows, link)
        report.tables.append(_breakdown_table(by, headlines, report.data["breakdown"]))
    return report


# The overview's trend: the first headline of each report (the waterfall's MQL → SAL is the conversion page's too).
_OVERVIEW_TREND = (
    "ignore_rate",
    "conversion",
    "speed_to_lead",
    "sla_compliance",
    "rejection_reasons",
    "conversation_rate",
    "mql_target",
    "response_effect",
)


def add_overview_comparisons(report, cards, form, as_of, series, *, leads_url=None):
    """Give each of the overview's ``cards`` (by slug) its previous period, and ``report`` the previous period, trend and breakdown of them all.

    Every report's headline numbers for the period, the previous period and the
    trend's buckets are ``series``, from ``metrics.compare.overview_series`` over
    ``comparison_periods`` (the overview computes it first, for its cards), the
    breakdown from ``metrics.compare.overview_breakdown``: each one query for
    the episode reports and one for the conversation rate. In ``data`` a number
    of the overview is named ``<report>.<headline>``.
    """
    period, view = form.period, form.selected_view
    unit, buckets, previous, _periods_asked = comparison_periods(period)
    current, trend = series[0], series[1 : 1 + len(buckets)]
    before = series[-1] if previous else None

    numbers = []
    for slug, card in cards.items():
        headlines = compare.headlines_of(slug)
        link = _linker(form, as_of, slug, leads_url)
        card.data["previous"] = _previous(headlines, current[slug], before and before[slug], previous, link)
        _mark_numbers(card, slug, headlines, card.data["previous"])
        if previous:
            numbers += [{**number, "name": f"{slug}.{number['name']}"} for number in card.data["previous"]["numbers"]]
    report.data["previous"] = {"from": previous.start, "to": previous.end, "numbers": numbers} if previous else None

    every = [(slug, h) for slug in cards for h in compare.headlines_of(slug)]
    report.data["trend"] = {
        "unit": unit,
        "buckets": [
            {
                "from": bucket.start,
                "to": bucket.end,
                "values": {f"{slug}.{h.name}": plain(values[slug][h.name]) for slug, h in every},
            }
            for bucket, values in zip(buckets, trend, strict=True)
        ],
    }
    main = [dataclasses.replace(compare.headlines_of(slug)[0], name=slug) for slug in _OVERVIEW_TREND]
    firsts = [{slug: values[slug][compare.headlines_of(slug)[0].name] for slug in _OVERVIEW_TREND} for values in trend]
    report.charts.append(_trend_chart("overview", unit, main, buckets, firsts))
    report.tables.append(_trend_table(unit, main, buckets, firsts))

    by = form.cleaned_data.get("by") or ""
    report.data["breakdown"] = None
    if by:
        rows = compare.overview_breakdown(by, period, form.filters, view=view, as_of=as_of)
        links = {slug: _linker(form, as_of, slug, leads_url) for slug in cards}
        report.data["breakdown"] = {"by": by, "rows": [_overview_group(by, row, every, links) for row in rows]}
        shown = [f"{slug}.{compare.headlines_of(slug)[0].name}" for slug in _OVERVIEW_TREND]
        table = {"rows": []}
        for row in report.data["breakdown"]["rows"]:
            numbers = {number["name"]: number for number in row["numbers"]}
            table["rows"].append({**row, "numbers": [numbers[name] for name in shown]})
        report.tables.append(_breakdown_table(by, main, table))
    return report


def _overview_group(by, row, every, links):
    numbers = []
    for slug, h in every:
        value = row.values[slug][h.name]
        link = _count_link(links[slug], h, value, **{by: row.key}) if row.key is not None else ""
        numbers.append({"name": f"{slug}.{h.name}", "value": plain(value), "leads_url": link or None, "_value": value})
    return {"key": row.key, "name": row.name, "numbers": numbers}


def _count_link(link, headline, value, **extra):
    """The leads behind a count (a rate: its numerator); none for a zero."""
    count = value.numerator if isinstance(value, Ratio) else value
    if not headline.bucket or not count or isinstance(value, timedelta):
        return ""
    return link(headline.bucket, **extra)


def _previous(headlines, current, before, previous, link):
    if previous is None:
        return None
    return {
        "from": previous.start,
        "to": previous.end,
        "numbers": [
            {
                "name": h.name,
                "label": h.label,
                "kind": h.kind,
                "value": plain(before[h.name]),
                "change": change(current[h.name], before[h.name]),
                "leads_url": _count_link(link, h, before[h.name], period=previous) or None,
            }
            for h in headlines
        ],
    }


def _number_in(data, slug, name):
    path = _NUMBER_PATHS.get(slug, {}).get(name, (name,))
    holder = data
    for key in path[:-1]:
        holder = holder.get(key, {})
    return holder, path[-1]


def _mark_numbers(report, slug, headlines, previous):
    """Give each headline ``Number`` of the page its previous value and change, in ``data`` and in ``numbers``."""
    if previous is None:
        return
    replaced = {}
    for h, before in zip(headlines, previous["numbers"], strict=True):
        holder, key = _number_in(report.data, slug, h.name)
        number = holder.get(key)
        if not isinstance(number, Number):
            continue
        shown = before["value"]
        if h.kind == "percent":
            shown = cell(shown, "percent")
        elif h.kind == "duration":
            shown = duration(shown)
        else:
            shown = cell(shown, "int")
        marked = dataclasses.replace(number, previous=shown, change=change_text(before["change"], h.kind))
        holder[key] = marked
        replaced[id(number)] = marked
    report.numbers = [replaced.get(id(number), number) for number in report.numbers]


def _bucket_label(unit, bucket):
    return date_format(bucket.start, "YEAR_MONTH_FORMAT" if unit == "month" else "MONTH_DAY_FORMAT")


def _trend_chart(slug, unit, headlines, buckets, trend):
    """A line per rate (or per count when the report has no rate); no chart at all when nothing happened."""
    rates = [h for h in headlines if h.kind == "percent"]
    drawn = rates or [h for h in headlines if h.kind == "int"][:3]
    counts = [h for h in headlines if h.kind == "int"]
    empty = not any(values[h.name] for values in trend for h in counts)
    title = gettext("%(per)s: %(numbers)s") % {"per": _PER[unit], "numbers": ", ".join(str(h.label) for h in drawn)}
    return _chart(
        f"{slug.replace('_', '-')}-trend-chart",
        "line",
        title,
        [_bucket_label(unit, bucket) for bucket in buckets],
        [
            _dataset(h.label, [plain(values[h.name]) for values in trend], tone=tone)
            for h, tone in zip(drawn, _TREND_TONES, strict=False)
        ],
        empty=empty,
        percent=bool(rates),
    )


def _cells(headlines, values, links=None):
    links = links or {}
    return [Cell(values[h.name], h.kind, links.get(h.name, "")) for h in headlines]


def _trend_table(unit, headlines, buckets, trend):
    rows = [
        [Cell(bucket.start, unit if unit == "month" else "week"), *_cells(headlines, values)]
        for bucket, values in zip(buckets, trend, strict=True)
    ]
    caption = (
        gettext("Weeks run Monday to Sunday, cut to the period.")
        if unit == "week"
        else gettext("Calendar months, cut to the period.")
    )
    return Table(
        "trend",
        _PER[unit],
        (gettext("Week of") if unit == "week" else gettext("Month"), *(h.label for h in headlines)),
        rows,
        caption=caption,
    )


def _breakdown(by, headlines, rows, link):
    found = []
    for row in rows:
        extra = {by: row.key}
        found.append(
            {
                "key": row.key,
                "name": row.name,
                "numbers": [
                    {
                        "name": h.name,
                        "value": plain(row.values[h.name]),
                        "leads_url": (_count_link(link, h, row.values[h.name], **extra) if row.key is not None else "")
                        or None,
                        "_value": row.values[h.name],
                    }
                    for h in headlines
                ],
            }
        )
    return {"by": by, "rows": found}


def _breakdown_table(by, headlines, breakdown):
    rows = [
        [
            Cell(row["name"]),
            *(
                Cell(number["_value"], h.kind, number["leads_url"] or "")
                for h, number in zip(headlines, row["numbers"], strict=True)
            ),
        ]
        for row in breakdown["rows"]
    ]
    return Table(f"breakdown-{by}", _BREAKDOWN_TITLES[by], (_BY_LABELS[by], *(h.label for h in headlines)), rows)
