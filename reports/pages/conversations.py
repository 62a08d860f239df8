"""The conversation-rate page: contacted leads and conversations, MQLs versus colder leads."""

from .. import metrics
from .blocks import REPORTS_BY_SLUG, Cell, Number, Report, Table, _chart, _dataset, _linker


def build_conversation_rate(form, as_of):
    result = metrics.conversation_rate(form.period, form.filters)
    link = _linker(form, as_of, "conversation_rate")
    groups = (
        ("MQLs", result.mql, result.mql_contacted, result.mql_conversations, "mql"),
        ("Colder leads", result.colder, result.colder_contacted, result.colder_conversations, "colder"),
    )
    numbers = [
        Number(
            f"{label}: conversation rate",
            rate,
            "percent",
            link(f"{key}_conversations"),
            f"{talks:,} of {contacted:,} contacted",
        )
        for label, rate, contacted, talks, key in groups
    ]
    rows = [
        [
            Cell(label),
            Cell(contacted, "int", link(f"{key}_contacted")),
            Cell(talks, "int", link(f"{key}_conversations")),
            Cell(rate, "percent"),
        ]
        for label, rate, contacted, talks, key in groups
    ]
    chart = _chart(
        "conversation-chart",
        "bar",
        "Contacted leads and conversations, MQLs vs colder leads",
        [label for label, *_rest in groups],
        [
            _dataset(
                "Contacted", [g[2] for g in groups], tone="muted", links=[link(f"{g[4]}_contacted") for g in groups]
            ),
            _dataset(
                "With a conversation",
                [g[3] for g in groups],
                tone="primary",
                links=[link(f"{g[4]}_conversations") for g in groups],
            ),
        ],
    )
    return Report(
        REPORTS_BY_SLUG["conversation_rate"],
        numbers,
        [
            Table(
                "groups",
                "MQLs vs colder leads",
                ("Leads", "Contacted", "With a conversation", "Conversation rate"),
                rows,
            )
        ],
        [chart],
    )
