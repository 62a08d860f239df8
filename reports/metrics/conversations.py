"""Conversation rate: how many contacted leads turned into a real conversation, MQLs versus colder leads."""

from dataclasses import dataclass

from django.db.models import Count, Q

from .episodes import contacted_leads
from .period import Ratio


@dataclass(frozen=True)
class ConversationRate:
    formula = "leads with a logged conversation ÷ leads contacted × 100 (MQLs vs colder leads)"
    mql_contacted: int
    mql_conversations: int
    colder_contacted: int
    colder_conversations: int

    @property
    def mql(self):
        return Ratio(self.mql_conversations, self.mql_contacted)

    @property
    def colder(self):
        return Ratio(self.colder_conversations, self.colder_contacted)


def conversation_rate(period, filters):
    """Return the conversation rate of contacted leads, MQLs vs colder leads; raises nothing."""
    counts = contacted_leads(period, filters).aggregate(
        mql_contacted=Count("id", filter=Q(was_mql=True)),
        mql_conversations=Count("id", filter=Q(was_mql=True, had_conversation=True)),
        colder_contacted=Count("id", filter=Q(was_mql=False)),
        colder_conversations=Count("id", filter=Q(was_mql=False, had_conversation=True)),
    )
    return ConversationRate(**counts)
