"""Score a lead, explain a score, rescore everything, and what-if a threshold.

A lead's score is the sum of what each active rule gives it: a demographic rule
its points once if the lead's field matches; a behaviour rule its points for
every matching activity; either clamped to the rule's cap. ``LeadRuleScore``
keeps each rule's share, so a new activity changes the score incrementally and
every score can be explained. Reaching the MQL threshold promotes a lead that is
still with marketing (``transitions.promote_if_ready``); nothing here ever moves
a lead back from sales.

- ``rules``: what a rule gives a lead (pure);
- ``store``: the one writer of shares, scores and score-change history;
- ``runs``: the parts of a background rescore of every lead;
- ``what_if``: a threshold replayed over the last weeks.
"""

from .rules import (
    ScoringError,
    active_rules,
    behaviour_kinds,
    behaviour_match,
    behaviour_rules,
    contributions,
    demographic_match,
    rule_points,
    score_of,
    threshold,
)
from .runs import RESCORE_BATCH, claim_run, finish_run, next_batch, record_progress, rescore_batch, start_rescore
from .store import (
    SCORED_LEAD_FIELDS,
    ScoreLine,
    add_activities,
    explain,
    lock_for_scoring,
    recompute,
    score_lead,
    stored_shares,
    top_reasons,
    write_scores,
)
from .what_if import NEVER_AN_MQL, WhatIf, WhatIfWeek, what_if

__all__ = [
    "NEVER_AN_MQL",
    "RESCORE_BATCH",
    "SCORED_LEAD_FIELDS",
    "ScoreLine",
    "ScoringError",
    "WhatIf",
    "WhatIfWeek",
    "active_rules",
    "add_activities",
    "behaviour_kinds",
    "behaviour_match",
    "behaviour_rules",
    "claim_run",
    "contributions",
    "demographic_match",
    "explain",
    "finish_run",
    "lock_for_scoring",
    "next_batch",
    "recompute",
    "record_progress",
    "rescore_batch",
    "rule_points",
    "score_lead",
    "score_of",
    "start_rescore",
    "stored_shares",
    "threshold",
    "top_reasons",
    "what_if",
    "write_scores",
]
