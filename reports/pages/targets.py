"""The MQL target page: MQLs produced per month against each month's target."""

from .. import metrics
from ..metrics import Ratio
from .blocks import REPORTS_BY_SLUG, Cell, Number, Report, Table, _chart, _dataset, _linker, _tone_for


def build_mql_target(form, as_of):
    result = metrics.mql_target(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "mql_target")

    def month_link(month):
        return link("mqls", period=metrics.month_part(form.period, month))

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
