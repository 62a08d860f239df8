"""Report pages: an overview, one page per metric, the leads behind every number, and the monthly targets.

Every page reads its period and filters through ``ReportForm`` (scoped by role:
reps see their own numbers, managers their teams', marketers and admins all),
asks ``reports.metrics`` for the numbers and only arranges them: the big numbers,
the formula, a chart (drawn by static/js/reports.js from a JSON blob), and tables
that are the chart's text alternative and export as CSV (``?format=csv``). Each
number links to ``reports:leads``, which lists the episodes ``metrics.drill_down``
returns for it, so a number and its list always agree.
"""

import csv
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from leads import access
from leads.models import Team
from leads.views import role_required

from . import metrics
from .forms import DrillDownForm, ReportForm, TargetMonthsForm, TargetsForm
from .metrics import Ratio
from .models import MonthlyTarget
from .templatetags.reports_ui import cell, duration, episode_outcome

LEADS_PAGE_SIZE = 50
RECENT_NOTES = 20


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
        "Ignore rate",
        "Which MQLs did nobody answer although their SLA window has expired?",
        metrics.IgnoreRate.formula,
    ),
    ReportInfo(
        "conversion",
        "MQL → SQL conversion",
        "How many MQLs did sales accept (SAL) and qualify into opportunities (SQL)?",
        f"{metrics.Conversion.formula_sql}; acceptance: {metrics.Conversion.formula_sal}",
    ),
    ReportInfo(
        "speed_to_lead",
        "Speed to lead",
        "How long from MQL to the first sales response, by rep, against the SLA?",
        metrics.SpeedToLead.formula,
    ),
    ReportInfo(
        "sla_compliance",
        "SLA compliance",
        "Of the MQLs whose window has closed, how many were answered in time?",
        metrics.SlaCompliance.formula,
    ),
    ReportInfo(
        "rejection_reasons",
        "Rejection reasons",
        "Why does sales reject MQLs, by source and campaign, and in their own words?",
        metrics.RejectionReasons.formula,
    ),
    ReportInfo(
        "conversation_rate",
        "Conversation rate",
        "How many contacted leads turned into a real conversation, MQLs versus colder leads?",
        metrics.ConversationRate.formula,
    ),
    ReportInfo(
        "mql_target",
        "MQL target",
        "Is marketing producing the MQLs it promised each month?",
        metrics.MqlTarget.formula,
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
    label: str
    value: object
    kind: str = "int"
    link: str = ""
    note: str = ""
    tone: str = ""

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


def _linker(form, as_of, metric):
    base = reverse("reports:leads")

    def link(bucket, **extra):
        # as_of is pinned so the list is judged at the same instant as the number.
        return f"{base}?{form.query(as_of=as_of, metric=metric, bucket=bucket, **extra)}"

    return link


def _chart(chart_id, kind, title, labels, datasets, **options):
    return {"id": chart_id, "kind": kind, "title": title, "labels": labels, "datasets": datasets, **options}


def _dataset(label, data, *, tone, links=None, **extra):
    return {"label": label, "data": data, "tone": tone, "links": links or [], **extra}


def _rate(value):
    return None if value is None else round(value, 2)


def _tone_for(ratio, *, good_above=None, bad_above=None):
    value = ratio.percent
    if value is None:
        return ""
    if bad_above is not None:
        return "bad" if value > bad_above else "good"
    return "good" if value >= good_above else "bad"


# The reports


def build_ignore_rate(form, as_of):
    result = metrics.ignore_rate(form.period, form.filters, as_of=as_of)
    by_rep = metrics.ignore_rate_by_rep(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "ignore_rate")
    numbers = [
        Number(
            "Ignore rate",
            result.rate,
            "percent",
            link("ignored"),
            f"{result.ignored:,} of {result.mqls:,} MQLs ignored",
            _tone_for(result.rate, bad_above=0),
        ),
        Number("Awaiting response", result.awaiting, "int", link("awaiting"), "still inside their SLA window"),
        Number("MQLs", result.mqls, "int", link("mqls"), "created in the period"),
        Number("Followed up", result.followed_up, "int", link("followed_up")),
    ]
    status_rows = [
        [
            Cell("Ignored"),
            Cell(result.ignored, "int", link("ignored")),
            Cell(Ratio(result.ignored, result.mqls), "percent"),
        ],
        [
            Cell("Awaiting response"),
            Cell(result.awaiting, "int", link("awaiting")),
            Cell(Ratio(result.awaiting, result.mqls), "percent"),
        ],
        [
            Cell("Followed up"),
            Cell(result.followed_up, "int", link("followed_up")),
            Cell(Ratio(result.followed_up, result.mqls), "percent"),
        ],
        [Cell("All MQLs"), Cell(result.mqls, "int", link("mqls")), Cell(Ratio(result.mqls, result.mqls), "percent")],
    ]
    rep_rows = [
        [
            Cell(name),
            Cell(rep.mqls, "int", link("mqls", rep=rep_id) if rep_id else ""),
            Cell(rep.ignored, "int", link("ignored", rep=rep_id) if rep_id else ""),
            Cell(rep.awaiting, "int", link("awaiting", rep=rep_id) if rep_id else ""),
            Cell(rep.followed_up, "int", link("followed_up", rep=rep_id) if rep_id else ""),
            Cell(rep.rate, "percent"),
        ]
        for rep_id, name, rep in by_rep
    ]
    names = [name for _id, name, _rep in by_rep] or ["All MQLs"]
    reps = [rep for _id, _name, rep in by_rep] or [result]
    chart = _chart(
        "ignore-rate-chart",
        "bar",
        "MQLs by response status, per rep",
        names,
        [
            _dataset("Ignored", [r.ignored for r in reps], tone="bad"),
            _dataset("Awaiting response", [r.awaiting for r in reps], tone="wait"),
            _dataset("Followed up", [r.followed_up for r in reps], tone="good"),
        ],
        stacked=True,
        horizontal=True,
    )
    return Report(
        REPORTS_BY_SLUG["ignore_rate"],
        numbers,
        [
            Table("status", "MQLs by response status", ("Status", "MQLs", "Share of MQLs"), status_rows),
            Table(
                "by-rep",
                "By rep",
                ("Rep", "MQLs", "Ignored", "Awaiting", "Followed up", "Ignore rate"),
                rep_rows,
            ),
        ],
        [chart],
    )


def build_conversion(form, as_of):
    result = metrics.conversion(form.period, form.filters, view=form.selected_view, as_of=as_of)
    link = _linker(form, as_of, "conversion")
    numbers = [
        Number(
            "MQL → SQL conversion",
            result.mql_to_sql,
            "percent",
            link("sqls"),
            f"{result.sqls:,} SQLs ÷ {result.mqls:,} MQLs",
        ),
        Number(
            "MQL → SAL acceptance",
            result.mql_to_sal,
            "percent",
            link("sals"),
            f"{result.sals:,} SALs ÷ {result.mqls:,} MQLs",
        ),
        Number("MQLs", result.mqls, "int", link("mqls")),
        Number("SALs", result.sals, "int", link("sals")),
        Number("SQLs", result.sqls, "int", link("sqls")),
    ]
    stages = (
        ("MQL", result.mqls, "mqls"),
        ("SAL (accepted)", result.sals, "sals"),
        ("SQL (qualified)", result.sqls, "sqls"),
    )
    rows = [
        [Cell(label), Cell(count, "int", link(bucket)), Cell(Ratio(count, result.mqls), "percent")]
        for label, count, bucket in stages
    ]
    chart = _chart(
        "conversion-chart",
        "bar",
        "The funnel: MQL → SAL → SQL",
        [label for label, _count, _bucket in stages],
        [
            _dataset(
                "Leads", [count for _l, count, _b in stages], tone="primary", links=[link(b) for _l, _c, b in stages]
            )
        ],
        horizontal=True,
    )
    view_note = (
        "Period view: SALs and SQLs are the acceptances and qualifications that happened in the period."
        if result.view == metrics.PERIOD_VIEW
        else "Cohort view: the period's MQLs, followed to the 'as of' time."
    )
    return Report(
        REPORTS_BY_SLUG["conversion"],
        numbers,
        [Table("funnel", "The funnel", ("Stage", "Leads", "Share of MQLs"), rows, caption=view_note)],
        [chart],
        extra={"shows_view": True, "view_note": view_note},
    )


def build_speed_to_lead(form, as_of):
    result = metrics.speed_to_lead(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "speed_to_lead")
    numbers = [
        Number(
            "Median response", result.median, "duration", link("responded"), f"over {result.responded:,} answered MQLs"
        ),
        Number("Mean response", result.mean, "duration", link("responded")),
        Number("90th percentile", result.p90, "duration", link("responded")),
        Number(
            "Within 1 hour",
            result.within_hour_share,
            "percent",
            link("within_hour"),
            f"{result.within_hour:,} of {result.responded:,}",
        ),
        Number(
            "Within their SLA window",
            result.within_sla_share,
            "percent",
            link("within_sla"),
            f"{result.within_sla:,} of {result.responded:,}",
        ),
    ]
    if result.misses_sla is None:
        verdict, tone = "", ""
    elif result.misses_sla:
        verdict = (
            f"Missing the SLA: the mean response ({duration(result.mean)}) is slower than "
            f"the typical SLA window ({duration(result.typical_window)})."
        )
        tone = "bad"
    else:
        verdict = (
            f"Meeting the SLA: the mean response ({duration(result.mean)}) is within "
            f"the typical SLA window ({duration(result.typical_window)})."
        )
        tone = "good"
    band_rows = [
        [Cell(label), Cell(count, "int", link(f"band_{index}")), Cell(share, "percent")]
        for index, (label, count, share) in enumerate(result.bands)
    ]
    rep_rows = [
        [
            Cell(rep.rep_name),
            Cell(rep.responded, "int", link("responded", rep=rep.rep_id) if rep.rep_id else ""),
            Cell(rep.mean, "duration"),
            Cell(rep.within_hour_share, "percent", link("within_hour", rep=rep.rep_id) if rep.rep_id else ""),
            Cell(rep.within_sla_share, "percent", link("within_sla", rep=rep.rep_id) if rep.rep_id else ""),
        ]
        for rep in result.by_rep
    ]
    chart = _chart(
        "speed-chart",
        "bar",
        "MQLs by time to first follow-up",
        [label for label, _count, _share in result.bands],
        [
            _dataset(
                "MQLs answered",
                [count for _label, count, _share in result.bands],
                tone="primary",
                links=[link(f"band_{index}") for index in range(len(result.bands))],
            )
        ],
    )
    return Report(
        REPORTS_BY_SLUG["speed_to_lead"],
        numbers,
        [
            Table("bands", "Time to first follow-up", ("Band", "MQLs", "Share"), band_rows),
            Table(
                "by-rep",
                "By rep",
                ("Rep", "Answered", "Mean response", "Within 1 hour", "Within SLA window"),
                rep_rows,
            ),
        ],
        [chart],
        verdict=verdict,
        verdict_tone=tone,
    )


def build_sla_compliance(form, as_of):
    result = metrics.sla_compliance(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "sla_compliance")
    numbers = [
        Number(
            "SLA compliance",
            result.rate,
            "percent",
            link("within"),
            f"{result.within:,} of {result.closed:,} closed windows answered in time",
            _tone_for(result.rate, good_above=90),
        ),
        Number("Windows closed", result.closed, "int", link("closed")),
        Number("Answered in time", result.within, "int", link("within")),
        Number("Answered late", result.late, "int", link("late"), "an SLA miss, not ignored"),
        Number("Never answered", result.never, "int", link("never"), "ignored"),
    ]
    parts = (("Answered in time", result.within, "within", "good"), ("Answered late", result.late, "late", "wait"))
    parts += (("Never answered", result.never, "never", "bad"),)
    rows = [
        [Cell(label), Cell(count, "int", link(bucket)), Cell(Ratio(count, result.closed), "percent")]
        for label, count, bucket, _tone in parts
    ]
    rows.append(
        [
            Cell("Windows closed"),
            Cell(result.closed, "int", link("closed")),
            Cell(Ratio(result.closed, result.closed), "percent"),
        ]
    )
    chart = _chart(
        "sla-chart",
        "bar",
        "Closed SLA windows by outcome",
        ["Closed windows"],
        [_dataset(label, [count], tone=tone, links=[link(bucket)]) for label, count, bucket, tone in parts],
        stacked=True,
        horizontal=True,
    )
    return Report(
        REPORTS_BY_SLUG["sla_compliance"],
        numbers,
        [Table("windows", "Closed SLA windows", ("Outcome", "MQLs", "Share of closed windows"), rows)],
        [chart],
    )


def build_rejection_reasons(form, as_of, *, reason=""):
    result = metrics.rejection_reasons(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "rejection_reasons")
    labels = {r.code: r.label for r in result.reasons}
    numbers = [Number("Rejections", result.total, "int", link("rejected"), "rejected as MQL or disqualified as SAL")]
    if result.reasons:
        top = result.reasons[0]
        numbers.append(
            Number(
                f"Top reason: {top.label}",
                top.share,
                "percent",
                link("rejected", reason=top.code),
                f"{top.count:,} rejections",
            )
        )
    reason_rows = [
        [
            Cell(r.label),
            Cell(r.count, "int", link("rejected", reason=r.code)),
            Cell(r.share, "percent"),
            Cell(r.from_mql, "int"),
            Cell(r.from_sal, "int"),
        ]
        for r in result.reasons
    ]
    codes = [r.code for r in result.reasons]
    trend_rows = [
        [Cell(week, "week"), *(Cell(counts.get(code, 0), "int") for code in codes)] for week, counts in result.trend
    ]

    def split_rows(splits, name):
        return [
            [
                Cell(value or "(none)"),
                Cell(labels.get(code, code)),
                Cell(count, "int", link("rejected", reason=code, **{name: value}) if value else ""),
            ]
            for value, code, count in splits
        ]

    palette = ("primary", "bad", "wait", "good", "info", "muted")
    charts = [
        _chart(
            "rejection-chart",
            "bar",
            "Rejections by reason",
            [r.label for r in result.reasons],
            [
                _dataset(
                    "Rejections",
                    [r.count for r in result.reasons],
                    tone="bad",
                    links=[link("rejected", reason=r.code) for r in result.reasons],
                )
            ],
            horizontal=True,
        ),
        _chart(
            "rejection-trend-chart",
            "line",
            "Weekly trend by reason",
            [week.isoformat() for week, _counts in result.trend],
            [
                _dataset(
                    labels[code],
                    [counts.get(code, 0) for _week, counts in result.trend],
                    tone=palette[i % len(palette)],
                )
                for i, code in enumerate(codes)
            ],
        ),
    ]
    notes = (
        metrics.rejected_episodes(form.period, form.filters, reason=reason, as_of=as_of)
        .exclude(rejection_note="")
        .select_related("lead", "owner", "rejection_reason")
        .order_by("-rejected_at", "-id")[:RECENT_NOTES]
    )
    return Report(
        REPORTS_BY_SLUG["rejection_reasons"],
        numbers,
        [
            Table("reasons", "By reason", ("Reason", "Rejections", "Share", "As MQL", "After acceptance"), reason_rows),
            Table("trend", "Weekly trend (weeks start on Monday)", ("Week", *(labels[c] for c in codes)), trend_rows),
            Table("by-source", "By source", ("Source", "Reason", "Rejections"), split_rows(result.by_source, "source")),
            Table(
                "by-campaign",
                "By campaign",
                ("Campaign", "Reason", "Rejections"),
                split_rows(result.by_campaign, "campaign"),
            ),
        ],
        charts,
        extra={
            "notes": notes,
            "reasons": result.reasons,
            "reason": reason,
            "reason_label": labels.get(reason, reason),
            "notes_link": link("rejected", reason=reason or None),
        },
    )


def build_conversation_rate(form, as_of):
    result = metrics.conversation_rate(form.period, form.filters)
    link = _linker(form, as_of, "conversation_rate")
    groups = (
        ("MQLs", result.mql, result.mql_contacted, result.mql_conversations, "mql"),
        ("Colder leads", result.colder, result.colder_contacted, result.colder_conversations, "colder"),
    )
    numbers = [
        Number(
            f"{label}: conversation rate",
            rate,
            "percent",
            link(f"{key}_conversations"),
            f"{talks:,} of {contacted:,} contacted",
        )
        for label, rate, contacted, talks, key in groups
    ]
    rows = [
        [
            Cell(label),
            Cell(contacted, "int", link(f"{key}_contacted")),
            Cell(talks, "int", link(f"{key}_conversations")),
            Cell(rate, "percent"),
        ]
        for label, rate, contacted, talks, key in groups
    ]
    chart = _chart(
        "conversation-chart",
        "bar",
        "Contacted leads and conversations, MQLs vs colder leads",
        [label for label, *_rest in groups],
        [
            _dataset(
                "Contacted", [g[2] for g in groups], tone="muted", links=[link(f"{g[4]}_contacted") for g in groups]
            ),
            _dataset(
                "With a conversation",
                [g[3] for g in groups],
                tone="primary",
                links=[link(f"{g[4]}_conversations") for g in groups],
            ),
        ],
    )
    return Report(
        REPORTS_BY_SLUG["conversation_rate"],
        numbers,
        [
            Table(
                "groups",
                "MQLs vs colder leads",
                ("Leads", "Contacted", "With a conversation", "Conversation rate"),
                rows,
            )
        ],
        [chart],
    )


def build_mql_target(form, as_of):
    result = metrics.mql_target(form.period, form.filters, as_of=as_of)
    base = reverse("reports:leads")

    def month_link(month):
        query = form.query(
            as_of=as_of, period=metrics.month_part(form.period, month), metric="mql_target", bucket="mqls"
        )
        return f"{base}?{query}"

    link = _linker(form, as_of, "mql_target")
    produced = sum(m.mqls for m in result.months)
    with_target = [m for m in result.months if m.target is not None]
    attainment = Ratio(sum(m.mqls for m in with_target), sum(m.target for m in with_target))
    numbers = [
        Number("MQLs produced", produced, "int", link("mqls"), "in the period"),
        Number(
            "Target attainment",
            attainment,
            "percent",
            "",
            f"{attainment.numerator:,} MQLs vs a target of {attainment.denominator:,} in the months that have one"
            if with_target
            else "no targets set for these months",
            _tone_for(attainment, good_above=100),
        ),
    ]
    rows = [
        [
            Cell(m.month, "month"),
            Cell(m.mqls, "int", month_link(m.month)),
            Cell(m.target, "int"),
            Cell(m.attainment, "percent"),
        ]
        for m in result.months
    ]
    chart = _chart(
        "target-chart",
        "bar",
        "MQLs per month vs target",
        [f"{m.month:%b %Y}" for m in result.months],
        [
            _dataset(
                "MQLs",
                [m.mqls for m in result.months],
                tone="primary",
                links=[month_link(m.month) for m in result.months],
            ),
            _dataset("Target", [m.target for m in result.months], tone="bad", type="line"),
        ],
    )
    return Report(
        REPORTS_BY_SLUG["mql_target"],
        numbers,
        [Table("months", "By month", ("Month", "MQLs", "Target", "Attainment"), rows)],
        [chart],
        extra={"team": form.filters.team},
    )


BUILDERS = {
    "ignore_rate": build_ignore_rate,
    "conversion": build_conversion,
    "speed_to_lead": build_speed_to_lead,
    "sla_compliance": build_sla_compliance,
    "rejection_reasons": build_rejection_reasons,
    "conversation_rate": build_conversation_rate,
    "mql_target": build_mql_target,
}


# Views


def _context(form, **extra):
    return {"form": form, "nav": REPORTS, "filter_query": form.query() if form.is_valid() else "", **extra}


def _report_page(request, slug, **build_options):
    form = ReportForm(request.GET, user=request.user)
    info = REPORTS_BY_SLUG[slug]
    if not form.is_valid():
        return render(request, "reports/report_detail.html", _context(form, info=info), status=400)
    report = BUILDERS[slug](form, form.selected_as_of or timezone.now(), **build_options)
    if request.GET.get("format") == "csv":
        return _table_csv(request, report, form)
    return render(request, "reports/report_detail.html", _context(form, info=info, report=report))


@role_required(*access.ROLES)
def ignore_rate(request):
    return _report_page(request, "ignore_rate")


@role_required(*access.ROLES)
def conversion(request):
    return _report_page(request, "conversion")


@role_required(*access.ROLES)
def speed_to_lead(request):
    return _report_page(request, "speed_to_lead")


@role_required(*access.ROLES)
def sla_compliance(request):
    return _report_page(request, "sla_compliance")


@role_required(*access.ROLES)
def rejection_reasons(request):
    # The rejection review: ?reason=<code> narrows the notes to one reason.
    reason = request.GET.get("reason", "")
    return _report_page(request, "rejection_reasons", reason=reason if reason.isascii() and len(reason) <= 50 else "")


@role_required(*access.ROLES)
def conversation_rate(request):
    return _report_page(request, "conversation_rate")


@role_required(*access.ROLES)
def mql_target(request):
    return _report_page(request, "mql_target")


@role_required(*access.ROLES)
def overview(request):
    form = ReportForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "reports/report_overview.html", _context(form, reports=REPORTS), status=400)
    as_of = form.selected_as_of or timezone.now()
    reports = [BUILDERS[info.slug](form, as_of) for info in REPORTS]
    conversion_report = reports[1]
    summary = Table(
        "summary",
        "All reports",
        ("Report", "Number", "Value"),
        [
            [Cell(report.info.title), Cell(number.label), Cell(number.value, number.kind, number.link)]
            for report in reports
            for number in report.numbers[:2]
        ],
    )
    page = Report(
        metrics_overview_info(),
        [],
        [summary],
        [{**conversion_report.charts[0], "id": "overview-funnel-chart"}],
    )
    if request.GET.get("format") == "csv":
        return _table_csv(request, page, form)
    return render(request, "reports/report_overview.html", _context(form, reports=reports, report=page, info=page.info))


def metrics_overview_info():
    return ReportInfo("overview", "Reports", "How well the marketing-to-sales handoff works.", "")


@role_required(*access.ROLES)
def leads(request):
    form = DrillDownForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "reports/report_leads.html", _context(form), status=400)
    as_of = form.selected_as_of or timezone.now()
    title, rows, found = form.leads()
    if rows == metrics.EPISODE_ROWS:
        found = found.select_related("lead", "owner", "rejection_reason").order_by("-mql_at", "-id")
    else:
        found = found.select_related("owner").order_by("-first_contact", "-id")
    if request.GET.get("format") == "csv":
        return _leads_csv(form, title, rows, found, as_of)
    page = Paginator(found, LEADS_PAGE_SIZE).get_page(request.GET.get("page"))
    info = REPORTS_BY_SLUG[form.cleaned_data["metric"]]
    report_link = f"{reverse(info.url_name)}?{form.query(metric=None, bucket=None, reason=None)}"
    if form.cleaned_data["metric"] == "rejection_reasons" and form.cleaned_data.get("reason"):
        title = f"{title}: {form.cleaned_data['reason']}"
    context = {
        **_context(form),
        "title": title,
        "rows": rows,
        "page": page,
        "as_of": as_of,
        "info": info,
        "report_link": report_link,
        "csv_link": f"?{form.query(format='csv')}",
    }
    return render(request, "reports/report_leads.html", context)


@role_required(access.MARKETER, access.ADMIN)
def targets(request):
    teams = list(Team.objects.filter(is_active=True))
    choice = TargetMonthsForm(request.GET or None, teams=teams)
    today = timezone.localdate()
    months = choice.months(today)
    team_id = choice.cleaned_data.get("team") if choice.is_bound and choice.is_valid() else None
    team = next((t for t in teams if t.pk == team_id), None)
    current = dict(MonthlyTarget.objects.filter(month__in=months, team=team).values_list("month", "mql_target"))
    form = TargetsForm(request.POST if request.method == "POST" else None, months=months, team=team, current=current)
    if request.method == "POST":
        if form.is_valid():
            form.save(by=request.user)
            messages.success(request, f"Saved the MQL targets for {months[0].year} ({team or 'all teams'}).")
            return redirect(request.get_full_path())
        messages.error(request, "Some targets were not saved: fix the marked months.")
    status = 400 if form.is_bound and not form.is_valid() else 200
    context = {"choice": choice, "form": form, "team": team, "year": months[0].year, "today": today}
    return render(request, "reports/target_list.html", context, status=status)


# CSV


class _Echo:
    def write(self, value):
        return value


def _safe(value):
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_value(item):
    if item.kind == "percent":
        value = item.value.percent if isinstance(item.value, Ratio) else item.value
        return "" if value is None else f"{value:.2f}"
    if item.kind == "duration":
        return "" if item.value is None else f"{item.value.total_seconds():.0f}"
    if item.kind in ("month", "week"):
        return item.value.isoformat()
    return _safe(item.value)


def _filename(*parts):
    return slugify("-".join(str(part) for part in parts)) + ".csv"


def _table_csv(request, report, form):
    wanted = request.GET.get("table") or report.tables[0].slug
    table = next((t for t in report.tables if t.slug == wanted), None)
    if table is None:
        choices = ", ".join(t.slug for t in report.tables)
        return HttpResponse(
            f"Unknown table {wanted!r}; choose one of {choices}.", status=400, content_type="text/plain"
        )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = _filename("funnel", report.info.slug, table.slug, form.period.start, form.period.end)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    units = {"duration": " (seconds)", "percent": " (%)"}
    column_kinds = [{row[index].kind for row in table.rows} for index in range(len(table.headers))]
    writer.writerow(
        [
            _safe(header) + (units.get(next(iter(kinds)), "") if len(kinds) == 1 else "")
            for header, kinds in zip(table.headers, column_kinds, strict=True)
        ]
    )
    for row in table.rows:
        writer.writerow([_csv_value(item) for item in row])
    return response


EPISODE_CSV_HEADERS = (
    "lead_id", "name", "company", "email", "owner", "team", "source", "campaign", "mql_at", "due_at",
    "first_follow_up_at", "accepted_at", "qualified_at", "rejected_at", "outcome", "rejection_reason", "rejection_note",
)  # fmt: skip
LEAD_CSV_HEADERS = (
    "lead_id",
    "name",
    "company",
    "email",
    "owner",
    "source",
    "campaign",
    "first_contact_at",
    "had_conversation",
)


def _person(user):
    return (user.get_full_name() or user.get_username()) if user else ""


def _iso(moment):
    return moment.isoformat() if moment else ""


def _leads_csv(form, title, rows, found, as_of):
    def lines():
        writer = csv.writer(_Echo())
        if rows == metrics.EPISODE_ROWS:
            yield writer.writerow(EPISODE_CSV_HEADERS)
            for episode in found.iterator(chunk_size=2000):
                lead = episode.lead
                yield writer.writerow(
                    [
                        lead.pk,
                        *(_safe(v) for v in (lead.name, lead.company, lead.email, _person(episode.owner))),
                        episode.team_id or "",
                        _safe(episode.source),
                        _safe(episode.campaign),
                        *(_iso(getattr(episode, name)) for name in EPISODE_CSV_HEADERS[8:14]),
                        episode_outcome(episode, as_of),
                        episode.rejection_reason.code if episode.rejection_reason else "",
                        _safe(episode.rejection_note),
                    ]
                )
        else:
            yield writer.writerow(LEAD_CSV_HEADERS)
            for lead in found.iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        lead.pk,
                        *(_safe(v) for v in (lead.name, lead.company, lead.email, _person(lead.owner))),
                        _safe(lead.source),
                        _safe(lead.campaign),
                        _iso(lead.first_contact),
                        "yes" if lead.had_conversation else "no",
                    ]
                )

    data = form.cleaned_data
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    name = _filename(
        "funnel", data["metric"], data["bucket"], data.get("reason") or "", form.period.start, form.period.end
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
