"""The SLA escalation through a real `celery worker --beat` process.

The worker runs as a separate process against the test database (PostgreSQL, so
both processes see committed rows), on the filesystem broker and on Redis. Beat
drives the sweep and the outbox delivery, as in production. One test SIGKILLs the
worker in the middle of sending the escalation e-mails and restarts it.
"""

import os
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from leads.models import EventKind, Lead, LeadEvent, OutboxMessage

from ..factories import lead_in_stage, make_user
from ..support.slow_mail import message_ids
from ..support.worker_process import Worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

# The brokers the worker is tested on: the embedded default always, Redis where REDIS_URL names one.
BROKERS = ["filesystem", *(["redis"] if os.environ.get("REDIS_URL") else [])]


@pytest.fixture(params=BROKERS)
def broker(request):
    return request.param


def overdue_leads(owners, count):
    now = timezone.now()
    leads = [lead_in_stage("mql", owner=owners[i % len(owners)]) for i in range(count)]
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(sla_due_at=now - timedelta(minutes=5))
    # The assignment e-mails of the setup are not what these tests count.
    OutboxMessage.objects.filter(kind=OutboxMessage.Kind.ASSIGNED).update(sent_at=now)
    return leads


def escalations_sent():
    return not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


def listed_once_per_kind(leads):
    """Every breached lead appears in exactly one owner digest and one manager digest."""
    for kind in (OutboxMessage.Kind.SLA_BREACH_OWNER, OutboxMessage.Kind.SLA_BREACH_MANAGER):
        listed = [i for m in OutboxMessage.objects.filter(kind=kind) for i in m.context["lead_ids"]]
        if sorted(listed) != sorted(lead.pk for lead in leads):
            return False
    return True


def test_worker_with_beat_flags_overdue_leads_and_sends_escalations(broker, tmp_path, rep, other_rep, manager):
    leads = overdue_leads([rep, other_rep], 6)
    worker = Worker(tmp_path, broker).start()
    try:
        wait_for(
            lambda: (
                LeadEvent.objects.filter(kind=EventKind.SLA_BREACHED).count() == len(leads)
                and listed_once_per_kind(leads)
                and escalations_sent()
            ),
            timeout=60,
            worker=worker,
            what="breaches flagged and e-mails sent",
        )
    finally:
        worker.stop()
    ids = message_ids(tmp_path / "mail")
    assert len(ids) == OutboxMessage.objects.exclude(kind="assigned").count() >= 3  # two owners, one manager
    assert len(set(ids)) == len(ids)


def test_worker_killed_mid_escalation_loses_nothing_and_sends_nothing_twice(tmp_path, team, manager):
    reps = [make_user(f"crash{i}", role="rep", team=team) for i in range(14)]
    leads = overdue_leads(reps, 28)
    expected = len(reps) + 1  # one digest per owner, one for the manager
    mail = tmp_path / "mail"
    first = Worker(tmp_path, "filesystem", mail_delay=0.25, lease_seconds=2).start()
    try:
        wait_for(
            lambda: len(message_ids(mail)) >= 5 if mail.exists() else False,
            timeout=60,
            worker=first,
            what="the first escalation e-mails",
        )
        first.kill()
    finally:
        first.stop()
    sent_before_kill = len(message_ids(mail))
    assert 5 <= sent_before_kill < expected, "the kill must land in the middle of the escalation"
    assert LeadEvent.objects.filter(kind=EventKind.SLA_BREACHED).count() == len(leads)

    second = Worker(tmp_path, "filesystem", mail_delay=0.0, lease_seconds=2).start()
    try:
        wait_for(escalations_sent, timeout=60, worker=second, what="the remaining e-mails after the restart")
        time.sleep(1.5)  # a few more beat ticks: nothing more may be sent
    finally:
        second.stop()

    ids = message_ids(mail)
    repeats = {mid: n for mid, n in Counter(ids).items() if n > 1}
    assert repeats == {}
    assert len(ids) == expected
    assert LeadEvent.objects.filter(kind=EventKind.SLA_BREACHED).count() == len(leads)
    assert listed_once_per_kind(leads)
    assert OutboxMessage.objects.exclude(kind="assigned").count() == expected
    per_lead = Counter(LeadEvent.objects.filter(kind=EventKind.SLA_BREACHED).values_list("lead_id", flat=True))
    assert set(per_lead.values()) == {1}
    assert Path(mail).exists()
