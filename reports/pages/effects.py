"""The waterfall and the response-time effect: where the funnel leaks, and what answering fast is worth."""

from django.utils.translation import gettext, gettext_lazy

from .. import metrics
from ..metrics import Ratio
from ..templatetags.reports_ui import number
from .blocks import REPORTS_BY_SLUG, Cell, Number, Report, Table, _chart, _dataset, _linker


def _times(value):
    """3.2 → '3.2 times as often'; 1 → 'as often'."""
    rounded = round(value, 1)
    if rounded == 1:
        return gettext("as often")
    if rounded > 1:
        return gettext("%(times)s times as often") % {"times": number(rounded, 1)}
    return gettext("only %(times)s times as often") % {"times": number(rounded, 1)}


def effect_sentence(result):
    """The response-time effect in one plain sentence."""
    fast, slow = result.fast_rate, result.slow_rate
    if result.times is None:
        if not result.fast or not result.slow:
            return gettext(
                "Not enough answered MQLs to compare: the period needs MQLs answered both within an hour and later."
            )
        return gettext(
            "Answered within an hour, %(fast)s of %(fast_all)s MQLs became SQLs; answered later, none of %(slow_all)s did."
        ) % {"fast": number(fast.numerator), "fast_all": number(fast.denominator), "slow_all": number(slow.denominator)}
    return gettext(
        "Answered within an hour, MQLs became SQLs %(times)s "
        "(%(fast)s of %(fast_all)s, against %(slow)s of %(slow_all)s answered later)."
    ) % {
        "times": _times(result.times),
        "fast": number(fast.numerator),
        "fast_all": number(fast.denominator),
        "slow": number(slow.numerator),
        "slow_all": number(slow.denominator),
    }


def build_response_effect(form, as_of, *, leads_url=None):
    result = metrics.response_effect(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "response_effect", leads_url)

    def counted(label, value, bucket, note=""):
        return Number(label, value, "int", link(bucket) if value else "", note)

    data = {
        "sentence": effect_sentence(result),
        "times": None if result.times is None else round(result.times, 4),
        "fast_rate": Number(
            gettext("SQL rate, answered within an hour"),
            result.fast_rate,
            "percent",
            link("fast_sqls") if result.fast_sqls else "",
            gettext("%(part)s of %(whole)s MQLs") % {"part": number(result.fast_sqls), "whole": number(result.fast)},
            formula=gettext("SQLs ÷ MQLs answered within 1 hour × 100"),
        ),
        "slow_rate": Number(
            gettext("SQL rate, answered later"),
            result.slow_rate,
            "percent",
            link("slow_sqls") if result.slow_sqls else "",
            gettext("%(part)s of %(whole)s MQLs") % {"part": number(result.slow_sqls), "whole": number(result.slow)},
            formula=gettext("SQLs ÷ MQLs answered after 1 hour × 100"),
        ),
        "fast": counted(gettext("Answered within an hour"), result.fast, "fast"),
        "fast_sqls": counted(gettext("… became SQLs"), result.fast_sqls, "fast_sqls"),
        "slow": counted(gettext("Answered later"), result.slow, "slow"),
        "slow_sqls": counted(gettext("… became SQLs"), result.slow_sqls, "slow_sqls"),
    }
    rows = [
        [Cell(gettext("Within an hour")), data["fast"], data["fast_sqls"], Cell(result.fast_rate, "percent")],
        [Cell(gettext("Later")), data["slow"], data["slow_sqls"], Cell(result.slow_rate, "percent")],
    ]
    chart = _chart(
        "response-effect-chart",
        "bar",
        gettext("SQL rate by response time"),
        [gettext("Within an hour"), gettext("Later")],
        [_dataset(gettext("SQL rate (%)"), [result.fast_rate.percent, result.slow_rate.percent], tone="primary")],
        empty=not (result.fast or result.slow),
        percent=True,
    )
    return Report(
        REPORTS_BY_SLUG["response_effect"],
        [data["fast_rate"], data["slow_rate"], data["fast"], data["slow"]],
        [
            Table(
                "groups",
                gettext("By response time"),
                (gettext("Answered"), gettext("MQLs"), gettext("SQLs"), gettext("SQL rate")),
                rows,
            )
        ],
        [chart],
        verdict=data["sentence"],
        verdict_tone="good" if (result.times or 0) > 1 else "",
        data=data,
    )


_STAGES = (
    ("lead", gettext_lazy("Lead → MQL"), "lead_time"),
    ("mql", gettext_lazy("MQL → SAL"), "mql_time"),
    ("sal", gettext_lazy("SAL → SQL"), "sal_time"),
)


def build_waterfall(form, as_of, *, leads_url=None):
    result = metrics.waterfall(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "waterfall", leads_url)

    def counted(label, value, bucket):
        return Number(label, value, "int", link(bucket) if value and bucket else "")

    data = {
        "leads": counted(gettext("Leads"), result.leads, ""),
        "mqls": counted(gettext("MQLs"), result.mqls, "mqls"),
        "sals": counted(gettext("SALs"), result.sals, "sals"),
        "sqls": counted(gettext("SQLs"), result.sqls, "sqls"),
        "lead_to_mql": Number(gettext("Lead → MQL"), Ratio(result.mqls, result.leads), "percent"),
        "mql_to_sal": Number(gettext("MQL → SAL"), Ratio(result.sals, result.mqls), "percent"),
        "sal_to_sql": Number(gettext("SAL → SQL"), Ratio(result.sqls, result.sals), "percent"),
        "stages": [
            {"stage": stage, "label": label, "median": getattr(result, name)[0], "p90": getattr(result, name)[1]}
            for stage, label, name in _STAGES
        ],
        "cohorts": [
            {
                "month": cohort.month,
                "leads": cohort.leads,
                "mqls": cohort.mqls,
                "sals": cohort.sals,
                "sqls": cohort.sqls,
                "lead_to_mql": Ratio(cohort.mqls, cohort.leads),
                "mql_to_sal": Ratio(cohort.sals, cohort.mqls),
                "sal_to_sql": Ratio(cohort.sqls, cohort.sals),
            }
            for cohort in result.cohorts
        ],
    }
    steps = (
        (gettext("Leads"), data["leads"], None),
        (gettext("MQLs"), data["mqls"], data["lead_to_mql"]),
        (gettext("SALs"), data["sals"], data["mql_to_sal"]),
        (gettext("SQLs"), data["sqls"], data["sal_to_sql"]),
    )
    # The time a step took is the time spent in the stage before it: MQLs ← Lead → MQL, and so on.
    stage_times = [None, *data["stages"]]
    rows = []
    for (label, count, step), stage in zip(steps, stage_times, strict=True):
        time = stage or {}
        rows.append(
            [
                Cell(label),
                count,
                Cell(step.value if step else None, "percent"),
                Cell(time.get("median"), "duration"),
                Cell(time.get("p90"), "duration"),
            ]
        )
    cohort_rows = [
        [
            Cell(cohort["month"], "month"),
            Cell(cohort["leads"], "int"),
            Cell(cohort["mqls"], "int"),
            Cell(cohort["sals"], "int"),
            Cell(cohort["sqls"], "int"),
            Cell(cohort["lead_to_mql"], "percent"),
            Cell(cohort["mql_to_sal"], "percent"),
            Cell(cohort["sal_to_sql"], "percent"),
        ]
        for cohort in data["cohorts"]
    ]
    chart = _chart(
        "waterfall-chart",
        "bar",
        gettext("The demand waterfall: leads → MQLs → SALs → SQLs"),
        [label for label, _count, _step in steps],
        [
            _dataset(
                gettext("Count"),
                [count.value for _label, count, _step in steps],
                tone="primary",
                links=[count.link for _label, count, _step in steps],
            )
        ],
        horizontal=True,
    )
    return Report(
        REPORTS_BY_SLUG["waterfall"],
        [
            data["leads"],
            data["mqls"],
            data["sals"],
            data["sqls"],
            data["lead_to_mql"],
            data["mql_to_sal"],
            data["sal_to_sql"],
        ],
        [
            Table(
                "steps",
                gettext("Each step: conversion from the step before, time spent in the stage before"),
                (
                    gettext("Step"),
                    gettext("Count"),
                    gettext("Conversion"),
                    gettext("Median time"),
                    gettext("90th percentile"),
                ),
                rows,
                caption=gettext(
                    "Counts are the period's events: leads created, MQLs created, acceptances and qualifications. "
                    "Times are of the leads that left the stage in the period."
                ),
            ),
            Table(
                "cohorts",
                gettext("By cohort month: leads created each month, followed to the 'as of' time"),
                (
                    gettext("Month"),
                    gettext("Leads"),
                    gettext("MQLs"),
                    gettext("SALs"),
                    gettext("SQLs"),
                    gettext("Lead → MQL"),
                    gettext("MQL → SAL"),
                    gettext("SAL → SQL"),
                ),
                cohort_rows,
            ),
        ],
        [chart],
        data=data,
    )
