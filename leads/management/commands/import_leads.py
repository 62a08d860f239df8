"""Import leads from a CSV file: ``manage.py import_leads leads.csv [--mapping "Mail=email" ...]``.

The same code as the upload page (``leads.imports``). By default the import runs
here, with a progress line on stderr; ``--queue`` hands it to the Celery worker
instead; ``--resume JOB`` continues an import that failed or whose worker died
after its last committed batch. A refused file exits with status 1 and says why.
"""

import os
import sys

from django.contrib.auth import get_user_model
from django.core.files.base import File
from django.core.management.base import BaseCommand, CommandError

from leads import imports
from leads.models import ImportJob


class Command(BaseCommand):
    help = "Import leads from a CSV file: validate every row, import the good ones, report the bad ones."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="the CSV file (UTF-8, with a header row)")
        parser.add_argument(
            "--mapping",
            nargs="+",
            action="extend",
            default=[],
            metavar="COLUMN=FIELD",
            help=(
                "map a column to a lead field, on top of the mapping by header names "
                f"(fields: {', '.join(field for field, _label in imports.MAPPING_CHOICES if field)}; "
                "COLUMN= leaves a column out)"
            ),
        )
        parser.add_argument("--user", metavar="USERNAME", help="import as this marketer or admin (default: system)")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--sync", action="store_true", help="run the import here, with progress (the default)")
        mode.add_argument("--queue", action="store_true", help="hand the import to the Celery worker and return")
        mode.add_argument(
            "--resume", type=int, metavar="JOB", help="continue import JOB after its last committed batch"
        )
        parser.add_argument(
            "--batch-size", type=int, default=imports.BATCH_SIZE, help="rows per transaction (default: %(default)s)"
        )

    def handle(self, *args, file, mapping, user, queue, resume, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if (file is None) == (resume is None):
            raise CommandError("Name the CSV file to import, or --resume an import by its number.")
        if resume is not None:
            try:
                self._run(resume, batch_size)
            except imports.ImportRefused as exc:
                raise CommandError(exc.message) from None
            return
        by = self._user(user)
        try:
            handle = open(file, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        with handle:
            upload = File(handle, name=os.path.basename(file))
            try:
                chosen = self._mapping(imports.read_header(upload), mapping)
                job = imports.start_import(upload, by=by, mapping=chosen, queue=queue)
            except imports.ImportRefused as exc:
                raise CommandError(f"{file}: {exc.message}") from None
        if queue:
            self.stdout.write(f"Queued import {job.pk} of {job.original_name}; the worker runs it.")
            return
        self._run(job.pk, batch_size)

    def _run(self, job_id, batch_size):
        job = imports.run_import(job_id, batch_size=batch_size, progress=self._progress)
        if self._progress_shown:
            self._progress(job)
            sys.stderr.write("\n")
        self._summary(job)
        if job.status != ImportJob.Status.DONE:
            raise CommandError(f"Import {job.pk} {job.get_status_display().lower()}: {job.error}")

    _progress_shown = False

    def _user(self, username):
        if not username:
            return None
        try:
            return get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"There is no user {username!r}.") from None

    def _mapping(self, header, pairs):
        """The mapping by header names, changed by the --mapping pairs."""
        mapping = imports.suggest_mapping(header)
        for pair in pairs:
            column, equals, field = pair.rpartition("=")
            if not equals:
                raise CommandError(f"--mapping {pair!r}: write COLUMN=FIELD, e.g. 'E-Mail Address=email'.")
            if field:
                mapping = {c: f for c, f in mapping.items() if f != field}
            mapping[column] = field
        return mapping

    def _progress(self, job):
        self._progress_shown = True
        sys.stderr.write(
            f"\r  {job.percent:3d}%  {job.rows_seen:,} rows: {job.created_count:,} created,"
            f" {job.updated_count:,} updated, {job.failed_count:,} bad"
        )
        sys.stderr.flush()

    def _summary(self, job):
        unchanged = job.rows_seen - job.created_count - job.updated_count - job.failed_count
        self.stdout.write(
            f"Import {job.pk} of {job.original_name}: {job.rows_seen:,} rows, {job.created_count:,} created,"
            f" {job.updated_count:,} updated, {unchanged:,} unchanged, {job.failed_count:,} bad."
        )
        if job.failed_count:
            self.stdout.write("First bad rows:")
            for line in imports.error_report_text(job):
                self.stdout.write(f"  {line}")
            if job.failed_count > 10:
                self.stdout.write(f"  ... and {job.failed_count - 10:,} more (the upload page offers the full report).")
