"""The MQL target report: MQLs produced per month against each month's target."""

from .. import metrics
from ..metrics import Ratio
from .blocks import REPORTS_BY_SLUG, Cell, Number, Report, Table, _chart, _dataset, _linker, _tone_for


def build_mql_target(form, as_of, *, leads_url=None):
    result = metrics.mql_target(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "mql_target", leads_url)
    produced = sum(m.mqls for m in result.months)
    with_target = [m for m in result.months if m.target is not None]
    attainment = Ratio(sum(m.mqls for m in with_target), sum(m.target for m in with_target))
    scope_label = {"rep": "the rep's own target", "team": "the team's target", "overall": "the overall target"}
    partial_note = " ".join(
        f"{m.month:%b %Y}: the period covers {m.covered_days} of its {m.month_days} business days, "
        f"so its target of {m.full_target:,} is pro-rated to {m.target:,.1f}."
        for m in result.partial_months
    )
    data = {
        "target_scope": result.scope,
        "pro_rated_note": partial_note,
        "produced": Number("MQLs produced", produced, "int", link("mqls"), "in the period"),
        "attainment": Number(
            "Target attainment",
            attainment,
            "percent",
            "",
            f"{attainment.numerator:,} MQLs vs {scope_label[result.scope]} of {attainment.denominator:,.0f}"
            f"{' (pro-rated)' if result.partial_months else ''} in the months that have one"
            if with_target
            else f"no {scope_label[result.scope].removeprefix('the ')} set for these months",
            _tone_for(attainment, good_above=100),
            formula=metrics.MqlTarget.formula,
        ),
        "months": [
            {
                "month": m.month,
                "mqls": Number(
                    f"{m.month:%b %Y}",
                    m.mqls,
                    "int",
                    link("mqls", period=metrics.month_part(form.period, m.month)),
                ),
                "target": None if m.target is None else round(m.target, 2),
                "full_target": m.full_target,
                "business_days": m.covered_days,
                "month_business_days": m.month_days,
                "pro_rated": m.partial and m.full_target is not None,
                "attainment": m.attainment,
            }
            for m in result.months
        ],
    }
    today = as_of.astimezone(form.period.zone).date()
    try:
        pacing = metrics.mql_pacing(form.filters, today=today, tz=form.period.tz, as_of=as_of)
    except metrics.ReportInputError:
        # An 'as of' at the very edge of the years reports cover: no month to pace.
        pacing = None
    data["pacing"] = _pacing_data(pacing) if pacing else None
    verdict, verdict_tone = _pacing_verdict(pacing) if pacing else ("", "")
    rows = [
        [
            Cell(month["month"], "month"),
            month["mqls"],
            Cell(month["target"], "target"),
            Cell(month["attainment"], "percent"),
        ]
        for month in data["months"]
    ]
    chart = _chart(
        "target-chart",
        "bar",
        "MQLs per month vs target",
        [month["mqls"].label for month in data["months"]],
        [
            _dataset(
                "MQLs",
                [month["mqls"].value for month in data["months"]],
                tone="primary",
                links=[month["mqls"].link for month in data["months"]],
            ),
            _dataset("Target", [month["target"] for month in data["months"]], tone="bad", type="line"),
        ],
    )
    return Report(
        REPORTS_BY_SLUG["mql_target"],
        [data["produced"], data["attainment"]],
        [
            Table("months", "By month", ("Month", "MQLs", "Target", "Attainment"), rows, caption=partial_note),
            *([_pacing_table(pacing)] if pacing else []),
        ],
        [chart],
        verdict=verdict,
        verdict_tone=verdict_tone,
        extra={"team": form.filters.team, "view_note": partial_note},
        data=data,
    )


def _round(value, places=1):
    return None if value is None else round(value, places)


def _pacing_data(pacing):
    return {
        "month": pacing.month,
        "today": pacing.today,
        "mqls_to_date": pacing.mqls,
        "target": pacing.full_target,
        "target_to_date": _round(pacing.target_to_date, 2),
        "business_days_gone": pacing.business_days_gone,
        "business_days_left": pacing.remaining_business_days,
        "in_flight": pacing.in_flight,
        "historical_conversion": _round(pacing.conversion.percent, 4),
        "projected": _round(pacing.projected, 2),
        "needed_per_business_day": _round(pacing.needed_per_day, 2),
        "behind": pacing.behind,
        "formula": pacing.formula,
    }


def _pacing_verdict(pacing):
    if pacing.target_to_date is None:
        return "", ""
    month = f"{pacing.month:%B}"
    if pacing.behind:
        return (
            f"{month} is behind pace: {pacing.mqls:,} MQLs to date against {pacing.target_to_date:,.1f} "
            f"pro-rated; {pacing.needed_per_day or 0:,.1f} needed per remaining business day.",
            "bad",
        )
    return f"{month} is on pace: {pacing.mqls:,} MQLs to date against {pacing.target_to_date:,.1f} pro-rated.", "good"


def _pacing_table(pacing):
    rows = [
        [Cell("MQLs to date"), Cell(pacing.mqls, "int")],
        [Cell("Target pro-rated to date"), Cell(pacing.target_to_date, "target")],
        [Cell(f"Target for {pacing.month:%B}"), Cell(pacing.full_target, "int")],
        [Cell("Business days gone / left"), Cell(f"{pacing.business_days_gone} / {pacing.remaining_business_days}")],
        [Cell("Leads in flight (created this month, not yet MQL)"), Cell(pacing.in_flight, "int")],
        [Cell("Historical lead → MQL conversion"), Cell(pacing.conversion, "percent")],
        [Cell("Projected month end"), Cell(pacing.projected, "target")],
        [Cell("MQLs needed per remaining business day"), Cell(pacing.needed_per_day, "target")],
    ]
    return Table(
        "pacing",
        f"Pacing: {pacing.month:%B %Y} to {pacing.today:%-d %b}",
        ("Pacing", "Value"),
        rows,
        caption=f"Projected month end = {pacing.formula.removeprefix('projected month end = ')}.",
    )
