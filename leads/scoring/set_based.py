"""A batch of leads' rule shares computed by PostgreSQL: one statement for the demographic rules, one for the behaviour ones.

The same arithmetic as ``rules.contributions``, moved to where the rows are, so a
rescore reads no activity into Python. The text rules compare what
``rules.demographic_match`` compares (trimmed, lower-cased field text; the
e-mail domain after the last "@"). A decaying rule's sum comes back as the
float PostgreSQL added up in the order the Python path adds (newest activity
first), with the same IEEE arithmetic, and is capped and rounded by
``rules.whole_points`` here: both paths give the same whole points.
"""

from collections import defaultdict

from django.db import connection

from ..models import FREE_MAIL_DOMAINS, ScoringRule
from .rules import rule_points, whole_points

Operator = ScoringRule.Operator
Field = ScoringRule.Field

# Python's str.strip() default set, for the ASCII characters lead fields hold.
_WHITESPACE = " \t\n\r\x0b\x0c"


def _field_text(field):
    if field == Field.EMAIL_DOMAIN:
        return "lower(btrim(regexp_replace(coalesce(l.email, ''), '^.*@', ''), %(ws)s))"
    if field == Field.COMPANY_SIZE:
        # str(value or ""): no size and a size of 0 are both empty text.
        return "coalesce(nullif(l.company_size, 0)::text, '')"
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
        parts = ["l.company_size IS NOT NULL"]
        params = {}
        if low is not None:
            parts.append(f"l.company_size >= %({key}_low)s")
            params[f"{key}_low"] = low
        if high is not None:
            parts.append(f"l.company_size <= %({key}_high)s")
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


def _demographic(lead_ids, rules, shares, cursor):
    selects, params = [], {"ids": lead_ids, "ws": _WHITESPACE, "free_mail": sorted(FREE_MAIL_DOMAINS)}
    for n, rule in enumerate(rules):
        condition = _condition(rule, n)
        if condition is None:
            continue
        sql, extra = condition
        selects.append(f"SELECT l.id, {int(rule.pk)} FROM leads_lead l WHERE l.id = ANY(%(ids)s) AND {sql}")
        params.update(extra)
    if not selects:
        return
    cursor.execute(" UNION ALL ".join(selects), params)
    by_id = {rule.pk: rule for rule in rules}
    for lead_id, rule_id in cursor.fetchall():
        shares[lead_id][rule_id] = (1, rule_points(by_id[rule_id], 1))


_BEHAVIOUR_SQL = """
SELECT a.lead_id, r.id, count(*),
       sum(r.points * power(0.5::float8,
               (greatest(0, extract(epoch FROM (%(now)s - a.occurred_at)))::float8 / 86400::float8) / r.half_life)
           ORDER BY a.occurred_at DESC, a.id DESC) FILTER (WHERE r.half_life IS NOT NULL)
  FROM leads_activity a
  JOIN unnest(%(rule_ids)s::bigint[], %(kinds)s::text[], %(urls)s::text[], %(points)s::float8[],
              %(half_lives)s::float8[]) AS r(id, kind, url, points, half_life)
    ON a.kind = r.kind AND (r.url = '' OR strpos(lower(a.url), r.url) > 0)
 WHERE a.lead_id = ANY(%(ids)s)
 GROUP BY a.lead_id, r.id
"""


def _behaviour(lead_ids, rules, shares, cursor, now):
    if not rules:
        return
    cursor.execute(
        _BEHAVIOUR_SQL,
        {
            "ids": lead_ids,
            "now": now,
            "rule_ids": [rule.pk for rule in rules],
            "kinds": [rule.activity_kind for rule in rules],
            "urls": [rule.url_contains.lower() for rule in rules],
            "points": [float(rule.points) for rule in rules],
            "half_lives": [float(rule.half_life_days) if rule.half_life_days else None for rule in rules],
        },
    )
    by_id = {rule.pk: rule for rule in rules}
    for lead_id, rule_id, matches, decayed in cursor.fetchall():
        rule = by_id[rule_id]
        if rule.half_life_days is None:
            shares[lead_id][rule_id] = (matches, rule_points(rule, matches))
            continue
        if rule.cap is not None:
            decayed = max(-rule.cap, min(rule.cap, decayed))
        shares[lead_id][rule_id] = (matches, whole_points(decayed))


def shares_in_sql(lead_ids, rules, *, now):
    """Return ``{lead_id: {rule_id: (matches, points)}}`` for ``lead_ids`` under ``rules`` at ``now``, computed in the database; raises nothing (check ``supports(rules)`` first)."""
    shares = defaultdict(dict)
    demographic = [rule for rule in rules if rule.category == ScoringRule.Category.DEMOGRAPHIC]
    behaviour = [rule for rule in rules if rule.category == ScoringRule.Category.BEHAVIOUR]
    with connection.cursor() as cursor:
        _demographic(list(lead_ids), demographic, shares, cursor)
        _behaviour(list(lead_ids), behaviour, shares, cursor, now)
    return shares
