"""The waterfall and the response-time effect: where the funnel leaks, and what answering fast is worth."""

from .. import metrics
from ..metrics import Ratio
from .blocks import REPORTS_BY_SLUG, Cell, Number, Report, Table, _chart, _dataset, _linker


def _times(value):
    """3.2 → '3.2 times as often'; 1 → 'as often'."""
    rounded = round(value, 1)
    if rounded == 1:
        return "as often"
    return f"{rounded:.1f} times as often" if rounded > 1 else f"only {rounded:.1f} times as often"


def effect_sentence(result):
    """The response-time effect in one plain sentence."""
    fast, slow = result.fast_rate, result.slow_rate
    if result.times is None:
        if not result.fast or not result.slow:
            return "Not enough answered MQLs to compare: the period needs MQLs answered both within an hour and later."
        return (
            f"Answered within an hour, {fast.numerator:,} of {fast.denominator:,} MQLs became SQLs; "
            f"answered later, none of {slow.denominator:,} did."
        )
    return (
        f"Answered within an hour, MQLs became SQLs {_times(result.times)} "
        f"({fast.numerator:,} of {fast.denominator:,}, against {slow.numerator:,} of {slow.denominator:,} answered later)."
    )


def build_response_effect(form, as_of, *, leads_url=None):
    result = metrics.response_effect(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "response_effect", leads_url)

    def counted(label, value, bucket, note=""):
        return Number(label, value, "int", link(bucket) if value else "", note)

    data = {
        "sentence": effect_sentence(result),
        "times": None if result.times is None else round(result.times, 4),
        "fast_rate": Number(
            "SQL rate, answered within an hour",
            result.fast_rate,
            "percent",
            link("fast_sqls") if result.fast_sqls else "",
            f"{result.fast_sqls:,} of {result.fast:,} MQLs",
            formula="SQLs ÷ MQLs answered within 1 hour × 100",
        ),
        "slow_rate": Number(
            "SQL rate, answered later",
            result.slow_rate,
            "percent",
            link("slow_sqls") if result.slow_sqls else "",
            f"{result.slow_sqls:,} of {result.slow:,} MQLs",
            formula="SQLs ÷ MQLs answered after 1 hour × 100",
        ),
        "fast": counted("Answered within an hour", result.fast, "fast"),
        "fast_sqls": counted("… became SQLs", result.fast_sqls, "fast_sqls"),
        "slow": counted("Answered later", result.slow, "slow"),
        "slow_sqls": counted("… became SQLs", result.slow_sqls, "slow_sqls"),
    }
    rows = [
        [Cell("Within an hour"), data["fast"], data["fast_sqls"], Cell(result.fast_rate, "percent")],
        [Cell("Later"), data["slow"], data["slow_sqls"], Cell(result.slow_rate, "percent")],
    ]
    chart = _chart(
        "response-effect-chart",
        "bar",
        "SQL rate by response time",
        ["Within an hour", "Later"],
        [_dataset("SQL rate (%)", [result.fast_rate.percent, result.slow_rate.percent], tone="primary")],
        empty=not (result.fast or result.slow),
        percent=True,
    )
    return Report(
        REPORTS_BY_SLUG["response_effect"],
        [data["fast_rate"], data["slow_rate"], data["fast"], data["slow"]],
        [Table("groups", "By response time", ("Answered", "MQLs", "SQLs", "SQL rate"), rows)],
        [chart],
        verdict=data["sentence"],
        verdict_tone="good" if (result.times or 0) > 1 else "",
        data=data,
    )


_STAGES = (("lead", "Lead → MQL", "lead_time"), ("mql", "MQL → SAL", "mql_time"), ("sal", "SAL → SQL", "sal_time"))


def build_waterfall(form, as_of, *, leads_url=None):
    result = metrics.waterfall(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "waterfall", leads_url)

    def counted(label, value, bucket):
        return Number(label, value, "int", link(bucket) if value and bucket else "")

    data = {
        "leads": counted("Leads", result.leads, ""),
        "mqls": counted("MQLs", result.mqls, "mqls"),
        "sals": counted("SALs", result.sals, "sals"),
        "sqls": counted("SQLs", result.sqls, "sqls"),
        "lead_to_mql": Number("Lead → MQL", Ratio(result.mqls, result.leads), "percent"),
        "mql_to_sal": Number("MQL → SAL", Ratio(result.sals, result.mqls), "percent"),
        "sal_to_sql": Number("SAL → SQL", Ratio(result.sqls, result.sals), "percent"),
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
        ("Leads", data["leads"], None),
        ("MQLs", data["mqls"], data["lead_to_mql"]),
        ("SALs", data["sals"], data["mql_to_sal"]),
        ("SQLs", data["sqls"], data["sal_to_sql"]),
    )
    stage_time = {stage["label"]: stage for stage in data["stages"]}
    rows = []
    for (label, count, step), previous in zip(steps, (None, *(s[0] for s in steps[:-1])), strict=True):
        time = stage_time.get(f"{previous[:-1]} → {label[:-1]}" if previous else "", {})
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
        "The demand waterfall: leads → MQLs → SALs → SQLs",
        [label for label, _count, _step in steps],
        [
            _dataset(
                "Count",
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
                "Each step: conversion from the step before, time spent in the stage before",
                ("Step", "Count", "Conversion", "Median time", "90th percentile"),
                rows,
                caption="Counts are the period's events: leads created, MQLs created, acceptances and qualifications. "
                "Times are of the leads that left the stage in the period.",
            ),
            Table(
                "cohorts",
                "By cohort month: leads created each month, followed to the 'as of' time",
                ("Month", "Leads", "MQLs", "SALs", "SQLs", "Lead → MQL", "MQL → SAL", "SAL → SQL"),
                cohort_rows,
            ),
        ],
        [chart],
        data=data,
    )
