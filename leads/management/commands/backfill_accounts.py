"""Match existing leads to accounts and mark their possible duplicates: ``manage.py backfill_accounts``.

Run once after migration 0080 (leads created since are matched at intake). It
works in batches, each its own transaction, and may be stopped and resumed with
``--after ID`` (the last id it printed) or simply run again: the result is the same.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from leads import transitions


class Command(BaseCommand):
    help = "Give leads created before accounts existed their account, duplicate keys and duplicate marks."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000, help="leads per transaction (default 2000)")
        parser.add_argument("--after", type=int, default=0, help="start after this lead id (to resume)")

    def handle(self, *args, batch_size, after, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        total = 0
        for last_id, changed in transitions.backfill_accounts(now=timezone.now(), batch_size=batch_size, after=after):
            total += changed
            self.stderr.write(f"up to lead {last_id}: {changed} changed")
        self.stdout.write(f"{total} leads changed.")
