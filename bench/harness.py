"""Timing and reporting shared by the benchmarks: rolled-back runs, medians, a table, a JSON file."""

import json
import os
import statistics
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from .database import BenchError

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Contender:
    """One way of doing the measured work: ``run()`` is timed, ``check()`` (untimed) describes what it did."""

    name: str
    label: str
    run: object
    check: object


@dataclass(frozen=True)
class Timing:
    wall: float
    # CPU seconds of the PostgreSQL backend (None when the server is not on this
    # machine) and of this process: unlike wall time, barely moved by other load.
    db_cpu: float | None
    py_cpu: float


def backend_cpu(pid):
    """CPU seconds used so far by the server process ``pid``, or None if it is not readable here.

    From the scheduler's count in nanoseconds where the kernel keeps one, else from
    /proc/<pid>/stat, whose clock ticks (10 ms) are too coarse for a statement of a
    few milliseconds.
    """
    try:
        with open(f"/proc/{pid}/schedstat") as schedstat:
            return int(schedstat.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def run_rolled_back(contender):
    """Time ``contender.run()`` inside a transaction that is rolled back; return (Timing, check result).

    Django makes foreign keys DEFERRABLE INITIALLY DEFERRED, so PostgreSQL checks
    them at COMMIT, which a rolled-back run never reaches. SET CONSTRAINTS ALL
    IMMEDIATE runs those pending checks at once, inside the timed span; what is
    left out of it is only the commit's WAL flush.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
        db_start, py_start, start = backend_cpu(pid), time.process_time(), time.perf_counter()
        contender.run()
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        wall, py_cpu, db_end = time.perf_counter() - start, time.process_time() - py_start, backend_cpu(pid)
        outcome = contender.check()
        transaction.set_rollback(True)
    db_cpu = None if db_start is None or db_end is None else db_end - db_start
    return Timing(wall, db_cpu, py_cpu), outcome


def measure(contenders, *, repeat, prepare):
    """Run each contender once to warm up, then ``repeat`` rounds in alternating order; return (timings, outcomes).

    ``prepare()`` runs before every run, outside the transaction, to give each
    one the same starting state. A contender whose outcome changes between runs
    raises BenchError: the data was not the same each time.
    """
    timings = {contender.name: [] for contender in contenders}
    outcomes = {}
    rounds = [("warm-up", contenders)]
    for number in range(1, repeat + 1):
        rounds.append((f"run {number}/{repeat}", contenders if number % 2 else contenders[::-1]))
    for title, order in rounds:
        line = []
        for contender in order:
            prepare()
            timing, outcome = run_rolled_back(contender)
            if outcomes.setdefault(contender.name, outcome) != outcome:
                raise BenchError(
                    f"{contender.name} did different work in {title}: {outcome} != {outcomes[contender.name]}"
                )
            if title != "warm-up":
                timings[contender.name].append(timing)
            line.append(
                f"{contender.name} {timing.wall:.2f} s"
                if timing.wall >= 1
                else f"{contender.name} {timing.wall * 1000:.1f} ms"
            )
        print(f"  {title:>9}: " + ", ".join(line) + f"  (load {os.getloadavg()[0]:.1f})", flush=True)
    return timings, outcomes


def summary(timings):
    walls = [timing.wall for timing in timings]
    db_cpus = [timing.db_cpu for timing in timings if timing.db_cpu is not None]
    return {
        "median_s": round(statistics.median(walls), 5),
        "min_s": round(min(walls), 5),
        "max_s": round(max(walls), 5),
        "runs_s": [round(wall, 5) for wall in walls],
        "median_db_cpu_s": round(statistics.median(db_cpus), 5) if db_cpus else None,
        "median_py_cpu_s": round(statistics.median(timing.py_cpu for timing in timings), 5),
    }


def load_average():
    """The 1-minute load average: what else was running, recorded next to the figures."""
    return round(os.getloadavg()[0], 2)


def server_facts():
    """The PostgreSQL settings that move the figures, recorded next to them."""
    names = ["server_version", "shared_buffers", "work_mem", "jit", "max_wal_size", "synchronous_commit"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, current_setting(name) FROM unnest(%s::text[]) AS name", [names])
        return dict(cursor.fetchall())


def print_table(headers, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    for index, row in enumerate([headers, *rows]):
        cells = [
            str(cell).ljust(width) if position == 0 else str(cell).rjust(width)
            for position, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  " + "  ".join(cells))
        if index == 0:
            print("  " + "  ".join("-" * width for width in widths))


def write_json(name, data):
    """Write ``data`` to var/bench/<name>.json and return the path."""
    folder = settings.VAR_DIR / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def ratio(stats, first, second, *, by_cpu=False, key="median_s"):
    """``first`` over ``second`` by median (or ``key``) wall time, or by median CPU time (database plus Python); None if unknown.

    The CPU times leave out PostgreSQL's parallel workers, so they flatter parallel plans.
    """

    def value(name):
        if name not in stats:
            return None
        if not by_cpu:
            return stats[name][key]
        if stats[name]["median_db_cpu_s"] is None:
            return None
        return stats[name]["median_db_cpu_s"] + stats[name]["median_py_cpu_s"]

    if value(first) is None or not value(second):
        return None
    return round(value(first) / value(second), 2)
