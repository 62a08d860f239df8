"""Possible duplicates at intake: the same person arriving twice, by e-mail, phone or name.

A new (or edited) lead is marked with the earlier leads it may duplicate:

- the same e-mail once normalised: case, a ``+tag`` and, for Gmail, dots do not
  count ("Jane.Doe+news@gmail.com" is "janedoe@gmail.com"); a plus-addressed
  variant is another address, so it is accepted and marked, never refused;
- the same phone number in E.164 (read with the lead's country as the region);
- a close name (pg_trgm similarity) at the same account.

Each rule is answered from an index (migration 0080), for many leads at once.
"""

import phonenumbers
from django.db import connection

from .accounts import email_domain

# Gmail ignores dots in the local part and serves both names.
_GMAIL = frozenset({"gmail.com", "googlemail.com"})
# How close two names at one account must be: "Jon Smith" and "John Smith" are (0.62),
# "John Smith" and "John Doe" are not (0.33).
NAME_SIMILARITY = 0.5


def email_key(email):
    """Return ``email`` normalised for matching (lower case, no +tag, no dots at Gmail), or "" without one; raises nothing."""
    local, at, _host = (email or "").strip().lower().rpartition("@")
    if not at or not local:
        return ""
    host = email_domain(email)
    local = local.split("+", 1)[0]
    if host in _GMAIL:
        local, host = local.replace(".", ""), "gmail.com"
    return f"{local}@{host}" if local else ""


def phone_e164(phone, country=""):
    """Return ``phone`` in E.164 ("+442079460000"), reading a national number in ``country``, or "" if it is not a possible number; raises nothing."""
    if not phone or not phone.strip():
        return ""
    try:
        number = phonenumbers.parse(phone, (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# At most this many earlier leads per rule are marked: enough to point at the person's other
# leads, and a bound on what one candidate may cost.
MAX_MARKS_PER_RULE = 50

# One statement for a batch: each candidate row looks up earlier leads by each key's index, one
# index probe per candidate. The LATERAL subqueries with LIMIT are not flattened into joins: as
# plain joins the planner hashed the whole partial index for a batch of 2,000 (every lead with an
# e-mail address, 0.5 s per batch at 150,000 leads, growing with the table). The
# "lead.<key> <> ''" conditions repeat the partial indexes' predicates so the planner may use
# them. The name rule reads the account's leads (lead_account_stage_idx) and compares names
# there: an account holds few leads, while a common name is at thousands of accounts.
_FIND = """
WITH v AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(emails)s::text[], %(phones)s::text[], %(accounts)s::bigint[],
                         %(names)s::text[])
        AS v(id, email_normalised, phone_e164, account_id, name)
)
SELECT v.id, m.id FROM v CROSS JOIN LATERAL (
    SELECT lead.id FROM leads_lead lead
     WHERE lead.email_normalised = v.email_normalised AND lead.email_normalised <> '' AND lead.id < v.id
     ORDER BY lead.id LIMIT %(limit)s
) m
 WHERE v.email_normalised <> ''
UNION
SELECT v.id, m.id FROM v CROSS JOIN LATERAL (
    SELECT lead.id FROM leads_lead lead
     WHERE lead.phone_e164 = v.phone_e164 AND lead.phone_e164 <> '' AND lead.id < v.id
     ORDER BY lead.id LIMIT %(limit)s
) m
 WHERE v.phone_e164 <> ''
UNION
SELECT v.id, m.id FROM v CROSS JOIN LATERAL (
    SELECT lead.id FROM leads_lead lead
     WHERE lead.account_id = v.account_id AND lead.id < v.id AND similarity(lead.name, v.name) >= %(similarity)s
     ORDER BY lead.id LIMIT %(limit)s
) m
 WHERE v.account_id IS NOT NULL AND v.name <> ''
"""


def find(leads):
    """Return ``{lead id: sorted ids of earlier leads it may duplicate}`` for ``leads`` (objects with pk, email_normalised, phone_e164, account_id, name), only those with any; raises nothing."""
    leads = [lead for lead in leads if lead.pk is not None]
    if not leads:
        return {}
    params = {
        "ids": [lead.pk for lead in leads],
        "emails": [lead.email_normalised or "" for lead in leads],
        "phones": [lead.phone_e164 or "" for lead in leads],
        "accounts": [lead.account_id for lead in leads],
        "names": [lead.name or "" for lead in leads],
        "similarity": NAME_SIMILARITY,
        "limit": MAX_MARKS_PER_RULE,
    }
    found = {}
    with connection.cursor() as cursor:
        cursor.execute(_FIND, params)
        for lead_id, other_id in cursor.fetchall():
            found.setdefault(lead_id, set()).add(other_id)
    return {lead_id: sorted(others) for lead_id, others in found.items()}
