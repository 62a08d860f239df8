"""What a rule gives a lead: the matching of demographic and behaviour rules, caps, and a lead's shares.

Pure functions over rules, leads and activities (anything with the fields they
read); nothing here writes.
"""

import math
from datetime import UTC

from ..company_sizes import range_within
from ..models import FREE_MAIL_DOMAINS, ScoringConfig, ScoringRule

SECONDS_PER_DAY = 86_400


class ScoringError(Exception):
    """A scoring request that cannot be answered; the message says why."""


def active_rules():
    """Return the active rules, demographic first; raises nothing."""
    return list(ScoringRule.objects.filter(is_active=True).order_by("category", "position", "id"))


def behaviour_rules(rules):
    """Return the behaviour rules among ``rules``; raises nothing."""
    return [rule for rule in rules if rule.category == ScoringRule.Category.BEHAVIOUR]


def behaviour_kinds(rules):
    """Return the activity kinds some behaviour rule among ``rules`` counts; raises nothing."""
    return {rule.activity_kind for rule in behaviour_rules(rules)}


def threshold():
    """Return the current MQL threshold; raises nothing."""
    return ScoringConfig.current().mql_threshold


def _lead_value(lead, field):
    if field == ScoringRule.Field.EMAIL_DOMAIN:
        return (lead.email or "").rsplit("@", 1)[-1].strip().lower()
    return getattr(lead, field)


def _items(value):
    return [item.strip() for item in value.split(",") if item.strip()]


def demographic_match(rule, lead):
    """Return whether a demographic ``rule`` matches ``lead``'s fields; raises nothing."""
    value = _lead_value(lead, rule.field)
    op = rule.operator
    if op == ScoringRule.Operator.FREE_MAIL:
        domain = _lead_value(lead, ScoringRule.Field.EMAIL_DOMAIN)
        return domain in FREE_MAIL_DOMAINS
    if op == ScoringRule.Operator.BETWEEN and rule.field == ScoringRule.Field.COMPANY_SIZE:
        # The whole range within the rule's bounds: see leads.company_sizes.
        return range_within(lead.company_size_low, lead.company_size_high, rule.min_value, rule.max_value)
    if op == ScoringRule.Operator.BETWEEN:
        if value is None or value == "":
            return False
        try:
            number = int(value)
        except (TypeError, ValueError):
            return False
        low = rule.min_value if rule.min_value is not None else number
        high = rule.max_value if rule.max_value is not None else number
        return low <= number <= high
    text = str(value or "").strip().lower()
    wanted = rule.value.strip().lower()
    if op == ScoringRule.Operator.CONTAINS:
        return bool(wanted) and wanted in text
    if op == ScoringRule.Operator.CONTAINS_ANY:
        return any(item in text for item in _items(wanted))
    if op == ScoringRule.Operator.EQUALS:
        return text == wanted
    if op == ScoringRule.Operator.ONE_OF:
        return text in set(_items(wanted))
    return False


def behaviour_match(rule, activity):
    """Return whether a behaviour ``rule`` counts ``activity``; raises nothing."""
    if activity.kind != rule.activity_kind:
        return False
    if rule.url_contains:
        return rule.url_contains.lower() in (activity.url or "").lower()
    return True


def rule_points(rule, matches):
    """Return what an undecayed ``rule`` gives for ``matches`` matches, clamped to its cap; raises nothing."""
    total = rule.points * matches
    if rule.cap is not None:
        total = max(-rule.cap, min(rule.cap, total))
    return total


def decay_factor(occurred_at, *, now, half_life_days):
    """Return the share of its points an activity at ``occurred_at`` still gives at ``now``; raises nothing.

    Ages are absolute time: both moments go to UTC first, because Python
    subtracts two datetimes of the same time zone by their wall clocks, and a
    DST change in between would shift the age by an hour. An activity dated
    after ``now`` counts in full.
    """
    elapsed = now.astimezone(UTC) - occurred_at.astimezone(UTC)
    age_days = max(0.0, elapsed.total_seconds()) / SECONDS_PER_DAY
    return 0.5 ** (age_days / half_life_days)


def whole_points(value):
    """Return ``value`` rounded to whole points, halves away from zero (so +2.5 -> +3 and -2.5 -> -3); raises nothing.

    Stored shares and scores are whole points: each share's exact decayed (and
    capped) sum is rounded once, and the score is the sum of the rounded shares,
    so a lead's breakdown always adds up to its score.
    """
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def behaviour_share(rule, activities, *, now=None):
    """Return ``(matches, points)`` a behaviour ``rule`` gives for ``activities``, decayed to ``now`` if the rule has a half-life, capped and rounded; raises nothing.

    ``activities`` need ``kind`` and ``url``, and ``occurred_at`` when the rule decays.
    """
    matched = [activity for activity in activities if behaviour_match(rule, activity)]
    if not matched or rule.half_life_days is None:
        return len(matched), rule_points(rule, len(matched))
    total = sum(
        rule.points * decay_factor(activity.occurred_at, now=now, half_life_days=rule.half_life_days)
        for activity in matched
    )
    if rule.cap is not None:
        total = max(-rule.cap, min(rule.cap, total))
    return len(matched), whole_points(total)


def decaying(rules):
    """Return the active behaviour rules among ``rules`` that have a half-life; raises nothing."""
    return [rule for rule in behaviour_rules(rules) if rule.half_life_days is not None]


def contributions(lead, activities, rules, *, now=None):
    """Return ``{rule_id: (matches, points)}`` for ``lead`` with ``activities`` under ``rules`` at ``now`` (needed when a rule decays); raises nothing."""
    result = {}
    for rule in rules:
        if rule.category == ScoringRule.Category.DEMOGRAPHIC:
            matches = 1 if demographic_match(rule, lead) else 0
            points = rule_points(rule, matches)
        else:
            matches, points = behaviour_share(rule, activities, now=now)
        if matches:
            result[rule.pk] = (matches, points)
    return result


def score_of(shares):
    """Return the score that ``shares`` (``{rule_id: (matches, points)}``) add up to; raises nothing."""
    return sum(points for _matches, points in shares.values())
