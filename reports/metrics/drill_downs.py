"""One registry of every number's list, for the drill-down page and the API's ``leads_url``.

``DRILL_DOWNS[metric][bucket]`` is (title, what the rows are, how to find them);
the buckets are the names the report pages and the API give their numbers.
Episode rows come with their ``outcome`` as of the report's moment.
"""

from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy

from .episodes import (
    SPEED_BANDS,
    accepted_episodes,
    answered_episodes,
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
from .outcomes import with_outcomes
from .period import PERIOD_VIEW, ReportInputError, _as_of, _check_view

EPISODE_ROWS = "episodes"
LEAD_ROWS = "leads"


def _episodes(title, find, **fixed):
    """A list of episodes as of the report's moment: ``find(period, filters, as_of=..., **fixed)``."""
    return (title, EPISODE_ROWS, lambda p, f, **kw: find(p, f, as_of=kw["as_of"], **fixed))


def _episodes_in_view(title, find):
    """A list of episodes that depends on the period or cohort view as well."""
    return (title, EPISODE_ROWS, lambda p, f, **kw: find(p, f, view=kw["view"], as_of=kw["as_of"]))


def _contacted(title, **fixed):
    """A list of leads contacted in the period (the conversation rate counts leads, not episodes)."""
    return (title, LEAD_ROWS, lambda p, f, **kw: contacted_leads(p, f, **fixed))


_MQLS = _episodes(gettext_lazy("MQLs of the period"), mql_episodes)

DRILL_DOWNS = {
    "ignore_rate": {
        "mqls": _MQLS,
        "ignored": _episodes(gettext_lazy("Ignored MQLs: window expired, never followed up"), ignored_episodes),
        "awaiting": _episodes(gettext_lazy("MQLs awaiting response: inside their window"), awaiting_episodes),
        "followed_up": _episodes(gettext_lazy("MQLs followed up"), followed_up_episodes),
    },
    "conversion": {
        "mqls": _MQLS,
        "sals": _episodes_in_view(gettext_lazy("SALs: MQLs accepted by sales"), accepted_episodes),
        "sqls": _episodes_in_view(gettext_lazy("SQLs: MQLs qualified to opportunities"), qualified_episodes),
    },
    "sla_compliance": {
        "closed": _episodes(gettext_lazy("MQLs whose SLA window has closed"), sla_closed_episodes),
        "within": _episodes(gettext_lazy("MQLs followed up within their window"), sla_met_episodes),
        "late": _episodes(gettext_lazy("MQLs followed up after their window closed"), sla_late_episodes),
        "never": _episodes(gettext_lazy("MQLs never followed up, window expired"), ignored_episodes),
        "missed": _episodes(gettext_lazy("MQLs that missed the SLA (late or never)"), sla_missed_episodes),
    },
    "speed_to_lead": {
        "responded": _episodes(gettext_lazy("MQLs followed up"), responded_episodes),
        "within_hour": _episodes(gettext_lazy("MQLs followed up within an hour"), responded_episodes, within_hour=True),
        "within_sla": _episodes(
            gettext_lazy("MQLs followed up within their SLA window"), responded_episodes, within_sla=True
        ),
        **{
            f"band_{index}": _episodes(
                format_lazy(gettext_lazy("MQLs answered in {band}"), band=label), responded_episodes, band=index
            )
            for index, (label, _low, _high) in enumerate(SPEED_BANDS)
        },
    },
    "rejection_reasons": {
        "rejected": (
            gettext_lazy("Rejected and disqualified MQLs"),
            EPISODE_ROWS,
            lambda p, f, **kw: rejected_episodes(p, f, reason=kw["reason"], as_of=kw["as_of"]),
        ),
        "with_notes": (
            gettext_lazy("Rejected and disqualified MQLs with a note"),
            EPISODE_ROWS,
            lambda p, f, **kw: rejected_episodes(p, f, reason=kw["reason"], as_of=kw["as_of"], with_notes=True),
        ),
    },
    "conversation_rate": {
        "mql_contacted": _contacted(gettext_lazy("MQLs contacted"), warmth="mql"),
        "mql_conversations": _contacted(
            gettext_lazy("MQLs with a logged conversation"), warmth="mql", conversations_only=True
        ),
        "colder_contacted": _contacted(gettext_lazy("Colder leads contacted"), warmth="colder"),
        "colder_conversations": _contacted(
            gettext_lazy("Colder leads with a logged conversation"), warmth="colder", conversations_only=True
        ),
    },
    "mql_target": {
        "mqls": _episodes(gettext_lazy("MQLs produced"), mql_episodes),
    },
    "response_effect": {
        "fast": _episodes(gettext_lazy("MQLs answered within an hour"), answered_episodes, within_hour=True),
        "fast_sqls": _episodes(
            gettext_lazy("MQLs answered within an hour that became SQLs"),
            answered_episodes,
            within_hour=True,
            qualified=True,
        ),
        "slow": _episodes(gettext_lazy("MQLs answered after more than an hour"), answered_episodes, within_hour=False),
        "slow_sqls": _episodes(
            gettext_lazy("MQLs answered after more than an hour that became SQLs"),
            answered_episodes,
            within_hour=False,
            qualified=True,
        ),
    },
    "waterfall": {
        "mqls": _MQLS,
        "sals": (
            gettext_lazy("SALs: MQLs accepted in the period"),
            EPISODE_ROWS,
            lambda p, f, **kw: accepted_episodes(p, f, view=PERIOD_VIEW, as_of=kw["as_of"]),
        ),
        "sqls": (
            gettext_lazy("SQLs: MQLs qualified in the period"),
            EPISODE_ROWS,
            lambda p, f, **kw: qualified_episodes(p, f, view=PERIOD_VIEW, as_of=kw["as_of"]),
        ),
    },
}


def drill_down(metric, bucket, period, filters, *, view=PERIOD_VIEW, as_of=None, reason=""):
    """Return (title, row kind, queryset) of the leads behind one number, episodes with their ``outcome``; raises ReportInputError for an unknown metric, bucket or view."""
    _check_view(view)
    if metric not in DRILL_DOWNS:
        choices = ", ".join(sorted(DRILL_DOWNS))
        raise ReportInputError(
            gettext("Unknown metric %(metric)s; choose one of %(choices)s.")
            % {"metric": repr(metric), "choices": choices},
            field="metric",
        )
    buckets = DRILL_DOWNS[metric]
    if bucket not in buckets:
        choices = ", ".join(buckets)
        raise ReportInputError(
            gettext("Unknown number %(bucket)s for %(metric)s; choose one of %(choices)s.")
            % {"bucket": repr(bucket), "metric": metric, "choices": choices},
            field="bucket",
        )
    title, rows, find = buckets[bucket]
    as_of = _as_of(as_of)
    found = find(period, filters, view=view, as_of=as_of, reason=reason)
    return title, rows, with_outcomes(found, as_of=as_of) if rows == EPISODE_ROWS else found
