"""Celery entry points: thin wrappers over the functions that do the work."""

import logging

from celery import shared_task

from . import notifications

log = logging.getLogger(__name__)


@shared_task
def send_assignment_email_task(lead_id):
    sent = notifications.send_assignment_email(lead_id)
    log.info("assignment e-mail for lead %s: %s sent", lead_id, sent)
    return sent
