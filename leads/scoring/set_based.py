"""A batch of leads' rule shares computed by PostgreSQL: one statement for the demographic rules, one for the behaviour ones.

The same arithmetic as ``rules.contributions``, moved to where the rows are, so a
rescore reads no activity into Python. The text rules compare what
``rules.demographic_match`` compares (trimmed, lower-cased field text; the
e-mail domain after the last "@"). A decaying rule's sum comes back as the
float PostgreSQL added up in the order the Python path adds (newest activity
first), with the same IEEE arithmetic, capped and rounded with the float
operations of ``rules.whole_points``: both paths give the same whole points.
``shares_query`` hands the query to ``store.write_scores``, which compares it
with what is stored and writes the difference in one statement, so a rescore
batch reads no share into Python either; ``stale_shares`` returns the leads
that differ, for checks.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection

from ..models import FREE_MAIL_DOMAINS, ScoringRule
from .rules import rule_points

Operator = ScoringRule.Operator
Field = ScoringRule.Field

# Python's str.strip() default set, for the ASCII characters lead fields hold.
_WHITESPACE = " \t\n\r\x0b\x0c"


def _field_text(field):
    if field == Field.EMAIL_DOMAIN:
        return "lower(btrim(regexp_replace(coalesce(l.email, ''), '^.*@', ''), %(ws)s))"
    return f"lower(btrim(coalesce(l.{field}, ''), %(ws)s))"


def _items(value):
    return [item.strip().lower() for item in value.split(",") if item.strip()]


def _condition(rule, n):
    """Return (SQL condition on lead ``l``, its parameters) for a demographic rule, or None if it never matches."""
    text, op, wanted = _field_text(rule.field), rule.operator, rule.value.strip().lower()
    key = f"r{n}"
    if op == Operator.FREE_MAIL:
        return f"{_field_text(Field.EMAIL_DOMAIN)} = ANY(%(free_mail)s)", {}
    if op == Operator.BETWEEN:
        low, high = rule.min_value, rule.max_value
        # The whole range within the rule's bounds (leads.company_sizes.range_within); a NULL
        # high end is open and never at or below a maximum.
        parts = ["l.company_size_low IS NOT NULL"]
        params = {}
        if low is not None:
            parts.append(f"l.company_size_low >= %({key}_low)s")
            params[f"{key}_low"] = low
        if high is not None:
            parts.append(f"l.company_size_high <= %({key}_high)s")
            params[f"{key}_high"] = high
        return " AND ".join(parts), params
    if op == Operator.CONTAINS:
        return (f"strpos({text}, %({key})s) > 0", {key: wanted}) if wanted else None
    if op == Operator.CONTAINS_ANY:
        items = _items(rule.value)
        return (f"EXISTS (SELECT 1 FROM unnest(%({key})s::text[]) w WHERE strpos({text}, w) > 0)", {key: items})
    if op == Operator.EQUALS:
        return f"{text} = %({key})s", {key: wanted}
    if op == Operator.ONE_OF:
        return f"{text} = ANY(%({key})s::text[])", {key: _items(rule.value)}
    return None


def supports(rules):
    """Return whether every rule of ``rules`` can be matched in SQL (between compares company sizes only); raises nothing."""
    return all(
        rule.category == ScoringRule.Category.BEHAVIOUR
        or rule.operator != Operator.BETWEEN
        or rule.field == Field.COMPANY_SIZE
        for rule in rules
    )


def _demographic_selects(rules, params):
    selects = []
    for n, rule in enumerate(rules):
        condition = _condition(rule, n)
        if condition is None:
            continue
        sql, extra = condition
        points = int(rule_points(rule, 1))
        selects.append(
            f"SELECT l.id AS lead_id, {int(rule.pk)}::bigint AS rule_id, 1::bigint AS matches, {points}::bigint AS points"
            f" FROM leads_lead l WHERE l.id = ANY(%(ids)s) AND {sql}"
        )
        params.update(extra)
    return selects


# Each behaviour rule's count and, for a decaying rule, its decayed sum added newest first (the
# order of the Python path), capped, then rounded halves away from zero with the float operations
# of ``rules.whole_points``: sign(d) * floor(abs(d) + 0.5). greatest/least skip a NULL cap.
_BEHAVIOUR_SELECT = """
SELECT lead_id, rule_id, matches,
       CASE WHEN half_life IS NULL THEN greatest(-cap, least(cap, points * matches))
            ELSE (sign(capped) * floor(abs(capped) + 0.5))::bigint END AS points
  FROM (
    SELECT lead_id, rule_id, matches, points, cap, half_life,
           greatest(-cap::float8, least(cap::float8, decayed)) AS capped
      FROM (
        SELECT a.lead_id, r.id AS rule_id, count(*) AS matches, r.points, r.cap, r.half_life,
               sum(r.points::float8 * power(0.5::float8,
                       (greatest(0, extract(epoch FROM (%(now)s - a.occurred_at)))::float8 / 86400::float8)
                       / r.half_life) ORDER BY a.occurred_at DESC, a.id DESC) FILTER (WHERE r.half_life IS NOT NULL)
                   AS decayed
          FROM leads_activity a
          JOIN unnest(%(rule_ids)s::bigint[], %(kinds)s::text[], %(urls)s::text[], %(points)s::bigint[],
                      %(caps)s::bigint[], %(half_lives)s::float8[]) AS r(id, kind, url, points, cap, half_life)
            ON a.kind = r.kind AND (r.url = '' OR strpos(lower(a.url), r.url) > 0)
         WHERE a.lead_id = ANY(%(ids)s)
         GROUP BY a.lead_id, r.id, r.points, r.cap, r.half_life
      ) summed
  ) shares
"""


def _new_shares(lead_ids, rules, now):
    """Return (SQL of a query of ``lead_id, rule_id, matches, points`` for ``lead_ids``, its parameters)."""
    params = {"ids": list(lead_ids), "ws": _WHITESPACE, "free_mail": sorted(FREE_MAIL_DOMAINS), "now": now}
    demographic = [rule for rule in rules if rule.category == ScoringRule.Category.DEMOGRAPHIC]
    behaviour = [rule for rule in rules if rule.category == ScoringRule.Category.BEHAVIOUR]
    selects = _demographic_selects(demographic, params)
    if behaviour:
        selects.append(_BEHAVIOUR_SELECT)
        params.update(
            rule_ids=[rule.pk for rule in behaviour],
            kinds=[rule.activity_kind for rule in behaviour],
            urls=[rule.url_contains.lower() for rule in behaviour],
            points=[rule.points for rule in behaviour],
            caps=[rule.cap for rule in behaviour],
            half_lives=[float(rule.half_life_days) if rule.half_life_days else None for rule in behaviour],
        )
    if not selects:
        selects.append(
            "SELECT NULL::bigint AS lead_id, NULL::bigint AS rule_id, NULL::bigint AS matches,"
            " NULL::bigint AS points WHERE FALSE"
        )
    return " UNION ALL ".join(f"({select})" for select in selects), params


@dataclass(frozen=True)
class SharesQuery:
    """The new shares of ``lead_ids`` as a query (``lead_id, rule_id, matches, points``) for a writer to use in its statement."""

    lead_ids: list
    sql: str
    params: dict


def shares_query(lead_ids, rules, *, now):
    """Return the SharesQuery of ``lead_ids`` under ``rules`` at ``now`` (its ids as ``%(ids)s``); raises nothing (check ``supports(rules)`` first)."""
    sql, params = _new_shares(lead_ids, rules, now)
    return SharesQuery(lead_ids=list(lead_ids), sql=sql, params=params)


def shares_in_sql(lead_ids, rules, *, now):
    """Return ``{lead_id: {rule_id: (matches, points)}}`` for ``lead_ids`` under ``rules`` at ``now``, computed in the database; raises nothing (check ``supports(rules)`` first)."""
    shares = defaultdict(dict)
    if not lead_ids:
        return shares
    query, params = _new_shares(lead_ids, rules, now)
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        for lead_id, rule_id, matches, points in cursor.fetchall():
            shares[lead_id][rule_id] = (matches, points)
    return shares


# The leads whose stored shares or score differ from the new shares, each with its new shares
# (a row of NULLs for a lead left with none): one statement, the shares computed once.
_STALE_SQL = """
WITH new AS MATERIALIZED ({new}),
     old AS (SELECT lead_id, rule_id, matches, points FROM leads_leadrulescore WHERE lead_id = ANY(%(ids)s)),
     stale AS (
        SELECT coalesce(new.lead_id, old.lead_id) AS lead_id
          FROM new FULL JOIN old ON old.lead_id = new.lead_id AND old.rule_id = new.rule_id
         WHERE new.lead_id IS NULL OR old.lead_id IS NULL OR new.matches <> old.matches OR new.points <> old.points
        UNION
        SELECT l.id
          FROM leads_lead l LEFT JOIN (SELECT lead_id, sum(points) AS total FROM new GROUP BY lead_id) t
               ON t.lead_id = l.id
         WHERE l.id = ANY(%(ids)s) AND l.score <> coalesce(t.total, 0)
     )
SELECT stale.lead_id, new.rule_id, new.matches, new.points
  FROM stale LEFT JOIN new ON new.lead_id = stale.lead_id
"""


def stale_shares(lead_ids, rules, *, now):
    """Return ``{lead_id: {rule_id: (matches, points)}}`` at ``now`` for the leads among ``lead_ids`` whose stored shares or score differ from what ``rules`` give; raises nothing."""
    shares = {}
    if not lead_ids:
        return shares
    query, params = _new_shares(lead_ids, rules, now)
    with connection.cursor() as cursor:
        cursor.execute(_STALE_SQL.format(new=query), params)
        for lead_id, rule_id, matches, points in cursor.fetchall():
            lead_shares = shares.setdefault(lead_id, {})
            if rule_id is not None:
                lead_shares[rule_id] = (matches, points)
    return shares


def changed_leads(lead_ids, rules, *, now):
    """Return the ids among ``lead_ids`` whose stored shares or score differ from what ``rules`` give at ``now``, in id order; raises nothing."""
    return sorted(stale_shares(lead_ids, rules, now=now))
