"""What a rule gives a lead: the matching of demographic and behaviour rules, caps, and a lead's shares.

Pure functions over rules, leads and activities (anything with the fields they
read); nothing here writes.
"""

from ..models import FREE_MAIL_DOMAINS, ScoringConfig, ScoringRule


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


def demographic_match(rule, lead):
    """Return whether a demographic ``rule`` matches ``lead``'s fields; raises nothing."""
    value = _lead_value(lead, rule.field)
    op = rule.operator
    if op == ScoringRule.Operator.FREE_MAIL:
        domain = _lead_value(lead, ScoringRule.Field.EMAIL_DOMAIN)
        return domain in FREE_MAIL_DOMAINS
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
    if op == ScoringRule.Operator.EQUALS:
        return text == wanted
    if op == ScoringRule.Operator.ONE_OF:
        return text in {item.strip().lower() for item in rule.value.split(",") if item.strip()}
    return False


def behaviour_match(rule, activity):
    """Return whether a behaviour ``rule`` counts ``activity``; raises nothing."""
    if activity.kind != rule.activity_kind:
        return False
    if rule.url_contains:
        return rule.url_contains.lower() in (activity.url or "").lower()
    return True


def rule_points(rule, matches):
    """Return what ``rule`` gives for ``matches`` matches, clamped to its cap; raises nothing."""
    total = rule.points * matches
    if rule.cap is not None:
        total = max(-rule.cap, min(rule.cap, total))
    return total


def contributions(lead, activities, rules):
    """Return ``{rule_id: (matches, points)}`` for ``lead`` with ``activities`` under ``rules``; raises nothing."""
    result = {}
    for rule in rules:
        if rule.category == ScoringRule.Category.DEMOGRAPHIC:
            matches = 1 if demographic_match(rule, lead) else 0
        else:
            matches = sum(1 for activity in activities if behaviour_match(rule, activity))
        if matches:
            result[rule.pk] = (matches, rule_points(rule, matches))
    return result


def score_of(shares):
    """Return the score that ``shares`` (``{rule_id: (matches, points)}``) add up to; raises nothing."""
    return sum(points for _matches, points in shares.values())
