"""Celery entry points of the reports: thin wrappers, imported by nothing."""

import logging

from celery import shared_task

from . import digest

log = logging.getLogger(__name__)


@shared_task
def send_weekly_digests_task():
    sent = digest.send_weekly_digests()
    log.info("weekly digests sent: %s", sent)
    return sent
