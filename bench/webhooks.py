"""Webhooks: what the history's fan-out trigger costs the hot paths, and how fast one worker delivers.

On the SLA sweep's dataset (1,000,000 open MQLs, 100,000 overdue; bench/sla_sweep.py),
each contender timed inside a rolled-back transaction:

- ``sweep_off`` / ``sweep_idle`` / ``sweep_subscribed``: the SLA sweep with the fan-out
  trigger disabled, enabled with nothing subscribed (every installation without
  webhooks or chat), and with one subscription to lead.sla_breached (100,000
  deliveries queued by the same statement);
- ``import_off`` / ``import_idle``: an import's history writes, 200,000 ``created``
  rows in COPY batches of 2,000 (the import's batch), trigger disabled and idle.

Then the delivery throughput: 10,000 events fanned out to one subscription whose
receiver is a process on 127.0.0.1 that verifies every signature with the
standardwebhooks library; ``deliver_webhooks`` sends them from this one process,
as one Celery worker does.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request
from types import SimpleNamespace

from django.db import connection, transaction
from django.utils import timezone

from leads import history, sla, webhooks
from leads.models import EventKind, Stage, WebhookDelivery, WebhookSubscription

from . import harness, sla_sweep
from .database import BASE_DIR, BenchError

IMPORT_ROWS = 200_000
IMPORT_BATCH = 2_000
FAN_OUT_EVENTS = 10_000
TARGET_DELIVERIES_PER_SECOND = 500
SECRET = "whsec_" + "QmVuY2htYXJrIHNpZ25pbmcgc2VjcmV0IDMyIGJ5dGVz"


def _trigger(enabled):
    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE leads_leadevent {'ENABLE' if enabled else 'DISABLE'} TRIGGER leads_leadevent_fan_out"
        )


def _sweep(enabled, subscribed=False):
    def run():
        _trigger(enabled)
        if subscribed:
            WebhookSubscription.objects.create(url="https://crm.example.com/hooks", event_types=["lead.sla_breached"])
        sla.flag_overdue_leads(now=sla_sweep.NOW)

    return run


def _import(enabled):
    def run():
        _trigger(enabled)
        now = timezone.now()
        for start in range(1, IMPORT_ROWS + 1, IMPORT_BATCH):
            leads = [SimpleNamespace(pk=pk, owner_id=None, mql_episode=0) for pk in range(start, start + IMPORT_BATCH)]
            history.write(
                history.event(lead, EventKind.CREATED, by=None, now=now, to_stage=Stage.LEAD, payload={"import": 1})
                for lead in leads
            )

    return run


def _queued():
    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM leads_leadevent), (SELECT count(*) FROM leads_webhookdelivery)")
        events, deliveries = cursor.fetchone()
    return {"events": events, "deliveries": deliveries}


def hot_paths(options):
    contenders = [
        harness.Contender("sweep_off", "SLA sweep, fan-out trigger disabled", _sweep(False), _queued),
        harness.Contender("sweep_idle", "SLA sweep, trigger on, nothing subscribed", _sweep(True), _queued),
        harness.Contender(
            "sweep_subscribed", "SLA sweep, one subscription (100,000 deliveries)", _sweep(True, True), _queued
        ),
        harness.Contender(
            "import_off", "200,000 history rows by COPY in batches of 2,000, trigger off", _import(False), _queued
        ),
        harness.Contender("import_idle", "the same, trigger on, nothing subscribed", _import(True), _queued),
    ]
    print(f"Fan-out trigger on the hot paths; {options.repeat} runs each after a warm-up")
    timings, outcomes = harness.measure(contenders, repeat=options.repeat, prepare=sla_sweep.reset_state)
    stats = {contender.name: harness.summary(timings[contender.name]) for contender in contenders}
    rows = []
    for contender in contenders:
        s = stats[contender.name]
        rows.append(
            [
                contender.label,
                f"{s['median_s']:.3f}",
                f"{s['median_db_cpu_s']}",
                f"{outcomes[contender.name]['deliveries']:,}",
            ]
        )
    harness.print_table(["contender", "median s", "db cpu s", "deliveries"], rows)
    return {
        "stats": stats,
        "outcomes": outcomes,
        "sweep_idle_over_off": harness.ratio(stats, "sweep_idle", "sweep_off"),
        "sweep_idle_over_off_cpu": harness.ratio(stats, "sweep_idle", "sweep_off", by_cpu=True),
        "import_idle_over_off": harness.ratio(stats, "import_idle", "import_off"),
        "import_idle_over_off_cpu": harness.ratio(stats, "import_idle", "import_off", by_cpu=True),
    }


def _receiver():
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.receiver", SECRET], cwd=BASE_DIR, stdout=subprocess.PIPE, text=True
    )
    port = int(process.stdout.readline())
    return process, f"http://127.0.0.1:{port}/hooks"


def _counts(url):
    with urllib.request.urlopen(url.replace("/hooks", "/count"), timeout=5) as answer:
        return json.loads(answer.read())


def throughput(options):
    print(f"Fan-out of {FAN_OUT_EVENTS:,} events to a receiver on 127.0.0.1, one process sending")
    process, url = _receiver()
    runs = []
    try:
        for number in range(1, max(3, options.repeat) + 1):
            before = _counts(url)["received"]
            with transaction.atomic():
                WebhookSubscription.objects.create(url=url, event_types=["lead.created"], secret=SECRET)
                now = timezone.now()
                history.write(
                    history.event(
                        SimpleNamespace(pk=pk, owner_id=None, mql_episode=0), EventKind.CREATED, by=None, now=now
                    )
                    for pk in range(1, FAN_OUT_EVENTS + 1)
                )
                queued = WebhookDelivery.objects.count()
                start, start_cpu, load = time.perf_counter(), time.process_time(), os.getloadavg()[0]
                delivered, _more = webhooks.deliver_webhooks()
                seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
                transaction.set_rollback(True)
            counts = _counts(url)
            received = counts["received"] - before
            if delivered != FAN_OUT_EVENTS or received != FAN_OUT_EVENTS or queued != FAN_OUT_EVENTS:
                raise BenchError(f"queued {queued}, delivered {delivered}, receiver got {received}")
            rate = delivered / seconds
            cpu_ms = cpu * 1000 / delivered
            runs.append(
                {
                    "seconds": round(seconds, 3),
                    "per_second": round(rate),
                    "sender_cpu_ms": round(cpu_ms, 3),
                    "load": load,
                }
            )
            print(
                f"  run {number}: {delivered:,} delivered in {seconds:.2f} s = {rate:,.0f}/s, "
                f"sender CPU {cpu_ms:.2f} ms each (load {load:.1f})",
                flush=True,
            )
        verified = _counts(url)["verified"]
    finally:
        process.kill()
        process.wait()
    best = max(run["per_second"] for run in runs)
    median = sorted(run["per_second"] for run in runs)[len(runs) // 2]
    print(
        f"  median {median:,}/s, best {best:,}/s (target at least {TARGET_DELIVERIES_PER_SECOND}/s); signatures verified: {verified:,}"
    )
    return {"runs": runs, "median_per_second": median, "best_per_second": best, "verified": verified}


def run(options):
    sla_sweep.ensure_dataset(rebuild=options.rebuild)
    load_before = harness.load_average()
    results = {
        "load_before": load_before,
        "server": harness.server_facts(),
        "hot_paths": hot_paths(options),
        "throughput": throughput(options),
        "load_after": harness.load_average(),
    }
    path = harness.write_json("webhooks", results)
    print(f"  results written to {path}")
    return results
