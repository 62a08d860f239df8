"""The speed-to-lead report: response times, by band and rep, with a verdict against the SLA."""

from django.utils.translation import gettext

from .. import metrics
from ..templatetags.reports_ui import duration, number
from .blocks import REPORTS_BY_SLUG, Cell, Number, Report, Table, _chart, _dataset, _linker, _rep_linker


def _headline_data(result, link):
    """Median and mean response against the SLA: the first numbers of the report and the overview's card."""
    return {
        "median": Number(
            gettext("Median response"),
            result.median,
            "duration",
            link("responded"),
            gettext("over %(count)s answered MQLs") % {"count": number(result.responded)},
        ),
        "mean": Number(gettext("Mean response"), result.mean, "duration", link("responded")),
        "typical_window": result.typical_window,
        "misses_sla": result.misses_sla,
    }


def _shares(result, link):
    """The shares of ``result``'s answered MQLs within an hour and within their window, by name."""
    return {
        "within_hour": Number(
            gettext("Within 1 hour"),
            result.within_hour_share,
            "percent",
            link("within_hour"),
            gettext("%(part)s of %(whole)s") % {"part": number(result.within_hour), "whole": number(result.responded)},
            formula=metrics.SpeedToLead.formula_within_hour,
        ),
        "within_sla": Number(
            gettext("Within their SLA window"),
            result.within_sla_share,
            "percent",
            link("within_sla"),
            gettext("%(part)s of %(whole)s") % {"part": number(result.within_sla), "whole": number(result.responded)},
            formula=metrics.SpeedToLead.formula_within_sla,
        ),
    }


def _rep_data(rep, link):
    """A ``RepSpeed``'s numbers by name."""
    return {
        "rep": rep.rep_id,
        "name": rep.rep_name,
        "responded": Number(gettext("Answered"), rep.responded, "int", link("responded")),
        "mean": rep.mean,
        **_shares(rep, link),
    }


def _verdict(result):
    """The verdict against the SLA and its tone, from the mean response and the typical window."""
    if result.misses_sla is None:
        return "", ""
    if result.misses_sla:
        return gettext(
            "Missing the SLA: the mean response (%(mean)s) is slower than the typical SLA window (%(window)s)."
        ) % {"mean": duration(result.mean), "window": duration(result.typical_window)}, "bad"
    return gettext("Meeting the SLA: the mean response (%(mean)s) is within the typical SLA window (%(window)s).") % {
        "mean": duration(result.mean),
        "window": duration(result.typical_window),
    }, "good"


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
        "responded": Number(gettext("Answered"), result.responded, "int", link("responded")),
        "p90": Number(gettext("90th percentile"), result.p90, "duration", link("responded")),
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
        gettext("MQLs by time to first follow-up"),
        [band["label"] for band in data["bands"]],
        [
            _dataset(
                gettext("MQLs answered"),
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
            Table(
                "bands",
                gettext("Time to first follow-up"),
                (gettext("Band"), gettext("MQLs"), gettext("Share")),
                band_rows,
            ),
            Table(
                "by-rep",
                gettext("By rep"),
                (
                    gettext("Rep"),
                    gettext("Answered"),
                    gettext("Mean response"),
                    gettext("Within 1 hour"),
                    gettext("Within SLA window"),
                ),
                rep_rows,
            ),
        ],
        [chart],
        verdict=verdict,
        verdict_tone=tone,
        data=data,
    )
