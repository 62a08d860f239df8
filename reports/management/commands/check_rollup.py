"""Check the reports' rollup against the MQL episodes: ``manage.py check_rollup [--repair]``.

The rollup (``reports.EpisodeRollup``) is kept by database triggers in the same
transaction as every write of an episode, so it should never differ. This
recomputes it from the episodes with the reports' own conditions and lists the
rows that differ; ``--repair`` replaces the rollup with the recomputed one
(episode writers wait meanwhile). Exit status 1 when rows differed.
"""

from django.core.management.base import BaseCommand

from reports.metrics import rollup


class Command(BaseCommand):
    help = "Compare the reports' rollup with the MQL episodes (and with --repair, rebuild it)."

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="rebuild the rollup from the episodes if it differs")
        parser.add_argument("--show", type=int, default=20, help="rows to list when it differs (default 20)")

    def handle(self, *args, repair, show, **options):
        wrong = rollup.verify()
        if not wrong:
            self.stdout.write("The rollup equals the MQL episodes.")
            return
        self.stderr.write(f"{len(wrong)} rollup rows differ from the MQL episodes:")
        for (dimension, key, grain, start), (stored, counted) in sorted(wrong.items(), key=str)[:show]:
            changes = ", ".join(
                f"{name} {stored[name]} != {counted[name]}" for name in stored if stored[name] != counted[name]
            )
            self.stderr.write(f"  {grain} {start:%Y-%m-%d %H:%M} {dimension} {key!r}: {changes}")
        if repair:
            self.stdout.write(f"Rebuilt the rollup: {rollup.rebuild()} rows.")
        raise SystemExit(1)
