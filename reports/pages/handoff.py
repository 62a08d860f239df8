"""The pages of the handoff metrics: ignore rate, MQL → SQL conversion and SLA compliance."""

from .. import metrics
from ..metrics import Ratio
from .blocks import REPORTS_BY_SLUG, Cell, Number, Report, Table, _chart, _dataset, _linker, _tone_for


def _ignore_numbers(result, link):
    return [
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


def ignore_rate_card(form, as_of, result):
    """The overview's card of ``result`` (an ``IgnoreRate``): the page's numbers without the per-rep breakdown."""
    return Report(REPORTS_BY_SLUG["ignore_rate"], _ignore_numbers(result, _linker(form, as_of, "ignore_rate")), [])


def build_ignore_rate(form, as_of):
    result = metrics.ignore_rate(form.period, form.filters, as_of=as_of)
    by_rep = metrics.ignore_rate_by_rep(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "ignore_rate")
    numbers = _ignore_numbers(result, link)
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


def build_sla_compliance(form, as_of, result=None):
    """The page; the overview passes the ``SlaCompliance`` it has computed with its other numbers."""
    result = result or metrics.sla_compliance(form.period, form.filters, as_of=as_of)
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
