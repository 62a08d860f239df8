"""E-mails to people about their leads."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .models import Lead

log = logging.getLogger(__name__)


def site_url(path):
    return settings.FUNNEL_SITE_URL.rstrip("/") + path


def send_assignment_email(lead_id):
    """Tell a lead's owner that an MQL is waiting for them; returns how many e-mails were sent, raises nothing for a gone lead."""
    lead = Lead.objects.select_related("owner", "team").filter(pk=lead_id).first()
    if lead is None or lead.owner is None or not lead.owner.email:
        log.info("assignment e-mail for lead %s skipped: no lead or no owner address", lead_id)
        return 0
    context = {"lead": lead, "owner": lead.owner, "url": site_url(lead.get_absolute_url())}
    message = EmailMultiAlternatives(
        subject=render_to_string("emails/assigned_subject.txt", context).strip(),
        body=render_to_string("emails/assigned.txt", context),
        to=[lead.owner.email],
    )
    message.attach_alternative(render_to_string("emails/assigned.html", context), "text/html")
    return message.send()
