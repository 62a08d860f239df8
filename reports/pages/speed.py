"""The speed-to-lead report: response times, by band and rep, with a verdict against the SLA."""

from .. import metrics
from ..templatetags.reports_ui import duration
from .blocks import REPORTS_BY_SLUG, Cell, Number, Report, Table, _chart, _dataset, _linker, _rep_linker


def _headline_data(result, link):
    """Median and mean response against the SLA: the first numbers of the report and the overview's card."""
    return {
        "median": Number(
            "Median response", result.median, "duration", link("responded"), f"over {result.responded:,} answered MQLs"
        ),
        "mean": Number("Mean response", result.mean, "duration", link("responded")),
        "typical_window": result.typical_window,
        "misses_sla": result.misses_sla,
    }


def _shares(result, link):
    """The shares of ``result``'s answered MQLs within an hour and within their window, by name."""
    return {
        "within_hour": Number(
            "Within 1 hour",
            result.within_hour_share,
            "percent",
            link("within_hour"),
            f"{result.within_hour:,} of {result.responded:,}",
            formula=metrics.SpeedToLead.formula_within_hour,
        ),
        "within_sla": Number(
            "Within their SLA window",
            result.within_sla_share,
            "percent",
            link("within_sla"),
            f"{result.within_sla:,} of {result.responded:,}",
            formula=metrics.SpeedToLead.formula_within_sla,
        ),
    }


def _rep_data(rep, link):
    """A ``RepSpeed``'s numbers by name."""
    return {
        "rep": rep.rep_id,
        "name": rep.rep_name,
        "responded": Number("Answered", rep.responded, "int", link("responded")),
        "mean": rep.mean,
        **_shares(rep, link),
    }


def _verdict(result):
    """The verdict against the SLA and its tone, from the mean response and the typical window."""
    if result.misses_sla is None:
        return "", ""
    if result.misses_sla:
        return (
            f"Missing the SLA: the mean response ({duration(result.mean)}) is slower than "
            f"the typical SLA window ({duration(result.typical_window)})."
        ), "bad"
    return (
        f"Meeting the SLA: the mean response ({duration(result.mean)}) is within "
        f"the typical SLA window ({duration(result.typical_window)})."
    ), "good"


def speed_to_lead_card(form, as_of, result, *, leads_url=None):
    """The overview's card of ``result`` (a ``SpeedHeadline``): median, mean and the verdict."""
    verdict, tone = _verdict(result)
    data = _headline_data(result, _linker(form, as_of, "speed_to_lead", leads_url))
    return Report(
        REPORTS_BY_SLUG["speed_to_lead"],
        [data["median"], data["mean"]],
        [],
        verdict=verdict,
        verdict_tone=tone,
        data=data,
    )


def build_speed_to_lead(form, as_of, *, leads_url=None):
    result = metrics.speed_to_lead(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "speed_to_lead", leads_url)
    data = {
        **_headline_data(result, link),
        "responded": Number("Answered", result.responded, "int", link("responded")),
        "p90": Number("90th percentile", result.p90, "duration", link("responded")),
        **_shares(result, link),
        "bands": [
            {"label": label, "mqls": Number(label, count, "int", link(f"band_{index}")), "share": share}
            for index, (label, count, share) in enumerate(result.bands)
        ],
        "by_rep": [_rep_data(rep, _rep_linker(link, rep.rep_id)) for rep in result.by_rep],
    }
    verdict, tone = _verdict(result)
    band_rows = [[Cell(band["label"]), band["mqls"], Cell(band["share"], "percent")] for band in data["bands"]]
    rep_rows = [
        [Cell(rep["name"]), rep["responded"], Cell(rep["mean"], "duration"), rep["within_hour"], rep["within_sla"]]
        for rep in data["by_rep"]
    ]
    chart = _chart(
        "speed-chart",
        "bar",
        "MQLs by time to first follow-up",
        [band["label"] for band in data["bands"]],
        [
            _dataset(
                "MQLs answered",
                [band["mqls"].value for band in data["bands"]],
                tone="primary",
                links=[band["mqls"].link for band in data["bands"]],
            )
        ],
    )
    return Report(
        REPORTS_BY_SLUG["speed_to_lead"],
        [data[name] for name in ("median", "mean", "p90", "within_hour", "within_sla")],
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
        data=data,
    )
