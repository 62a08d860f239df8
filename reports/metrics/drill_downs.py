"""One registry of every number's list, for the drill-down page and the API's ``leads_url``.

``DRILL_DOWNS[metric][bucket]`` is (title, what the rows are, how to find them);
the buckets are the names the report pages and the API give their numbers.
"""

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
from .period import PERIOD_VIEW, ReportInputError, _as_of, _check_view

EPISODE_ROWS = "episodes"
LEAD_ROWS = "leads"


def _speed_bands():
    return {
        f"band_{index}": (
            f"MQLs answered in {label}",
            EPISODE_ROWS,
            lambda p, f, *, index=index, **kw: responded_episodes(p, f, band=index, as_of=kw["as_of"]),
        )
        for index, (label, _low, _high) in enumerate(SPEED_BANDS)
    }


DRILL_DOWNS = {
    "ignore_rate": {
        "mqls": ("MQLs of the period", EPISODE_ROWS, lambda p, f, **kw: mql_episodes(p, f, as_of=kw["as_of"])),
        "ignored": (
            "Ignored MQLs: window expired, never followed up",
            EPISODE_ROWS,
            lambda p, f, **kw: ignored_episodes(p, f, as_of=kw["as_of"]),
        ),
        "awaiting": (
            "MQLs awaiting response: inside their window",
            EPISODE_ROWS,
            lambda p, f, **kw: awaiting_episodes(p, f, as_of=kw["as_of"]),
        ),
        "followed_up": (
            "MQLs followed up",
            EPISODE_ROWS,
            lambda p, f, **kw: followed_up_episodes(p, f, as_of=kw["as_of"]),
        ),
    },
    "conversion": {
        "mqls": ("MQLs of the period", EPISODE_ROWS, lambda p, f, **kw: mql_episodes(p, f, as_of=kw["as_of"])),
        "sals": (
            "SALs: MQLs accepted by sales",
            EPISODE_ROWS,
            lambda p, f, **kw: accepted_episodes(p, f, view=kw["view"], as_of=kw["as_of"]),
        ),
        "sqls": (
            "SQLs: MQLs qualified to opportunities",
            EPISODE_ROWS,
            lambda p, f, **kw: qualified_episodes(p, f, view=kw["view"], as_of=kw["as_of"]),
        ),
    },
    "sla_compliance": {
        "closed": (
            "MQLs whose SLA window has closed",
            EPISODE_ROWS,
            lambda p, f, **kw: sla_closed_episodes(p, f, as_of=kw["as_of"]),
        ),
        "within": (
            "MQLs followed up within their window",
            EPISODE_ROWS,
            lambda p, f, **kw: sla_met_episodes(p, f, as_of=kw["as_of"]),
        ),
        "late": (
            "MQLs followed up after their window closed",
            EPISODE_ROWS,
            lambda p, f, **kw: sla_late_episodes(p, f, as_of=kw["as_of"]),
        ),
        "never": (
            "MQLs never followed up, window expired",
            EPISODE_ROWS,
            lambda p, f, **kw: ignored_episodes(p, f, as_of=kw["as_of"]),
        ),
        "missed": (
            "MQLs that missed the SLA (late or never)",
            EPISODE_ROWS,
            lambda p, f, **kw: sla_missed_episodes(p, f, as_of=kw["as_of"]),
        ),
    },
    "speed_to_lead": {
        "responded": ("MQLs followed up", EPISODE_ROWS, lambda p, f, **kw: responded_episodes(p, f, as_of=kw["as_of"])),
        "within_hour": (
            "MQLs followed up within an hour",
            EPISODE_ROWS,
            lambda p, f, **kw: responded_episodes(p, f, within_hour=True, as_of=kw["as_of"]),
        ),
        "within_sla": (
            "MQLs followed up within their SLA window",
            EPISODE_ROWS,
            lambda p, f, **kw: responded_episodes(p, f, within_sla=True, as_of=kw["as_of"]),
        ),
        **_speed_bands(),
    },
    "rejection_reasons": {
        "rejected": (
            "Rejected and disqualified MQLs",
            EPISODE_ROWS,
            lambda p, f, **kw: rejected_episodes(p, f, reason=kw["reason"], as_of=kw["as_of"]),
        ),
    },
    "conversation_rate": {
        "mql_contacted": ("MQLs contacted", LEAD_ROWS, lambda p, f, **kw: contacted_leads(p, f, warmth="mql")),
        "mql_conversations": (
            "MQLs with a logged conversation",
            LEAD_ROWS,
            lambda p, f, **kw: contacted_leads(p, f, warmth="mql", conversations_only=True),
        ),
        "colder_contacted": (
            "Colder leads contacted",
            LEAD_ROWS,
            lambda p, f, **kw: contacted_leads(p, f, warmth="colder"),
        ),
        "colder_conversations": (
            "Colder leads with a logged conversation",
            LEAD_ROWS,
            lambda p, f, **kw: contacted_leads(p, f, warmth="colder", conversations_only=True),
        ),
    },
    "mql_target": {
        "mqls": ("MQLs produced", EPISODE_ROWS, lambda p, f, **kw: mql_episodes(p, f, as_of=kw["as_of"])),
    },
}


def drill_down(metric, bucket, period, filters, *, view=PERIOD_VIEW, as_of=None, reason=""):
    """Return (title, row kind, queryset) of the leads behind one number; raises ReportInputError for an unknown metric, bucket or view."""
    _check_view(view)
    if metric not in DRILL_DOWNS:
        choices = ", ".join(sorted(DRILL_DOWNS))
        raise ReportInputError(f"Unknown metric {metric!r}; choose one of {choices}.", field="metric")
    buckets = DRILL_DOWNS[metric]
    if bucket not in buckets:
        choices = ", ".join(buckets)
        raise ReportInputError(f"Unknown number {bucket!r} for {metric}; choose one of {choices}.", field="bucket")
    title, rows, find = buckets[bucket]
    return title, rows, find(period, filters, view=view, as_of=_as_of(as_of), reason=reason)
