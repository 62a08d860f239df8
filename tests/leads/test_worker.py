"""End-to-end: tasks travel through the configured broker to a real Celery worker.

Locally that is kombu's filesystem transport; with REDIS_URL set (as in CI) it is Redis.
"""

import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from funnelapp.celery import app
from leads import transitions
from leads.models import Stage

from ..factories import make_lead

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="session")
def celery_worker():
    app.loader.import_module("celery.contrib.testing.tasks")
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=True, shutdown_timeout=10) as worker:
            yield worker
    finally:
        app.conf.task_always_eager = True


@pytest.fixture
def through_broker(celery_worker):
    app.conf.task_always_eager = False
    yield celery_worker
    app.conf.task_always_eager = True


def test_worker_sends_the_assignment_email_of_a_new_mql(through_broker, rep, marketer, mailoutbox):
    from leads import tasks

    lead = transitions.promote_to_mql(make_lead(name="Worker Test"), by=marketer)
    assert lead.stage == Stage.MQL
    result = tasks.deliver_outbox_task.delay()
    # The promotion's own on-commit delivery may have raced this one to the worker.
    result.get(timeout=20)
    deadline = time.monotonic() + 20
    while not any("Worker Test" in m.subject for m in mailoutbox) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [m.subject for m in mailoutbox if "Worker Test" in m.subject] == [
        "New MQL for you: Worker Test (" + lead.company + ")"
    ]


def test_the_broker_is_redis_when_redis_url_is_set_else_the_filesystem():
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        transport = type(connection.transport).__module__
    if os.environ.get("REDIS_URL"):
        assert os.environ["REDIS_URL"] == settings.CELERY_BROKER_URL
        assert "redis" in transport
    else:
        assert settings.CELERY_BROKER_URL == "filesystem://localhost/"
        assert transport == "funnelapp.brokers"
