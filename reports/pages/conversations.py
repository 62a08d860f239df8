"""The conversation-rate report: contacted leads and conversations, MQLs versus colder leads."""

from django.utils.translation import gettext, gettext_lazy

from .. import metrics
from ..templatetags.reports_ui import number
from .blocks import REPORTS_BY_SLUG, Cell, Number, Report, Table, _chart, _dataset, _linker

# (name, label, rate, contacted, with a conversation) of each group of leads, from a ConversationRate.
_GROUPS = (
    ("mql", gettext_lazy("MQLs"), "mql", "mql_contacted", "mql_conversations"),
    ("colder", gettext_lazy("Colder leads"), "colder", "colder_contacted", "colder_conversations"),
)


def build_conversation_rate(form, as_of, result=None, *, leads_url=None):
    """The report; ``result`` is the period's ``ConversationRate`` when the caller has counted it (the series' period)."""
    result = result or metrics.conversation_rate(form.period, form.filters)
    link = _linker(form, as_of, "conversation_rate", leads_url)
    labels = {name: label for name, label, *_fields in _GROUPS}
    data = {
        name: {
            "contacted": Number(gettext("Contacted"), getattr(result, contacted), "int", link(contacted)),
            "conversations": Number(gettext("With a conversation"), getattr(result, talks), "int", link(talks)),
            "rate": Number(
                gettext("%(group)s: conversation rate") % {"group": label},
                getattr(result, rate),
                "percent",
                link(talks),
                gettext("%(part)s of %(whole)s contacted")
                % {"part": number(getattr(result, talks)), "whole": number(getattr(result, contacted))},
                formula=metrics.ConversationRate.formula,
            ),
        }
        for name, label, rate, contacted, talks in _GROUPS
    }
    rows = [
        [Cell(labels[name]), group["contacted"], group["conversations"], Cell(group["rate"].value, "percent")]
        for name, group in data.items()
    ]
    chart = _chart(
        "conversation-chart",
        "bar",
        gettext("Contacted leads and conversations, MQLs vs colder leads"),
        list(labels.values()),
        [
            _dataset(
                data["mql"][part].label,
                [group[part].value for group in data.values()],
                tone=tone,
                links=[group[part].link for group in data.values()],
            )
            for part, tone in (("contacted", "muted"), ("conversations", "primary"))
        ],
    )
    return Report(
        REPORTS_BY_SLUG["conversation_rate"],
        [group["rate"] for group in data.values()],
        [
            Table(
                "groups",
                gettext("MQLs vs colder leads"),
                (gettext("Leads"), gettext("Contacted"), gettext("With a conversation"), gettext("Conversation rate")),
                rows,
            )
        ],
        [chart],
        data=data,
    )
