"""Which account a lead belongs to: the registrable domain of its e-mail, or its company's name.

The registrable domain comes from the public suffix list that tldextract ships
(``suffix_list_urls=()``: its bundled snapshot, never a download at run time),
so "sales.acme.co.uk" and "acme.co.uk" are one account and "co.uk" is none.
Addresses at a free-mail provider (``FreeMailDomain``, admins edit the list)
name no company: such a lead joins the account whose normalised name equals
its company's, or stays without one.
"""

import re
import unicodedata

import tldextract
from django.utils import timezone

from .models import Account, FreeMailDomain

# No fetching and no cache files: the snapshot inside the package is the list.
_extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

# Legal forms and filler words that do not tell two companies apart ("Acme Ltd" is "ACME").
_LEGAL_WORDS = frozenset(
    """
    inc incorporated llc llp lp ltd limited plc corp corporation co company gmbh mbh ag kg ohg ug se sa sas sarl
    srl spa bv nv oy ab as aps asa pty pte kk the
    """.split()
)


def email_domain(email):
    """Return the host part of ``email``, lower case, or "" if it has none; raises nothing."""
    _local, at, host = (email or "").strip().rpartition("@")
    return host.strip().rstrip(".").lower() if at else ""


def registrable_domain(host):
    """Return the registrable domain of ``host`` ("acme.co.uk" for "mail.acme.co.uk"), or "" if it has none; raises nothing.

    A host under no known public suffix (an intranet name, ".example") counts by its last two labels.
    """
    if not host:
        return ""
    parts = _extract(host)
    if parts.suffix:
        return f"{parts.domain}.{parts.suffix}" if parts.domain else ""
    labels = [label for label in host.split(".") if label]
    return ".".join(labels[-2:]) if len(labels) >= 2 else ""


def company_key(name):
    """Return ``name`` normalised for matching: no accents, case, punctuation or legal form ("ACME, Inc." is "acme"); raises nothing."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().lower()
    # "S.A." is "sa"; "&" reads as a word.
    text = text.replace(".", "").replace("&", " and ")
    words = re.findall(r"[a-z0-9]+", text)
    kept = [word for word in words if word not in _LEGAL_WORDS]
    return " ".join(kept or words)[:200]


def free_mail_domains():
    """Return the set of free-mail domains (one query); raises nothing."""
    return frozenset(FreeMailDomain.objects.values_list("domain", flat=True))


def account_ids_for(people, *, now=None):
    """Return the account id of each ``(email, company)`` pair of ``people``, in order (None when unmatched), creating the accounts of new domains; raises nothing.

    Set-wise for imports: one query for the free-mail list, one insert of the new
    domains (a concurrent insert of the same domain is absorbed), one read of the
    domains' accounts and one of the free-mail leads' company names.
    """
    now = now or timezone.now()
    people = list(people)
    free = free_mail_domains() if people else frozenset()
    wanted = []
    for email, company in people:
        host = email_domain(email)
        domain = registrable_domain(host)
        if not domain or host in free or domain in free:
            wanted.append(("name", company_key(company)) if company_key(company) else None)
        else:
            wanted.append(("domain", domain, company))
    new = {}
    for want in wanted:
        if want and want[0] == "domain":
            name = (want[2] or "").strip() or want[1]
            new.setdefault(
                want[1], Account(name=name[:200], domain=want[1], company_key=company_key(name), created_at=now)
            )
    by_domain = {}
    if new:
        Account.objects.bulk_create(new.values(), ignore_conflicts=True)
        by_domain = dict(Account.objects.filter(domain__in=list(new)).values_list("domain", "id"))
    keys = {want[1] for want in wanted if want and want[0] == "name"}
    by_name = {}
    if keys:
        # The oldest account of that name, when several domains share one.
        for key, account_id in (
            Account.objects.filter(company_key__in=keys).order_by("-id").values_list("company_key", "id")
        ):
            by_name[key] = account_id
    return [None if want is None else (by_domain if want[0] == "domain" else by_name).get(want[1]) for want in wanted]


def account_leads(account, leads):
    """Return ``leads`` (a user's visible leads) of ``account``, newest first, with their owners; raises nothing."""
    return leads.filter(account=account).select_related("owner", "team").order_by("-created_at", "-id")
