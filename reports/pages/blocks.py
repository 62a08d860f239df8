"""The parts every report is made of: which reports there are, numbers, tables (each a CSV) and charts.

A report is a ``Report``: its values by name (``data``: ``Number``s, rows of
them, plain values), which the page shows as big numbers, ``Table``s and chart
specs (JSON for static/js/reports.js), and which its JSON twin under
``/api/reports/`` serializes: a table cell is often the very ``Number`` the
API gives. Numbers link to the leads behind them through ``_linker``: the
page's drill-down page, or the API's list for the JSON twin.
"""

import functools
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from .. import metrics
from ..templatetags.reports_ui import cell


@dataclass(frozen=True)
class ReportInfo:
    slug: str
    title: str
    question: str
    formula: str

    @property
    def url_name(self):
        return f"reports:{self.slug}"


REPORTS = (
    ReportInfo(
        "ignore_rate",
        gettext_lazy("Ignore rate"),
        gettext_lazy("Which MQLs did nobody answer although their SLA window has expired?"),
        metrics.IgnoreRate.formula,
    ),
    ReportInfo(
        "conversion",
        gettext_lazy("MQL → SQL conversion"),
        gettext_lazy("How many MQLs did sales accept (SAL) and qualify into opportunities (SQL)?"),
        format_lazy(
            gettext_lazy("{sql}; acceptance: {sal}"),
            sql=metrics.Conversion.formula_sql,
            sal=metrics.Conversion.formula_sal,
        ),
    ),
    ReportInfo(
        "speed_to_lead",
        gettext_lazy("Speed to lead"),
        gettext_lazy("How long from MQL to the first sales response, by rep, against the SLA?"),
        metrics.SpeedToLead.formula,
    ),
    ReportInfo(
        "sla_compliance",
        gettext_lazy("SLA compliance"),
        gettext_lazy("Of the MQLs whose window has closed, how many were answered in time?"),
        metrics.SlaCompliance.formula,
    ),
    ReportInfo(
        "rejection_reasons",
        gettext_lazy("Rejection reasons"),
        gettext_lazy("Why does sales reject MQLs, by source and campaign, and in their own words?"),
        metrics.RejectionReasons.formula,
    ),
    ReportInfo(
        "conversation_rate",
        gettext_lazy("Conversation rate"),
        gettext_lazy("How many contacted leads turned into a real conversation, MQLs versus colder leads?"),
        metrics.ConversationRate.formula,
    ),
    ReportInfo(
        "mql_target",
        gettext_lazy("MQL target"),
        gettext_lazy("Is marketing producing the MQLs it promised each month?"),
        metrics.MqlTarget.formula,
    ),
    ReportInfo(
        "waterfall",
        gettext_lazy("Funnel waterfall"),
        gettext_lazy("How many leads become MQLs, SALs and SQLs, and how long does each stage take?"),
        metrics.Waterfall.formula,
    ),
    ReportInfo(
        "response_effect",
        gettext_lazy("Response-time effect"),
        gettext_lazy("Do MQLs answered within an hour become SQLs more often than those answered later?"),
        metrics.ResponseEffect.formula,
    ),
)
REPORTS_BY_SLUG = {report.slug: report for report in REPORTS}


# What a page shows: numbers, tables (each a CSV), charts


@dataclass(frozen=True)
class Cell:
    value: object
    kind: str = "text"
    link: str = ""

    @property
    def text(self):
        return cell(self.value, self.kind)


@dataclass(frozen=True)
class Table:
    slug: str
    title: str
    headers: tuple
    rows: list
    caption: str = ""

    @property
    def columns(self):
        """(header, "text" or "num") per column, from the kinds of the first row's cells."""
        kinds = [item.kind for item in self.rows[0]] if self.rows else ["text"] * len(self.headers)
        aligns = ["text"] + ["text" if kind == "text" else "num" for kind in kinds[1:]]
        return list(zip(self.headers, aligns, strict=True))


@dataclass(frozen=True)
class Number:
    """A number with its label and the leads behind it; a big number on the page, or a table cell."""

    label: str
    value: object
    kind: str = "int"
    link: str = ""
    note: str = ""
    tone: str = ""
    # How a rate is computed, in one line (the JSON twin gives it with the rate).
    formula: str = ""
    # The same number for the previous period of equal length, and the change, as text (``pages.compare``).
    previous: str = ""
    change: str = ""

    @property
    def text(self):
        return cell(self.value, self.kind)


@dataclass
class Report:
    info: ReportInfo
    numbers: list
    tables: list
    charts: list = field(default_factory=list)
    verdict: str = ""
    verdict_tone: str = ""
    extra: dict = field(default_factory=dict)
    # The values by name, as the JSON twin serializes them (the numbers, tables and charts show them).
    data: dict = field(default_factory=dict)


def with_sort_memory(build):
    """``build`` run with the sort memory of ``metrics.sort_memory``: for the reports whose statements sort a period's rows."""

    @functools.wraps(build)
    def build_with_sort_memory(*args, **options):
        with metrics.sort_memory():
            return build(*args, **options)

    return build_with_sort_memory


def _linker(form, as_of, metric, leads_url=None):
    """``link(bucket, **extra)``: the URL of the leads behind one number, on ``leads_url`` (default: the drill-down page)."""
    base = leads_url or reverse("reports:leads")

    def link(bucket, **extra):
        # as_of is pinned so the list is judged at the same instant as the number.
        return f"{base}?{form.query(as_of=as_of, metric=metric, bucket=bucket, **extra)}"

    return link


def _rep_linker(link, rep_id):
    """``link`` narrowed to one rep's leads; no link for the unassigned MQLs, which no filter selects."""
    if rep_id is None:
        return lambda bucket, **extra: ""
    return lambda bucket, **extra: link(bucket, rep=rep_id, **extra)


def _chart(chart_id, kind, title, labels, datasets, *, empty=None, **options):
    """A chart spec; with nothing but zeros and blanks to draw (or ``empty``) it has no labels, and the page says so instead."""
    if empty is None:
        empty = not any(value for dataset in datasets for value in dataset["data"] if dataset.get("type") != "line")
    if empty:
        labels = []
    return {"id": chart_id, "kind": kind, "title": title, "labels": labels, "datasets": datasets, **options}


def _dataset(label, data, *, tone, links=None, **extra):
    return {"label": label, "data": data, "tone": tone, "links": links or [], **extra}


def _tone_for(ratio, *, good_above=None, bad_above=None):
    value = ratio.percent
    if value is None:
        return ""
    if bad_above is not None:
        return "bad" if value > bad_above else "good"
    return "good" if value >= good_above else "bad"
