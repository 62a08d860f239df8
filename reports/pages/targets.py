"""The MQL target report: MQLs produced per month against each month's target."""

from django.utils.dates import MONTHS
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_lazy

from .. import metrics
from ..metrics import Ratio
from ..templatetags.reports_ui import number
from .blocks import REPORTS_BY_SLUG, Cell, Number, Report, Table, _chart, _dataset, _linker, _tone_for


def build_mql_target(form, as_of, *, leads_url=None):
    result = metrics.mql_target(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "mql_target", leads_url)
    produced = sum(m.mqls for m in result.months)
    with_target = [m for m in result.months if m.target is not None]
    attainment = Ratio(sum(m.mqls for m in with_target), sum(m.target for m in with_target))
    partial_note = " ".join(
        gettext(
            "%(month)s: the period covers %(covered)s of its %(days)s business days, "
            "so its target of %(target)s is pro-rated to %(pro_rated)s."
        )
        % {
            "month": date_format(m.month, "YEAR_MONTH_FORMAT"),
            "covered": m.covered_days,
            "days": m.month_days,
            "target": number(m.full_target),
            "pro_rated": number(m.target, 1),
        }
        for m in result.partial_months
    )
    data = {
        "target_scope": result.scope,
        "pro_rated_note": partial_note,
        "produced": Number(gettext("MQLs produced"), produced, "int", link("mqls"), gettext("in the period")),
        "attainment": Number(
            gettext("Target attainment"),
            attainment,
            "percent",
            "",
            _attainment_note(result.scope, attainment, pro_rated=bool(result.partial_months))
            if with_target
            else _NO_TARGET[result.scope],
            _tone_for(attainment, good_above=100),
            formula=metrics.MqlTarget.formula,
        ),
        "months": [
            {
                "month": m.month,
                "mqls": Number(
                    date_format(m.month, "YEAR_MONTH_FORMAT"),
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
        gettext("MQLs per month vs target"),
        [month["mqls"].label for month in data["months"]],
        [
            _dataset(
                gettext("MQLs"),
                [month["mqls"].value for month in data["months"]],
                tone="primary",
                links=[month["mqls"].link for month in data["months"]],
            ),
            _dataset(gettext("Target"), [month["target"] for month in data["months"]], tone="bad", type="line"),
        ],
    )
    return Report(
        REPORTS_BY_SLUG["mql_target"],
        [data["produced"], data["attainment"]],
        [
            Table(
                "months",
                gettext("By month"),
                (gettext("Month"), gettext("MQLs"), gettext("Target"), gettext("Attainment")),
                rows,
                caption=partial_note,
            ),
            *([_pacing_table(pacing)] if pacing else []),
        ],
        [chart],
        verdict=verdict,
        verdict_tone=verdict_tone,
        extra={"team": form.filters.team, "view_note": partial_note},
        data=data,
    )


# The note under the attainment: whose target the MQLs were measured against.
_NO_TARGET = {
    "rep": gettext_lazy("no rep's own target set for these months"),
    "team": gettext_lazy("no team's target set for these months"),
    "overall": gettext_lazy("no overall target set for these months"),
}


def _attainment_note(scope, attainment, *, pro_rated):
    values = {"mqls": number(attainment.numerator), "target": number(attainment.denominator, 0)}
    if scope == "rep":
        if pro_rated:
            text = gettext(
                "%(mqls)s MQLs vs the rep's own target of %(target)s (pro-rated) in the months that have one"
            )
        else:
            text = gettext("%(mqls)s MQLs vs the rep's own target of %(target)s in the months that have one")
    elif scope == "team":
        if pro_rated:
            text = gettext("%(mqls)s MQLs vs the team's target of %(target)s (pro-rated) in the months that have one")
        else:
            text = gettext("%(mqls)s MQLs vs the team's target of %(target)s in the months that have one")
    elif pro_rated:
        text = gettext("%(mqls)s MQLs vs the overall target of %(target)s (pro-rated) in the months that have one")
    else:
        text = gettext("%(mqls)s MQLs vs the overall target of %(target)s in the months that have one")
    return text % values


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
    values = {
        "month": MONTHS[pacing.month.month],
        "mqls": number(pacing.mqls),
        "target": number(pacing.target_to_date, 1),
        "needed": number(pacing.needed_per_day or 0, 1),
    }
    if pacing.behind:
        return (
            gettext(
                "%(month)s is behind pace: %(mqls)s MQLs to date against %(target)s pro-rated; "
                "%(needed)s needed per remaining business day."
            )
            % values,
            "bad",
        )
    return gettext("%(month)s is on pace: %(mqls)s MQLs to date against %(target)s pro-rated.") % values, "good"


def _pacing_table(pacing):
    rows = [
        [Cell(gettext("MQLs to date")), Cell(pacing.mqls, "int")],
        [Cell(gettext("Target pro-rated to date")), Cell(pacing.target_to_date, "target")],
        [
            Cell(gettext("Target for %(month)s") % {"month": MONTHS[pacing.month.month]}),
            Cell(pacing.full_target, "int"),
        ],
        [
            Cell(gettext("Business days gone / left")),
            Cell(f"{pacing.business_days_gone} / {pacing.remaining_business_days}"),
        ],
        [Cell(gettext("Leads in flight (created this month, not yet MQL)")), Cell(pacing.in_flight, "int")],
        [Cell(gettext("Historical lead → MQL conversion")), Cell(pacing.conversion, "percent")],
        [Cell(gettext("Projected month end")), Cell(pacing.projected, "target")],
        [Cell(gettext("MQLs needed per remaining business day")), Cell(pacing.needed_per_day, "target")],
    ]
    return Table(
        "pacing",
        gettext("Pacing: %(month)s to %(day)s")
        % {
            "month": date_format(pacing.month, "YEAR_MONTH_FORMAT"),
            "day": date_format(pacing.today, "MONTH_DAY_FORMAT"),
        },
        (gettext("Pacing"), gettext("Value")),
        rows,
        caption=capfirst(f"{pacing.formula}."),
    )
