"""A person's data: what erasure blanks and remembers, the addresses it refuses, and the export.

- ``PERSONAL_FIELDS``: the lead fields that name or reach the person. Erasure blanks
  them; the rest of a lead (source, campaign, priority, country, company size, stage,
  owner, team, times, score) are facts about the funnel, kept so reports stay the same.
- Erased addresses are kept only as HMAC-SHA256 digests of the normalised address
  (``address_digests``) under ``settings.FUNNEL_ERASURE_KEY`` (by default derived from
  ``SECRET_KEY``). Rotating the key: put the old one in ``FUNNEL_ERASURE_KEY_FALLBACKS``
  (or, with a derived key, the old secret in ``SECRET_KEY_FALLBACKS``); an address
  erased under a key that is no longer listed is no longer recognised, and nothing can
  re-hash it, since the address itself is gone.
- ``erased_on(addresses)``: which of many addresses were erased, in one query.
- ``forget_related(lead, address, now)``: the erasure's writes outside the lead and its
  history (activities, episodes' notes, import rows, the digest); only
  ``transitions.erase_lead`` calls it.
- ``export_person(lead)``: everything held about the person, as JSON-ready data.
"""

import hashlib
import hmac

from django.conf import settings
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext, gettext_noop

from .models import (
    Activity,
    ErasedAddress,
    ImportRowError,
    LeadEvent,
    LeadRuleScore,
    MqlEpisode,
    OptOut,
    OutboxMessage,
)

# Must match PERSONAL in migration 0026 (the history's redaction, done by the database).
PERSONAL_FIELDS = ("name", "email", "phone", "company", "job_title")
REDACTED = "[erased]"
# Stored as the lead's name (English, like all data); pages may show it with |translated.
ERASED_NAME = gettext_noop("Erased person")
# RFC 2606 reserves .invalid: a placeholder address can never reach anyone, and no real one ends so.
ERASED_DOMAIN = "erased.invalid"
EXPORT_FORMAT = "funnel-person-export/1"


def normalised(address):
    """The form an address is hashed in: trimmed, lower case."""
    return address.strip().lower()


def placeholder_email(lead_id):
    """The e-mail an erased lead keeps: unique (the lead's id) and undeliverable."""
    return f"erased-{lead_id}@{ERASED_DOMAIN}"


def blanked_fields(lead):
    """The values an erasure gives the personal fields of ``lead``."""
    return {"name": ERASED_NAME, "email": placeholder_email(lead.pk), "phone": "", "company": "", "job_title": ""}


def _keys():
    configured = settings.FUNNEL_ERASURE_KEY
    if configured:
        return [configured, *settings.FUNNEL_ERASURE_KEY_FALLBACKS]
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [salted_hmac("funnel.erasure", "key", secret=secret, algorithm="sha256").hexdigest() for secret in secrets]


def address_digests(address):
    """The digests of ``address`` under the current key, then each fallback key."""
    value = normalised(address).encode()
    return [hmac.new(key.encode(), value, hashlib.sha256).hexdigest() for key in _keys()]


def erased_on(addresses):
    """Return ``{normalised address: when it was erased}`` for those of ``addresses`` that were erased, in one query; raises nothing.

    An address at the placeholder domain counts as erased (at an unknown time, None):
    it belongs to an erased lead.
    """
    wanted = {}
    found = {}
    for address in {normalised(a) for a in addresses if a}:
        if address.endswith("@" + ERASED_DOMAIN):
            found[address] = None
            continue
        for digest in address_digests(address):
            wanted[digest] = address
    if wanted:
        for digest, at in ErasedAddress.objects.filter(digest__in=list(wanted)).values_list("digest", "erased_at"):
            found[wanted[digest]] = at
    return found


def refusal(address, erased_at):
    """The message for an address that may not be used again."""
    if erased_at is None:
        return gettext("%(address)s is a placeholder of an erased lead; give the person's real address.") % {
            "address": address
        }
    return gettext(
        "%(address)s belongs to a person whose data was erased on %(date)s; "
        "it is not added again by accident (an admin can release the address if the person comes back)."
    ) % {"address": address, "date": f"{erased_at:%Y-%m-%d}"}


def remember_erased(address, now):
    """Keep the digest of an erased address (under the current key); raises nothing."""
    if address and not normalised(address).endswith("@" + ERASED_DOMAIN):
        digest = address_digests(address)[0]
        ErasedAddress.objects.get_or_create(digest=digest, defaults={"erased_at": now})


def release_address(address):
    """Forget that ``address`` was erased, so it can be used again; returns whether it was known, raises nothing."""
    deleted, _ = ErasedAddress.objects.filter(digest__in=address_digests(address)).delete()
    return bool(deleted)


def forget_related(lead, address, now):
    """Blank what rows around ``lead`` hold about its person (erasure's helper); returns nothing, raises nothing.

    Activities keep their kind and time and lose their URL, note and the sender's own id
    (which could identify the person in the sending system); MQL episodes keep everything
    but the rejection note; bad import rows that carried the address lose their text.
    """
    Activity.objects.filter(lead=lead).update(
        url="", external_id=None, note=Case(When(note="", then=Value("")), default=Value(REDACTED))
    )
    MqlEpisode.objects.filter(lead=lead).exclude(rejection_note="").update(rejection_note=REDACTED)
    if address:
        ImportRowError.objects.filter(Q(raw__icontains=address) | Q(reason__icontains=address)).update(
            raw=REDACTED, reason=REDACTED
        )
    remember_erased(address, now)


def _person(user):
    return (user.get_full_name() or user.get_username()) if user else None


def _time(value):
    return value.isoformat() if value is not None else None


def export_person(lead):
    """Return everything Funnel holds about ``lead``'s person as JSON-ready data (a fixed number of queries); raises nothing."""
    fields = {}
    for field in lead._meta.concrete_fields:
        value = getattr(lead, field.attname)
        fields[field.attname] = _time(value) if hasattr(value, "isoformat") else value
    events = LeadEvent.objects.filter(lead=lead).select_related("actor", "reason").order_by("at", "id")
    activities = Activity.objects.filter(lead=lead).select_related("actor").order_by("occurred_at", "id")
    outbox = OutboxMessage.objects.filter(Q(lead=lead) | Q(context__lead_ids__contains=[lead.pk])).order_by("id")
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _time(timezone.now()),
        "lead": fields,
        "erased": lead.erased_at is not None,
        "opt_outs": [
            {
                "at": _time(o.at),
                "source": o.source,
                "source_label": o.get_source_display(),
                "by": _person(o.recorded_by),
            }
            for o in OptOut.objects.filter(lead=lead).select_related("recorded_by")
        ],
        "activities": [
            {
                "kind": a.kind,
                "occurred_at": _time(a.occurred_at),
                "by": _person(a.actor),
                "url": a.url,
                "note": a.note,
                "external_id": a.external_id,
            }
            for a in activities
        ],
        "history": [
            {
                "kind": e.kind,
                "at": _time(e.at),
                "by": _person(e.actor),
                "from_stage": e.from_stage,
                "to_stage": e.to_stage,
                "episode": e.episode,
                "reason": e.reason.code if e.reason else None,
                "note": e.note,
                "payload": e.payload,
            }
            for e in events
        ],
        "score": [
            {"rule": share.rule.name, "matches": share.matches, "points": share.points}
            for share in LeadRuleScore.objects.filter(lead=lead).select_related("rule").order_by("-points", "id")
        ],
        "mql_episodes": [
            {
                "number": ep.number,
                "mql_at": _time(ep.mql_at),
                "due_at": _time(ep.due_at),
                "first_follow_up_at": _time(ep.first_follow_up_at),
                "accepted_at": _time(ep.accepted_at),
                "qualified_at": _time(ep.qualified_at),
                "rejected_at": _time(ep.rejected_at),
                "rejection_reason": ep.rejection_reason.code if ep.rejection_reason else None,
                "rejection_note": ep.rejection_note,
                "recycled_at": _time(ep.recycled_at),
            }
            for ep in MqlEpisode.objects.filter(lead=lead).select_related("rejection_reason").order_by("number")
        ],
        "emails_about_them": [
            {
                "kind": m.kind,
                "label": m.get_kind_display(),
                "queued_at": _time(m.created_at),
                "sent_at": _time(m.sent_at),
            }
            for m in outbox
        ],
    }
