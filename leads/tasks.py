"""Celery entry points: thin wrappers over the functions that do the work.

Every task takes ids or nothing and is safe to run twice or in parallel: the
functions claim their rows with conditional updates. This module is the top
of the import graph: nothing below it imports it (``leads.background`` starts
tasks by name).
"""

import logging

from celery import shared_task

from . import background, chat, imports, jobs, notifications, sla, webhooks

log = logging.getLogger(__name__)


@shared_task
def flag_overdue_leads_task():
    claimed = sla.flag_overdue_leads()
    log.info("flag_overdue_leads: %d newly breached", len(claimed))
    if claimed:
        background.start("leads.tasks.deliver_outbox_task")
    return len(claimed)


@shared_task
def reassign_breached_leads_task():
    moved = jobs.reassign_breached_leads()
    log.info("reassign_breached_leads: %d reassigned", moved)
    return moved


@shared_task
def deliver_outbox_task():
    sent = notifications.deliver_outbox()
    log.info("deliver_outbox: %d e-mails sent", sent)
    return sent


# A worker spends at most this long per run; a backlog continues in a follow-up task.
WEBHOOK_RUN_SECONDS = 50


@shared_task
def deliver_webhooks_task():
    delivered, more = webhooks.deliver_webhooks(budget_seconds=WEBHOOK_RUN_SECONDS)
    log.info("deliver_webhooks: %d delivered%s", delivered, ", more due" if more else "")
    if more:
        background.start("leads.tasks.deliver_webhooks_task")
    return delivered


@shared_task
def flag_sla_risks_task():
    at_risk = sla.flag_sla_risks()
    log.info("flag_sla_risks: %d MQLs at risk", len(at_risk))
    if at_risk:
        background.start("leads.tasks.deliver_outbox_task")
        background.start("leads.tasks.deliver_chat_notices_task")
    return len(at_risk)


@shared_task
def deliver_chat_notices_task():
    sent = chat.deliver_chat_notices()
    log.info("deliver_chat_notices: %d messages sent", sent)
    return sent


@shared_task
def route_waiting_mqls_task():
    routed = jobs.route_waiting_mqls()
    log.info("route_waiting_mqls: %d routed", routed)
    return routed


@shared_task
def hand_on_out_of_office_task():
    moved = jobs.hand_on_out_of_office()
    log.info("hand_on_out_of_office: %d MQLs handed on", moved)
    return moved


@shared_task(soft_time_limit=3 * 3600, time_limit=3 * 3600 + 300)
def rescore_leads_task(run_id):
    run = jobs.rescore_leads(run_id)
    log.info(
        "rescore %s: %s of %s leads, %s changed, %s promoted", run_id, run.done, run.total, run.changed, run.promoted
    )
    return run.done


@shared_task(soft_time_limit=3 * 3600, time_limit=3 * 3600 + 300)
def refresh_decayed_scores_task():
    result = jobs.refresh_decayed_scores()
    log.info("decay refresh: %s leads, %s changed, %s promoted", result.leads, result.changed, result.promoted)
    return result.changed


# A million-row import takes minutes; the global soft limit would make it hop
# from task to task (it resumes correctly, but re-reads what it committed).
@shared_task(soft_time_limit=3 * 3600, time_limit=3 * 3600 + 300)
def import_leads_task(job_id):
    job = imports.run_import(job_id)
    log.info(
        "import %s: %s rows, %s created, %s updated, %s failed",
        job_id,
        job.rows_seen,
        job.created_count,
        job.updated_count,
        job.failed_count,
    )
    return job.rows_seen
