"""Each report, built once from ``reports.metrics``: what its page renders and its JSON twin serializes.

``BUILDERS[slug](form, as_of, leads_url=None)`` returns the report's ``Report``:
its values by name (``data``), numbers, tables and charts, each number linked
to the leads behind it on ``leads_url`` (default: the drill-down page; the API
passes its own leads list). ``blocks`` holds the parts and the list of
reports; one module per metric family (``handoff``, ``speed``, ``rejections``,
``conversations``, ``targets``), as in ``reports.metrics``, builds its
reports. ``reports.views`` renders them and ``reports.api`` serializes them.
``BUILDERS`` wraps each builder with ``compare.with_comparisons`` (the previous
period, the trend and the ``by=`` breakdown), and those of ``SORTING`` with
``blocks.with_sort_memory``. ``build_overview`` builds the overview: one card per report with the first
numbers (and verdict) of its page, computed without the tables only the
report's own page shows.
"""

from .blocks import REPORTS, REPORTS_BY_SLUG, Cell, Number, Report, ReportInfo, Table, with_sort_memory
from .compare import with_comparisons
from .conversations import build_conversation_rate
from .effects import build_response_effect, build_waterfall
from .handoff import build_conversion, build_ignore_rate, build_sla_compliance
from .overview import build_overview
from .rejections import build_rejection_reasons
from .speed import build_speed_to_lead
from .targets import build_mql_target

# The reports whose statements sort a period's rows beyond the server's work_mem at 1M leads,
# and gain from sorting in memory: the rejection review's grouping sets (the year's 207k
# rejections). Speed to lead's percentiles and the conversation rate's hash of the activities
# spill too, but in memory they took as long (bench/README.md).
SORTING = ("rejection_reasons",)

# Each report's page and JSON twin: its builder, with the previous period, trend and breakdown added.
BUILDERS = {
    slug: with_sort_memory(with_comparisons(slug, build)) if slug in SORTING else with_comparisons(slug, build)
    for slug, build in (
        ("ignore_rate", build_ignore_rate),
        ("conversion", build_conversion),
        ("speed_to_lead", build_speed_to_lead),
        ("sla_compliance", build_sla_compliance),
        ("rejection_reasons", build_rejection_reasons),
        ("conversation_rate", build_conversation_rate),
        ("mql_target", build_mql_target),
        ("waterfall", build_waterfall),
        ("response_effect", build_response_effect),
    )
}


__all__ = [
    "BUILDERS",
    "REPORTS",
    "REPORTS_BY_SLUG",
    "Cell",
    "Number",
    "Report",
    "ReportInfo",
    "Table",
    "build_conversation_rate",
    "build_conversion",
    "build_ignore_rate",
    "build_mql_target",
    "build_overview",
    "build_rejection_reasons",
    "build_response_effect",
    "build_sla_compliance",
    "build_speed_to_lead",
    "build_waterfall",
]
