"""Conversation rate: how many contacted leads turned into a real conversation, MQLs versus colder leads.

The counts start from the period's sales activities, grouped per lead (its
first contact in the period and whether one was a conversation), then ask once
per lead whether an MQL episode had started by that first contact. That is one
hand-written statement: through the ORM the episode probe would end up in the
``GROUP BY`` and run once per activity instead of once per lead. It counts the
leads ``contacted_leads`` lists.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy

from leads.models import SALES_ACTIVITY_KINDS, ActivityKind, Lead, Team

from .period import Filters, Ratio, slicing


@dataclass(frozen=True)
class ConversationRate:
    formula = gettext_lazy("leads with a logged conversation ÷ leads contacted × 100 (MQLs vs colder leads)")
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


_KINDS = ", ".join(["%s"] * len(SALES_ACTIVITY_KINDS))
_IN_PERIOD = f"a.kind IN ({_KINDS}) AND a.occurred_at >= %s AND a.occurred_at < %s"
# Every lead contacted in the period, from the period's sales activities; {join}, when
# there are filters, joins the ORM's query for the leads they allow.
_CONTACTS_FROM_ACTIVITIES = f"""
    SELECT a.lead_id, min(a.occurred_at) AS first_contact, bool_or(a.kind = %s) AS talked
      FROM leads_activity a{{join}}
     WHERE {_IN_PERIOD}
     GROUP BY a.lead_id"""
# One rep's leads (about 29,000 of 1,000,000 in the benchmark) are few next to the period's
# activities: look up each one's activities by index instead of grouping them all.
_CONTACTS_BY_LEAD = f"""
    SELECT l.id AS lead_id, x.first_contact, x.talked
      FROM ({{leads}}) AS l
     CROSS JOIN LATERAL (
           SELECT min(a.occurred_at) AS first_contact, bool_or(a.kind = %s) AS talked
             FROM leads_activity a
            WHERE a.lead_id = l.id AND {_IN_PERIOD}) AS x
     WHERE x.first_contact IS NOT NULL"""
# OFFSET 0 keeps the EXISTS one probe per lead: inlined, it would run again in every count.
_COUNTS_SQL = """
SELECT count(*) FILTER (WHERE was_mql), count(*) FILTER (WHERE was_mql AND talked),
       count(*) FILTER (WHERE NOT was_mql), count(*) FILTER (WHERE NOT was_mql AND talked)
  FROM (SELECT c.talked,
               EXISTS (SELECT 1 FROM leads_mqlepisode e
                        WHERE e.lead_id = c.lead_id AND e.mql_at <= c.first_contact) AS was_mql
          FROM ({contacts}) AS c
        OFFSET 0) AS w
"""


def _contacts(filters, select_params, start, end, *, from_activities, by_lead):
    """The contacts subquery for ``filters`` and its parameters: ``from_activities`` (the period's activities, joined to the leads the filters allow, if any) or, for one rep's few leads, ``by_lead``; ``select_params`` are those of the template's SELECT list."""
    activity_params = [*SALES_ACTIVITY_KINDS, start, end]
    if filters == Filters():
        return from_activities.format(join=""), [*select_params, *activity_params]
    leads_sql, leads_params = filters.apply(Lead.objects.order_by()).values("id").query.sql_with_params()
    if filters.rep is not None:
        return by_lead.format(leads=leads_sql), [*leads_params, *select_params, *activity_params]
    join = f"\n      JOIN ({leads_sql}) AS l ON l.id = a.lead_id"
    return from_activities.format(join=join), [*select_params, *leads_params, *activity_params]


def _period_contacts(period, filters):
    """The contacts subquery of one period (a lead per row: first contact, talked) and its parameters."""
    return _contacts(
        filters,
        [ActivityKind.CONVERSATION],
        period.start_at,
        period.end_at,
        from_activities=_CONTACTS_FROM_ACTIVITIES,
        by_lead=_CONTACTS_BY_LEAD,
    )


def _counts_in_one_statement(period, filters):
    """The four counts from one statement."""
    contacts, params = _period_contacts(period, filters)
    with connection.cursor() as cursor:
        cursor.execute(_COUNTS_SQL.format(contacts=contacts), params)
        return cursor.fetchone()


def conversation_rate(period, filters):
    """Return the conversation rate of contacted leads, MQLs vs colder leads; raises nothing."""
    return ConversationRate(*_counts_in_one_statement(period, filters))


# Several periods in one statement (the previous period and the trend's buckets). Their
# boundaries cut time into slices (as metrics.compare's series does); the span's sales
# activities are grouped once per lead and slice, each (lead, slice) asked once whether an MQL
# episode had started by its first contact, and kept (MATERIALIZED). A period of one slice (a
# trend bucket, the previous period) counts its rows as they are (part 0, grouped by slice); a
# period of several (the period itself) groups its slices' rows per lead once more, the lead's
# first slice deciding whether it was an MQL at its first contact in the period (part 1).
_COUNTS = """count(*) FILTER (WHERE c.was_mql), count(*) FILTER (WHERE c.was_mql AND c.talked),
       count(*) FILTER (WHERE NOT c.was_mql), count(*) FILTER (WHERE NOT c.was_mql AND c.talked)"""
_SLICE_CONTACTS = f"""
    SELECT a.lead_id, width_bucket(a.occurred_at, %s::timestamptz[]) AS slice,
           min(a.occurred_at) AS first_contact, bool_or(a.kind = %s) AS talked
      FROM leads_activity a{{join}}
     WHERE {_IN_PERIOD}
     GROUP BY 1, 2"""
_SLICE_CONTACTS_BY_LEAD = f"""
    SELECT l.id AS lead_id, x.slice, x.first_contact, x.talked
      FROM ({{leads}}) AS l
     CROSS JOIN LATERAL (
           SELECT width_bucket(a.occurred_at, %s::timestamptz[]) AS slice,
                  min(a.occurred_at) AS first_contact, bool_or(a.kind = %s) AS talked
             FROM leads_activity a
            WHERE a.lead_id = l.id AND {_IN_PERIOD}
            GROUP BY 1) AS x"""
_SERIES_SQL = f"""
WITH c AS MATERIALIZED (
    SELECT c.lead_id, c.slice, c.first_contact, c.talked,
           EXISTS (SELECT 1 FROM leads_mqlepisode e
                    WHERE e.lead_id = c.lead_id AND e.mql_at <= c.first_contact) AS was_mql
      FROM ({{contacts}}) AS c)
SELECT 0 AS part, c.slice, {_COUNTS} FROM c GROUP BY c.slice
 UNION ALL
SELECT p.i, NULL, x.* FROM unnest(%s::int[], %s::int[]) WITH ORDINALITY AS p(first, last, i)
 CROSS JOIN LATERAL (
       SELECT {_COUNTS}
         FROM (SELECT (array_agg(c.was_mql ORDER BY c.first_contact))[1] AS was_mql, bool_or(c.talked) AS talked
                 FROM c WHERE c.slice BETWEEN p.first AND p.last
                GROUP BY c.lead_id) AS c) AS x
"""


def conversation_rates(periods, filters):
    """Return the ``ConversationRate`` of each of ``periods``, in one statement; raises nothing."""
    if not periods:
        return []
    bounds, slices = slicing(periods)
    contacts, params = _contacts(
        filters,
        [bounds, ActivityKind.CONVERSATION],
        bounds[0],
        bounds[-1],
        from_activities=_SLICE_CONTACTS,
        by_lead=_SLICE_CONTACTS_BY_LEAD,
    )
    several = [(i, first, last) for i, (first, last) in enumerate(slices) if first != last]
    with connection.cursor() as cursor:
        cursor.execute(
            _SERIES_SQL.format(contacts=contacts),
            [*params, [first for _i, first, _l in several], [last for _i, _f, last in several]],
        )
        rows = cursor.fetchall()
    per_slice = {where: counts for part, where, *counts in rows if part == 0}
    per_period = {several[part - 1][0]: counts for part, _where, *counts in rows if part > 0}
    zero = (0, 0, 0, 0)
    return [
        ConversationRate(*per_period.get(index, zero))
        if first != last
        else ConversationRate(*per_slice.get(first, zero))
        for index, (first, last) in enumerate(slices)
    ]


# The same counts per current owner, team, source or campaign of the contacted leads (the
# breakdown): one statement, the groups' names joined in.
_GROUPS = {
    "rep": (
        ("owner_id", "l.owner_id"),
        ("owner__username", "u.username"),
        ("owner__first_name", "u.first_name"),
        ("owner__last_name", "u.last_name"),
    ),
    "team": (("team_id", "l.team_id"), ("team__name", "t.name")),
    "source": (("source", "l.source"),),
    "campaign": (("campaign", "l.campaign"),),
}
_GROUPED_SQL = """
SELECT {columns}, count(*) FILTER (WHERE w.was_mql), count(*) FILTER (WHERE w.was_mql AND w.talked),
       count(*) FILTER (WHERE NOT w.was_mql), count(*) FILTER (WHERE NOT w.was_mql AND w.talked)
  FROM (SELECT c.lead_id, c.talked,
               EXISTS (SELECT 1 FROM leads_mqlepisode e
                        WHERE e.lead_id = c.lead_id AND e.mql_at <= c.first_contact) AS was_mql
          FROM ({contacts}) AS c
        OFFSET 0) AS w
  JOIN {leads} l ON l.id = w.lead_id
  LEFT JOIN {users} u ON u.id = l.owner_id
  LEFT JOIN {teams} t ON t.id = l.team_id
 GROUP BY {grouped}
"""
COUNT_NAMES = ("mql_contacted", "mql_conversations", "colder_contacted", "colder_conversations")


def conversation_counts_by(by, period, filters):
    """Return the conversation rate's four counts per current owner, team, source or campaign of the leads contacted in ``period``, as dicts with the group's fields (``owner_id``, ``owner__username``..., ``team_id``, ``team__name``, ``source`` or ``campaign``) and ``COUNT_NAMES``; one statement; raises KeyError for another grouping."""
    names, expressions = zip(*_GROUPS[by], strict=True)
    contacts, params = _period_contacts(period, filters)
    sql = _GROUPED_SQL.format(
        columns=", ".join(expressions),
        contacts=contacts,
        leads=Lead._meta.db_table,
        users=get_user_model()._meta.db_table,
        teams=Team._meta.db_table,
        grouped=", ".join(expressions),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [dict(zip((*names, *COUNT_NAMES), row, strict=True)) for row in cursor.fetchall()]
