"""The overview page: a card per report with the first numbers of its page, a summary table and the funnel chart.

A card shows what its report's page shows first (and the speed verdict), so
it is built from the same helpers, but from the overview's own calls: the
episode numbers of three reports come from ``metrics.episode_headlines``
together, the rejections by reason without their trend and splits, and the
ignore rate without its per-rep breakdown. Reports that are one or two queries
anyway (conversion, conversation rate, MQL target) are their page.
"""

from .. import metrics
from .blocks import REPORTS, Cell, Report, ReportInfo, Table
from .conversations import build_conversation_rate
from .handoff import build_conversion, build_sla_compliance, ignore_rate_card
from .rejections import rejection_reasons_card
from .speed import speed_to_lead_card
from .targets import build_mql_target

OVERVIEW = ReportInfo("overview", "Reports", "How well the marketing-to-sales handoff works.", "")


def build_overview(form, as_of):
    """Return (the cards in the order of ``REPORTS``, the overview's own ``Report``: summary table and funnel chart)."""
    headlines = metrics.episode_headlines(form.period, form.filters, as_of=as_of)
    cards = {
        "ignore_rate": ignore_rate_card(form, as_of, headlines.ignore_rate),
        "conversion": build_conversion(form, as_of),
        "speed_to_lead": speed_to_lead_card(form, as_of, headlines.speed),
        "sla_compliance": build_sla_compliance(form, as_of, result=headlines.sla_compliance),
        "rejection_reasons": rejection_reasons_card(form, as_of),
        "conversation_rate": build_conversation_rate(form, as_of),
        "mql_target": build_mql_target(form, as_of),
    }
    cards = [cards[info.slug] for info in REPORTS]
    summary = Table(
        "summary",
        "All reports",
        ("Report", "Number", "Value"),
        [
            [Cell(card.info.title), Cell(number.label), Cell(number.value, number.kind, number.link)]
            for card in cards
            for number in card.numbers[:2]
        ],
    )
    funnel = next(card for card in cards if card.info.slug == "conversion").charts[0]
    return cards, Report(OVERVIEW, [], [summary], [{**funnel, "id": "overview-funnel-chart"}])
