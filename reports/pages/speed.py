"""The speed-to-lead page: response times, by band and rep, with a verdict against the SLA."""

from .. import metrics
from ..templatetags.reports_ui import duration
from .blocks import REPORTS_BY_SLUG, Cell, Number, Report, Table, _chart, _dataset, _linker


def _headline_numbers(result, link):
    """Median and mean response: the first numbers of the page and the overview's card."""
    return [
        Number(
            "Median response", result.median, "duration", link("responded"), f"over {result.responded:,} answered MQLs"
        ),
        Number("Mean response", result.mean, "duration", link("responded")),
    ]


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


def speed_to_lead_card(form, as_of, result):
    """The overview's card of ``result`` (a ``SpeedHeadline``): median, mean and the verdict."""
    verdict, tone = _verdict(result)
    numbers = _headline_numbers(result, _linker(form, as_of, "speed_to_lead"))
    return Report(REPORTS_BY_SLUG["speed_to_lead"], numbers, [], verdict=verdict, verdict_tone=tone)


def build_speed_to_lead(form, as_of):
    result = metrics.speed_to_lead(form.period, form.filters, as_of=as_of)
    link = _linker(form, as_of, "speed_to_lead")
    numbers = [
        *_headline_numbers(result, link),
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
    verdict, tone = _verdict(result)
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
