"""E-mails about leads, sent through the outbox table.

A notification is queued as an ``OutboxMessage`` row in the same transaction as
its cause; ``deliver_outbox`` claims unsent rows with a lease, asks the
recipient's preferences (``leads.preferences.decide``: send, hold until their
quiet hours end, or drop), renders and sends them, and marks each one sent right
after its send.

Each e-mail is written in its recipient's language (their profile's, else
LANGUAGE_CODE) with every time in their time zone (UTC until known), the zone
named after the time.
"""

import logging
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from . import preferences
from .models import Lead, OutboxMessage, TeamMember
from .models.profiles import language_of, zone_name_of

log = logging.getLogger(__name__)

# Where a digest's "see them all" link goes.
DIGEST_PAGES = {
    OutboxMessage.Kind.SLA_BREACH_OWNER: "leads:queue",
    OutboxMessage.Kind.SLA_BREACH_MANAGER: "leads:breached",
}

TEMPLATES = {
    OutboxMessage.Kind.ASSIGNED: "emails/assigned",
    OutboxMessage.Kind.SLA_BREACH_OWNER: "emails/sla_breach_owner",
    OutboxMessage.Kind.SLA_BREACH_MANAGER: "emails/sla_breach_manager",
    OutboxMessage.Kind.SLA_RISK: "emails/sla_risk",
    OutboxMessage.Kind.WEBHOOK_DISABLED: "emails/webhook_disabled",
}


def site_url(path):
    return settings.FUNNEL_SITE_URL.rstrip("/") + path


def queue_assignment_email(lead):
    """Queue an e-mail telling ``lead``'s owner that the MQL is theirs; call inside the assigning transaction; raises nothing."""
    owner = lead.owner
    if owner is None or not owner.email:
        return None
    try:
        with transaction.atomic():
            return OutboxMessage.objects.create(
                kind=OutboxMessage.Kind.ASSIGNED,
                lead=lead,
                recipient=owner,
                to_email=owner.email,
                dedupe_key=f"assigned:{lead.pk}:{lead.version}:{owner.pk}",
            )
    except IntegrityError:
        return None


_QUEUE_ASSIGNED = """
INSERT INTO leads_outboxmessage (kind, lead_id, recipient_id, to_email, dedupe_key, context, created_at,
                                 claim_token, attempts, last_error)
SELECT %(kind)s, lead_id, recipient_id, to_email, dedupe_key, '{}'::jsonb, %(created_at)s, '', 0, ''
  FROM unnest(%(leads)s::bigint[], %(recipients)s::bigint[], %(emails)s::text[], %(keys)s::text[])
       WITH ORDINALITY AS q(lead_id, recipient_id, to_email, dedupe_key, n)
 ORDER BY n
    ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id
"""


def queue_assignment_emails(leads):
    """Queue ``queue_assignment_email`` for each of ``leads`` in one statement, in order; returns how many were queued, raises nothing."""
    rows = [
        (lead.pk, lead.owner.pk, lead.owner.email, f"assigned:{lead.pk}:{lead.version}:{lead.owner.pk}")
        for lead in leads
        if lead.owner is not None and lead.owner.email
    ]
    if not rows:
        return 0
    leads_, recipients, emails, keys = (list(column) for column in zip(*rows, strict=True))
    params = {"kind": OutboxMessage.Kind.ASSIGNED, "created_at": timezone.now()}
    params.update(leads=leads_, recipients=recipients, emails=emails, keys=keys)
    with connection.cursor() as cursor:
        cursor.execute(_QUEUE_ASSIGNED, params)
        return len(cursor.fetchall())


def _claim(now, limit):
    lease = timedelta(seconds=settings.FUNNEL_OUTBOX_LEASE_SECONDS)
    token = uuid.uuid4().hex
    due = (
        OutboxMessage.objects.filter(sent_at__isnull=True, attempts__lt=settings.FUNNEL_OUTBOX_MAX_ATTEMPTS)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - lease))
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    ids = list(due)
    if not ids:
        return []
    # Conditional on the same lease test: of two deliverers, each row goes to one.
    OutboxMessage.objects.filter(pk__in=ids, sent_at__isnull=True).filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - lease)
    ).update(claimed_at=now, claim_token=token)
    return list(
        OutboxMessage.objects.filter(claim_token=token, claimed_at=now, sent_at__isnull=True)
        .select_related(
            "lead",
            "lead__owner",
            "lead__team",
            "lead__sla_policy",
            "recipient",
            "recipient__notice_prefs",
            "recipient__profile",
        )
        .order_by("id")
    )


DIGEST_LISTED = 50


def locale_of(user):
    """``(language code, ZoneInfo)`` an e-mail to ``user`` is written in: their profile's, else the site's
    language, and their zone, else UTC; raises nothing."""
    language = language_of(user)
    try:
        zone = ZoneInfo(zone_name_of(user))
    except (ValueError, ZoneInfoNotFoundError):  # a zone the tz database has since dropped
        zone = ZoneInfo("UTC")
    return language, zone


def render(message):
    """Return the EmailMultiAlternatives for an outbox row (one lead, or a digest of several); raises TemplateDoesNotExist for an unknown kind."""
    context = {"recipient": message.recipient, **message.context}
    if message.lead_id:
        lead = message.lead
        context.update(lead=lead, url=site_url(lead.get_absolute_url()))
        context["managers"] = TeamMember.objects.filter(team_id=lead.team_id, role=TeamMember.Role.MANAGER)
    elif message.kind in DIGEST_PAGES:
        ids = list(message.context.get("lead_ids", []))
        listed = Lead.objects.filter(pk__in=ids[:DIGEST_LISTED]).select_related("owner", "team", "sla_policy")
        order = {lead_id: position for position, lead_id in enumerate(ids)}
        leads = sorted(listed, key=lambda lead: order[lead.pk])
        context.update(
            leads=[(lead, site_url(lead.get_absolute_url())) for lead in leads],
            total=len(ids),
            more=max(0, len(ids) - len(leads)),
            url=site_url(reverse(DIGEST_PAGES[message.kind])),
        )
    base = TEMPLATES[message.kind]
    language, zone = locale_of(message.recipient)
    context["zone"] = zone.key
    with translation.override(language), timezone.override(zone):
        # A subject is one line: a newline in a lead's name or company would make the message
        # unsendable (Django refuses header injection) and the breach would never be told.
        subject = " ".join(render_to_string(f"{base}_subject.txt", context, using="text").split())
        body = render_to_string(f"{base}.txt", context, using="text")
        html = render_to_string(f"{base}.html", context)
    email = EmailMultiAlternatives(
        subject=subject,
        body=body,
        to=[message.to_email],
        headers={
            "Message-ID": f"<funnel-outbox-{message.pk}@{settings.FUNNEL_MAIL_DOMAIN}>",
            "Content-Language": language,
        },
    )
    email.attach_alternative(html, "text/html")
    return email


def deliver_outbox(*, now=None, limit=200):
    """Send unsent outbox e-mails (claiming them with a lease first); returns how many were sent, raises nothing."""
    now = now or timezone.now()
    messages = _claim(now, limit)
    sent = 0
    with get_connection() as mail:
        for message in messages:
            # Renew this run's claim right before sending: if the lease ran out
            # during a long batch and another run took the row, leave it to them.
            renewed = OutboxMessage.objects.filter(
                pk=message.pk, claim_token=message.claim_token, sent_at__isnull=True
            ).update(claimed_at=timezone.now())
            if not renewed:
                continue
            notice_kind = preferences.EMAIL_NOTICE_KINDS.get(message.kind)
            decision = preferences.decide(message.recipient, notice_kind, preferences.EMAIL, now)
            if not decision.now:
                _hold_or_drop(message, decision)
                continue
            try:
                delivered = mail.send_messages([render(message)])
            except Exception as exc:  # keep going; the row is retried after its lease
                log.warning("outbox %s: send failed: %s", message.pk, exc)
                OutboxMessage.objects.filter(pk=message.pk).update(
                    attempts=message.attempts + 1, last_error=str(exc)[:2000]
                )
                continue
            OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
                sent_at=timezone.now(), attempts=message.attempts + 1, last_error=""
            )
            sent += delivered or 0
    return sent


def _hold_or_drop(message, decision):
    if decision.send:  # quiet hours: back in the queue until they end
        changes = {"not_before": decision.not_before, "claimed_at": None, "claim_token": ""}
    else:
        changes = {"sent_at": timezone.now(), "last_error": "Not sent: the recipient turned these e-mails off."}
    OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(**changes)
