"""The overview page: a card per report with the first numbers of its page, a summary table and the funnel chart.

A card shows what its report's page shows first (and the speed verdict), so
it is built from the same helpers, but from the overview's own calls: the
numbers of the reports made only of headline numbers (the ignore rate without
its per-rep breakdown, conversion, SLA compliance, the conversation rate) are
the period's numbers of the series that also gives every report's previous
period and trend (``metrics.compare.overview_series``), so they are counted
once. The speed card's median, mean and typical window come from
``metrics.speed_headline`` (and the series leaves the period's median and mean
to it: they would sort the same response times again), the rejection card's
reasons from their count without trend and splits. The MQL target, the
waterfall and the response-time effect are their page.
"""

from django.utils.translation import gettext, gettext_lazy

from .. import metrics
from ..metrics import compare
from .blocks import REPORTS, Cell, Report, ReportInfo, Table
from .compare import add_overview_comparisons, comparison_periods
from .conversations import build_conversation_rate
from .effects import build_response_effect, build_waterfall
from .handoff import build_conversion, build_sla_compliance, ignore_rate_card
from .rejections import rejection_reasons_card
from .speed import speed_to_lead_card
from .targets import build_mql_target

OVERVIEW = ReportInfo(
    "overview",
    gettext_lazy("Reports"),
    gettext_lazy("How well the marketing-to-sales handoff works."),
    gettext_lazy("the headline number of every report"),
)


def build_overview(form, as_of, *, leads_url=None):
    """The overview: its ``data`` is the card of each report by slug, in the order of ``REPORTS``, with ``previous`` and ``trend``; a summary table, the funnel and trend charts."""
    view = form.selected_view
    series = compare.overview_series(
        comparison_periods(form.period)[-1], form.filters, view=view, as_of=as_of, first_durations=False
    )
    speed = metrics.speed_headline(form.period, form.filters, as_of=as_of)
    current = series[0]
    current["speed_to_lead"].update(median=speed.median, mean=speed.mean)

    def from_series(slug):
        return compare.headline_result(slug, current[slug], view=view, as_of=as_of)

    built = {
        "ignore_rate": ignore_rate_card(form, as_of, from_series("ignore_rate"), leads_url=leads_url),
        "conversion": build_conversion(form, as_of, from_series("conversion"), leads_url=leads_url),
        "speed_to_lead": speed_to_lead_card(form, as_of, speed, leads_url=leads_url),
        "sla_compliance": build_sla_compliance(form, as_of, from_series("sla_compliance"), leads_url=leads_url),
        "rejection_reasons": rejection_reasons_card(form, as_of, leads_url=leads_url),
        "conversation_rate": build_conversation_rate(
            form, as_of, from_series("conversation_rate"), leads_url=leads_url
        ),
        "mql_target": build_mql_target(form, as_of, leads_url=leads_url),
        "waterfall": build_waterfall(form, as_of, leads_url=leads_url),
        "response_effect": build_response_effect(form, as_of, leads_url=leads_url),
    }
    cards = {info.slug: built[info.slug] for info in REPORTS}
    summary = Table(
        "summary",
        gettext("All reports"),
        (gettext("Report"), gettext("Number"), gettext("Value")),
        [
            [Cell(card.info.title), Cell(number.label), Cell(number.value, number.kind, number.link)]
            for card in cards.values()
            for number in card.numbers[:2]
        ],
    )
    funnel = cards["conversion"].charts[0]
    overview = Report(OVERVIEW, [], [summary], [{**funnel, "id": "overview-funnel-chart"}], data=dict(cards))
    return add_overview_comparisons(overview, cards, form, as_of, series, leads_url=leads_url)
