"""Score a lead, explain a score, rescore everything, and what-if a threshold.

A lead's score is the sum of what each active rule gives it: a demographic rule
its points once if the lead's field matches; a behaviour rule its points for
every matching activity; either clamped to the rule's cap. A behaviour rule
with a half-life decays each activity's points from the activity's time
(``points * 0.5 ** (age_days / half_life_days)``), caps the decayed sum and
rounds it to whole points, halves away from zero; the score is the sum of the
rounded shares. ``LeadRuleScore`` keeps each rule's share, so a new activity
changes the score incrementally and every score can be explained; decayed
shares are brought up to date by each new activity of the lead and by the
nightly ``jobs.refresh_decayed_scores``. Reaching the MQL threshold promotes a
lead that is still with marketing (``transitions.promote_if_ready``); nothing
here ever moves a lead back from sales, so decay lets a lead in stage ``lead``
drift below the threshold and leaves the stage of every other lead alone.

- ``rules``: what a rule gives a lead (pure);
- ``store``: the one writer of shares, scores and score-change history;
- ``runs``: the parts of a background rescore of every lead;
- ``what_if``: a threshold replayed over the last weeks from the recorded scores.
"""

from .rules import (
    ScoringError,
    active_rules,
    behaviour_kinds,
    behaviour_match,
    behaviour_rules,
    behaviour_share,
    contributions,
    decay_factor,
    decaying,
    demographic_match,
    rule_points,
    score_of,
    threshold,
    whole_points,
)
from .runs import (
    DECAY_BATCH,
    RESCORE_BATCH,
    claim_run,
    decayed_lead_ids,
    finish_run,
    next_batch,
    record_progress,
    rescore_batch,
    start_rescore,
)
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
from .what_if import DIFFERENCE_LABELS, NEVER_AN_MQL, WhatIf, WhatIfGroup, WhatIfWeek, what_if

__all__ = [
    "DECAY_BATCH",
    "DIFFERENCE_LABELS",
    "NEVER_AN_MQL",
    "RESCORE_BATCH",
    "SCORED_LEAD_FIELDS",
    "ScoreLine",
    "ScoringError",
    "WhatIf",
    "WhatIfGroup",
    "WhatIfWeek",
    "active_rules",
    "add_activities",
    "behaviour_kinds",
    "behaviour_match",
    "behaviour_rules",
    "behaviour_share",
    "claim_run",
    "contributions",
    "decay_factor",
    "decayed_lead_ids",
    "decaying",
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
    "whole_points",
    "write_scores",
]
