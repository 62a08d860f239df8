"""What the reports' rollup triggers cost the writes of MQL episodes.

``reports.EpisodeRollup`` is kept by statement triggers on ``leads_mqlepisode``
(reports migration 0012). Each round runs every step twice, triggers on and
off (``ALTER TABLE ... DISABLE TRIGGER``), in alternating order, each inside a
transaction that is rolled back, so nothing is kept and every run starts from
the same (empty or already built) tables:

- ``promote``: 200 leads made MQLs by ``transitions.promote_to_mql``, one
  transaction each (an episode inserted per lead);
- ``accept_qualify``: the same 200 accepted, then qualified (two episode updates
  per lead, each its own transition);
- ``bulk_insert``: 20,000 episodes in one ``bulk_create`` (an import's batch is smaller);
- ``bulk_reassign``: those 20,000 episodes given to another rep in one UPDATE.

The leads and people are made inside the same transaction, untimed. Figures:
median wall time per step and per lead, with the triggers' extra.
"""

import statistics
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from leads import transitions
from leads.models import Lead, MqlEpisode, Stage, Team, TeamMember

from . import harness

TRIGGERS = ("insert", "update", "delete", "truncate")
TRANSITION_LEADS = 200
BULK_EPISODES = 20_000
STEPS = ("promote", "accept_qualify", "bulk_insert", "bulk_reassign")


def _triggers(enabled):
    with connection.cursor() as cursor:
        for name in TRIGGERS:
            state = "ENABLE" if enabled else "DISABLE"
            cursor.execute(f"ALTER TABLE leads_mqlepisode {state} TRIGGER reports_episode_rollup_{name}")


def _timed(work):
    start = time.perf_counter()
    work()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return time.perf_counter() - start


def _one_run(enabled, tag):
    """Every step once, with the triggers on or off, in a rolled-back transaction; {step: seconds}."""
    times = {}
    with transaction.atomic():
        _triggers(enabled)
        team = Team.objects.create(name=f"Rollup bench {tag}")
        User = get_user_model()
        reps = [User.objects.create_user(f"rollup-bench-{tag}-{i}") for i in range(2)]
        for rep in reps:
            TeamMember.objects.create(team=team, user=rep, role=TeamMember.Role.REP)
        now = timezone.now()
        leads = Lead.objects.bulk_create(
            Lead(name=f"R{i}", company=f"Co {i}", email=f"rollup{tag}-{i}@example.com", stage=Stage.LEAD, team=team)
            for i in range(TRANSITION_LEADS)
        )

        def promote():
            for lead in leads:
                transitions.promote_to_mql(lead, by=None, team=team, now=now)

        times["promote"] = _timed(promote)
        promoted = list(Lead.objects.filter(pk__in=[lead.pk for lead in leads]))

        def accept_qualify():
            for lead in promoted:
                accepted = transitions.accept_lead(lead, by=None, now=now + timedelta(minutes=5))
                transitions.qualify_lead(accepted, by=None, now=now + timedelta(minutes=10))

        times["accept_qualify"] = _timed(accept_qualify)
        bulk_leads = Lead.objects.bulk_create(
            Lead(name=f"B{i}", company=f"Co {i}", email=f"rollup-bulk{tag}-{i}@example.com", stage=Stage.LEAD)
            for i in range(BULK_EPISODES)
        )
        episodes = [
            MqlEpisode(
                lead=lead,
                number=1,
                owner=reps[0],
                team=team,
                source="web",
                campaign=f"c{i % 40}",
                mql_at=now - timedelta(minutes=i),
                due_at=now - timedelta(minutes=i) + timedelta(hours=1),
                first_follow_up_at=now - timedelta(minutes=i) + timedelta(minutes=i % 90) if i % 8 else None,
            )
            for i, lead in enumerate(bulk_leads)
        ]
        times["bulk_insert"] = _timed(lambda: MqlEpisode.objects.bulk_create(episodes, batch_size=BULK_EPISODES))
        times["bulk_reassign"] = _timed(lambda: MqlEpisode.objects.filter(lead__in=bulk_leads).update(owner=reps[1]))
        transaction.set_rollback(True)
    return times


def run(options):
    """Time each step with the rollup triggers on and off, print the table, write var/bench/rollup_writes.json."""
    load_before = harness.load_average()
    found = {True: {step: [] for step in STEPS}, False: {step: [] for step in STEPS}}
    print(f"Rollup triggers on the writes of MQL episodes; {options.repeat} rounds after a warm-up, on and off in turn")
    for number in range(options.repeat + 1):
        for enabled in (True, False) if number % 2 else (False, True):
            times = _one_run(enabled, f"{number}{'on' if enabled else 'off'}")
            if number:
                for step, seconds in times.items():
                    found[enabled][step].append(seconds)
        print(f"  round {number}/{options.repeat}{' (warm-up)' if not number else ''}  (load {harness.load_average()})")
    per_unit = {"promote": TRANSITION_LEADS, "accept_qualify": TRANSITION_LEADS, "bulk_insert": BULK_EPISODES}
    per_unit["bulk_reassign"] = BULK_EPISODES
    rows, results = [], {}
    for step in STEPS:
        on, off = statistics.median(found[True][step]), statistics.median(found[False][step])
        unit = per_unit[step]
        results[step] = {"on_s": round(on, 5), "off_s": round(off, 5), "units": unit}
        rows.append(
            [
                step,
                f"{off * 1000:,.1f} ms",
                f"{on * 1000:,.1f} ms",
                f"{(on - off) * 1000:+,.1f} ms",
                f"{(on - off) / unit * 1e6:+,.0f} µs",
                f"{on / off:.2f}x",
            ]
        )
    harness.print_table(["step", "triggers off", "on", "extra", "extra per lead", "on/off"], rows)
    summary = {"load_before": load_before, "load_after": harness.load_average(), "steps": results}
    print(f"  load {load_before} before, {summary['load_after']} after")
    print(f"  results written to {harness.write_json('rollup_writes', summary)}")
    return summary
