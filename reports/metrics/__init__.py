"""The handoff metrics: one function per metric, computed in the database.

Every function takes an explicit ``Period`` and ``Filters`` (and, where the
answer depends on it, an ``as_of`` instant and a ``view``) and returns a small
frozen dataclass. Numbers come from ``MqlEpisode``, the per-episode projection
of the lead history, so a recycled lead that becomes an MQL again counts once
per episode. Each number's leads are available from the ``*_episodes``
functions, which the drill-down pages use, so a number and its list can never
disagree.

Views: *period* counts events that happened in the period (SALs accepted in it,
SQLs qualified in it, over MQLs created in it); *cohort* follows the MQLs created
in the period to ``as_of`` (default: now).

Callers import from here (``from reports import metrics``); the modules are:

- ``period``: ``Period``, ``Filters``, ``Ratio``, ``ReportInputError``, the views;
- ``episodes``: the ``*_episodes`` querysets (and ``contacted_leads``) behind each number;
- ``drill_downs``: ``DRILL_DOWNS``, which list belongs to which number, and ``drill_down``;
- ``outcomes``: ``Outcome``, how an MQL episode stood at a moment, and ``with_outcomes``;
- one module per metric family: ``handoff`` (ignore rate, conversion, SLA
  compliance), ``speed``, ``rejections``, ``conversations``, ``targets``;
- ``sorting``: ``sort_memory``, more ``work_mem`` for the reports that sort a period's rows;
- ``headlines``: ``episode_headlines``, the ignore rate, SLA
  compliance and speed numbers together (one query on PostgreSQL).

The overview shows one or two numbers per report, so ``speed_headline`` and
``rejection_reason_counts`` compute only those; the ignore rate's page gets
its total with the per-rep breakdown (``ignore_rate_by_rep``).
Where PostgreSQL answers faster with its own SQL (percentile aggregates,
grouping sets, the conversation rate as one statement), the function takes
that path there and a portable one elsewhere; the tests run on both.
"""

from .conversations import ConversationRate, conversation_rate
from .drill_downs import DRILL_DOWNS, EPISODE_ROWS, LEAD_ROWS, drill_down
from .effects import ResponseEffect, Waterfall, response_effect, waterfall
from .episodes import (
    SPEED_BANDS,
    accepted_episodes,
    awaiting_episodes,
    contacted_leads,
    followed_up_episodes,
    ignored_episodes,
    mql_episodes,
    qualified_episodes,
    rejected_episodes,
    responded_episodes,
    sla_closed_episodes,
    sla_late_episodes,
    sla_met_episodes,
    sla_missed_episodes,
)
from .handoff import (
    Conversion,
    IgnoreRate,
    IgnoreRateByRep,
    SlaCompliance,
    conversion,
    ignore_rate,
    ignore_rate_by_rep,
    sla_compliance,
)
from .headlines import EpisodeHeadlines, episode_headlines
from .outcomes import Outcome, with_outcomes
from .period import (
    COHORT_VIEW,
    EARLIEST_YEAR,
    LATEST_YEAR,
    MAX_PERIOD_DAYS,
    PERIOD_VIEW,
    VIEWS,
    Filters,
    Period,
    Ratio,
    ReportInputError,
    month_part,
)
from .rejections import (
    ReasonCount,
    ReasonCounts,
    RejectionReasons,
    rejection_reason_counts,
    rejection_reasons,
)
from .sorting import sort_memory
from .speed import RepSpeed, SpeedHeadline, SpeedToLead, speed_headline, speed_to_lead
from .targets import MonthTarget, MqlTarget, Pacing, mql_pacing, mql_target

__all__ = [
    "COHORT_VIEW",
    "DRILL_DOWNS",
    "EARLIEST_YEAR",
    "EPISODE_ROWS",
    "LATEST_YEAR",
    "LEAD_ROWS",
    "MAX_PERIOD_DAYS",
    "PERIOD_VIEW",
    "SPEED_BANDS",
    "VIEWS",
    "ConversationRate",
    "Conversion",
    "EpisodeHeadlines",
    "Filters",
    "IgnoreRate",
    "IgnoreRateByRep",
    "MonthTarget",
    "MqlTarget",
    "Outcome",
    "Pacing",
    "Period",
    "Ratio",
    "ReasonCount",
    "ReasonCounts",
    "RejectionReasons",
    "RepSpeed",
    "ReportInputError",
    "ResponseEffect",
    "SlaCompliance",
    "SpeedHeadline",
    "SpeedToLead",
    "Waterfall",
    "accepted_episodes",
    "awaiting_episodes",
    "contacted_leads",
    "conversation_rate",
    "conversion",
    "drill_down",
    "episode_headlines",
    "followed_up_episodes",
    "ignore_rate",
    "ignore_rate_by_rep",
    "ignored_episodes",
    "month_part",
    "mql_episodes",
    "mql_pacing",
    "mql_target",
    "qualified_episodes",
    "rejected_episodes",
    "rejection_reason_counts",
    "rejection_reasons",
    "responded_episodes",
    "response_effect",
    "sla_closed_episodes",
    "sla_compliance",
    "sla_late_episodes",
    "sla_met_episodes",
    "sla_missed_episodes",
    "sort_memory",
    "speed_headline",
    "speed_to_lead",
    "waterfall",
    "with_outcomes",
]
