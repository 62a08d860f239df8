"""A real `celery worker --beat` child process against the test database, for the end-to-end tests."""

import os
import signal
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection


def database_url():
    """The test database's URL for the worker process: a TCP server or the embedded one's socket folder."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db["HOST"] or "127.0.0.1"
    if host.startswith("/"):  # the embedded server's socket folder, percent-encoded as the host
        return f"postgres://{auth}@{quote(host, safe='')}/{db['NAME']}"
    return f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A `celery -A funnelapp worker --beat` child process with its own broker folder or Redis db."""

    def __init__(self, tmp_path, broker, *, mail_delay=0.0, lease_seconds=300, **env):
        self.log = tmp_path / f"worker-{time.monotonic_ns()}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "FUNNEL_VAR_DIR": str(tmp_path / "var"),
            "EMAIL_BACKEND": "tests.support.slow_mail.SlowFileBackend",
            "EMAIL_FILE_PATH": str(tmp_path / "mail"),
            "FUNNEL_TEST_MAIL_DELAY": str(mail_delay),
            "FUNNEL_OUTBOX_LEASE_SECONDS": str(lease_seconds),
            "SLA_SWEEP_INTERVAL_SECONDS": "0.5",
            "OUTBOX_INTERVAL_SECONDS": "0.5",
            "ROUTING_INTERVAL_SECONDS": "5",
            "DB_CONN_MAX_AGE": "0",
            **env,
        }
        if broker != "redis":
            self.env.pop("REDIS_URL", None)
        # A queue of this test's own: nothing another worker (or an earlier run) left on the broker reaches it.
        self.env["CELERY_QUEUE"] = f"funnel-test-{tmp_path.name}-{os.getpid()}"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "funnelapp", "worker", "--beat", "--pool=solo", "--loglevel=INFO"],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self):
        return self.log.read_text(errors="replace")[-4000:]


def wait_for(condition, *, timeout, worker, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.process.poll() is not None:
            pytest.fail(f"worker exited while waiting for {what}:\n{worker.output()}")
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}:\n{worker.output()}")
