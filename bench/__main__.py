"""Run Funnel's benchmarks: ``python -m bench`` runs them all, ``python -m bench sla_sweep`` one.

Each benchmark is a module of this package with ``run(options)``; add it to
BENCHMARKS. They import Django models, so they are imported only once Django
is set up on the benchmark database.
"""

import argparse
import importlib
import sys

from .database import BenchError, setup_django

BENCHMARKS = {
    "sla_sweep": "bench.sla_sweep",
    "activity_ingest": "bench.activity_ingest",
    "csv_import": "bench.csv_import",
    "rescore": "bench.rescore",
    "reports": "bench.reports",
    "reports_fixed_cost": "bench.reports.fixed_cost",
    "webhooks": "bench.webhooks",
    "event_feed": "bench.event_feed",
    "duplicate_check": "bench.duplicate_check",
    "workspace": "bench.workspace",
    "rollup_writes": "bench.rollup_writes",
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run Funnel's benchmarks on PostgreSQL.")
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})"
    )
    parser.add_argument("--rebuild", action="store_true", help="regenerate the benchmark data even if it is stored")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per contender after a warm-up (default: 5)")
    options = parser.parse_args(argv)
    unknown = [name for name in options.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    if options.repeat < 1:
        parser.error("--repeat must be at least 1")
    try:
        print(f"Benchmark database: {setup_django()}")
        for name in options.names or BENCHMARKS:
            importlib.import_module(BENCHMARKS[name]).run(options)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
