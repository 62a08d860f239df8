"""The handoff reports: ignore rate, MQL → SQL conversion and SLA compliance."""

from django.utils.translation import gettext, pgettext

from .. import metrics
from ..metrics import Ratio
from ..templatetags.reports_ui import number
from .blocks import REPORTS_BY_SLUG, Cell, Number, Report, Table, _chart, _dataset, _linker, _rep_linker, _tone_for

# The ignore rate's big numbers, in this order (its page and the overview's card).
_IGNORE_NUMBERS = ("ignore_rate", "awaiting", "mqls", "followed_up")


def _ignore_data(result, link):
    """An ``IgnoreRate``'s numbers by name."""
    return {
        "ignore_rate": Number(
            gettext("Ignore rate"),
            result.rate,
            "percent",
            link("ignored"),
            gettext("%(ignored)s of %(mqls)s MQLs ignored")
            % {"ignored": number(result.ignored), "mqls": number(result.mqls)},
            _tone_for(result.rate, bad_above=0),
            formula=metrics.IgnoreRate.formula,
        ),
        "awaiting": Number(
            gettext("Awaiting response"),
            result.awaiting,
            "int",
            link("awaiting"),
            gettext("still inside their SLA window"),
        ),
        "mqls": Number(gettext("MQLs"), result.mqls, "int", link("mqls"), gettext("created in the period")),
        "followed_up": Number(gettext("Followed up"), result.followed_up, "int", link("followed_up")),
        "ignored": Number(gettext("Ignored"), result.ignored, "int", link("ignored")),
    }


def ignore_rate_card(form, as_of, result, *, leads_url=None):
    """The overview's card of ``result`` (an ``IgnoreRate``): the page's numbers without the per-rep breakdown."""
    data = _ignore_data(result, _linker(form, as_of, "ignore_rate", leads_url))
    return Report(REPORTS_BY_SLUG["ignore_rate"], [data[name] for name in _IGNORE_NUMBERS], [], data=data)


def build_ignore_rate(form, as_of, *, leads_url=None):
    result = metrics.ignore_rate_by_rep(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "ignore_rate", leads_url)
    data = _ignore_data(result.total, link)
    data["by_rep"] = [
        {"rep": rep_id, "name": name, **_ignore_data(rep, _rep_linker(link, rep_id))}
        for rep_id, name, rep in result.reps
    ]
    statuses = (
        (gettext("Ignored"), "ignored"),
        (gettext("Awaiting response"), "awaiting"),
        (gettext("Followed up"), "followed_up"),
    )
    status_rows = [
        [Cell(label), data[name], Cell(Ratio(data[name].value, result.total.mqls), "percent")]
        for label, name in (*statuses, (gettext("All MQLs"), "mqls"))
    ]
    rep_rows = [
        [
            Cell(rep["name"]),
            *(rep[name] for name in ("mqls", "ignored", "awaiting", "followed_up")),
            Cell(rep["ignore_rate"].value, "percent"),
        ]
        for rep in data["by_rep"]
    ]
    reps = data["by_rep"] or [{"name": gettext("All MQLs"), **data}]
    chart = _chart(
        "ignore-rate-chart",
        "bar",
        gettext("MQLs by response status, per rep"),
        [rep["name"] for rep in reps],
        [
            _dataset(label, [rep[name].value for rep in reps], tone=tone)
            for (label, name), tone in zip(statuses, ("bad", "wait", "good"), strict=True)
        ],
        stacked=True,
        horizontal=True,
    )
    return Report(
        REPORTS_BY_SLUG["ignore_rate"],
        [data[name] for name in _IGNORE_NUMBERS],
        [
            Table(
                "status",
                gettext("MQLs by response status"),
                (gettext("Status"), gettext("MQLs"), gettext("Share of MQLs")),
                status_rows,
            ),
            Table(
                "by-rep",
                gettext("By rep"),
                (
                    gettext("Rep"),
                    gettext("MQLs"),
                    gettext("Ignored"),
                    gettext("Awaiting"),
                    gettext("Followed up"),
                    gettext("Ignore rate"),
                ),
                rep_rows,
            ),
        ],
        [chart],
        data=data,
    )


def build_conversion(form, as_of, result=None, *, leads_url=None):
    """The report; ``result`` is the period's ``Conversion`` when the caller has counted it (the series' period)."""
    result = result or metrics.conversion(form.period, form.filters, view=form.selected_view, as_of=as_of)
    link = _linker(form, as_of, "conversion", leads_url)
    data = {
        "mql_to_sql": Number(
            gettext("MQL → SQL conversion"),
            result.mql_to_sql,
            "percent",
            link("sqls"),
            gettext("%(sqls)s SQLs ÷ %(mqls)s MQLs") % {"sqls": number(result.sqls), "mqls": number(result.mqls)},
            formula=metrics.Conversion.formula_sql,
        ),
        "mql_to_sal": Number(
            gettext("MQL → SAL acceptance"),
            result.mql_to_sal,
            "percent",
            link("sals"),
            gettext("%(sals)s SALs ÷ %(mqls)s MQLs") % {"sals": number(result.sals), "mqls": number(result.mqls)},
            formula=metrics.Conversion.formula_sal,
        ),
        "mqls": Number(gettext("MQLs"), result.mqls, "int", link("mqls")),
        "sals": Number(gettext("SALs"), result.sals, "int", link("sals")),
        "sqls": Number(gettext("SQLs"), result.sqls, "int", link("sqls")),
    }
    stages = (
        (gettext("MQL"), data["mqls"]),
        (gettext("SAL (accepted)"), data["sals"]),
        (gettext("SQL (qualified)"), data["sqls"]),
    )
    rows = [[Cell(label), count, Cell(Ratio(count.value, result.mqls), "percent")] for label, count in stages]
    chart = _chart(
        "conversion-chart",
        "bar",
        gettext("The funnel: MQL → SAL → SQL"),
        [label for label, _count in stages],
        [
            _dataset(
                gettext("Leads"),
                [count.value for _label, count in stages],
                tone="primary",
                links=[count.link for _label, count in stages],
            )
        ],
        horizontal=True,
    )
    view_note = (
        gettext("Period view: SALs and SQLs are the acceptances and qualifications that happened in the period.")
        if result.view == metrics.PERIOD_VIEW
        else gettext("Cohort view: the period's MQLs, followed to the 'as of' time.")
    )
    return Report(
        REPORTS_BY_SLUG["conversion"],
        list(data.values()),
        [
            Table(
                "funnel",
                gettext("The funnel"),
                (gettext("Stage"), gettext("Leads"), gettext("Share of MQLs")),
                rows,
                caption=view_note,
            )
        ],
        [chart],
        extra={"shows_view": True, "view_note": view_note},
        data=data,
    )


def build_sla_compliance(form, as_of, result=None, *, leads_url=None):
    """The report; ``result`` is the period's ``SlaCompliance`` when the caller has counted it (the series' period, the overview's numbers)."""
    result = result or metrics.sla_compliance(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "sla_compliance", leads_url)
    data = {
        "compliance": Number(
            gettext("SLA compliance"),
            result.rate,
            "percent",
            link("within"),
            gettext("%(within)s of %(closed)s closed windows answered in time")
            % {"within": number(result.within), "closed": number(result.closed)},
            _tone_for(result.rate, good_above=90),
            formula=metrics.SlaCompliance.formula,
        ),
        "closed": Number(gettext("Windows closed"), result.closed, "int", link("closed")),
        "within": Number(gettext("Answered in time"), result.within, "int", link("within")),
        "late": Number(gettext("Answered late"), result.late, "int", link("late"), gettext("an SLA miss, not ignored")),
        "never": Number(
            gettext("Never answered"), result.never, "int", link("never"), pgettext("never answered", "ignored")
        ),
    }
    parts = (("within", "good"), ("late", "wait"), ("never", "bad"))
    rows = [
        [Cell(data[name].label), data[name], Cell(Ratio(data[name].value, result.closed), "percent")]
        for name in (*(name for name, _tone in parts), "closed")
    ]
    chart = _chart(
        "sla-chart",
        "bar",
        gettext("Closed SLA windows by outcome"),
        [gettext("Closed windows")],
        [_dataset(data[name].label, [data[name].value], tone=tone, links=[data[name].link]) for name, tone in parts],
        stacked=True,
        horizontal=True,
    )
    return Report(
        REPORTS_BY_SLUG["sla_compliance"],
        list(data.values()),
        [
            Table(
                "windows",
                gettext("Closed SLA windows"),
                (gettext("Outcome"), gettext("MQLs"), gettext("Share of closed windows")),
                rows,
            )
        ],
        [chart],
        data=data,
    )
