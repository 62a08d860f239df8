"""Good rows into new and updated leads, one transaction a batch, with their events, scores and promotions."""

import functools
import logging
from dataclasses import dataclass

from django.db import IntegrityError, connection, reset_queries, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext

from .. import privacy, scoring, transitions
from ..models import ImportJob, ImportRowError, ImportRowFate, Lead
from ..sql import insert_rows
from . import cleaning, reading, writing

log = logging.getLogger(__name__)

# What a bad row keeps of its text for the error report (see also reading.MAX_RAW_LINES).
MAX_RAW_CHARS = 2000
ROW_ERROR_FIELDS = ("job_id", "line", "reason", "raw")
ROW_FATE_FIELDS = ("job_id", "line", "fate", "lead_id", "reason")
Fate = ImportRowFate.Fate


class ClaimLost(Exception):
    """Another run of the same job committed the batch this run was about to commit."""


@dataclass
class _Row:
    """A row of the file that passed validation: its first line, field values and text."""

    line: int
    values: dict
    raw: str


class Importer:
    """Reads a job's file and writes its rows in batches; ``run`` raises ClaimLost when another run took a batch first."""

    def __init__(self, job, handle, *, batch_size, progress):
        self.job = job
        self.handle = handle
        self.batch_size = batch_size
        self.progress = progress
        self.seen = cleaning.SeenEmails()
        self.rules = scoring.active_rules()
        self.threshold = scoring.threshold()

    def run(self):
        header, delimiter, skip = reading.sniff(self.handle)
        records = reading.CsvSource(self.handle, delimiter).records()
        for _record in range(skip):
            next(records)  # the header (and a "sep=" line), read above
        plan = reading.column_plan(header, self.job.mapping or reading.suggest_mapping(header))
        width = len(header)
        resume_after = self.job.committed_line
        # The database writes each batch while the next one is read, when it has a connection of its own.
        threaded = not connection.in_atomic_block
        good, bad = [], []
        with writing.Pipeline(self._commit, threaded=threaded) as pipeline:
            for start, end, cells, problem, raw in records:
                if problem is None and not "".join(cells).strip():
                    continue  # a blank line
                values, reasons = cleaning.clean_row(cells, plan, width, problem)
                if values is not None:
                    first = self.seen.first_line(values["email"].lower(), start)
                    if first is not None:
                        values = None
                        reasons.append(gettext("duplicate of line %(line)s (same e-mail address)") % {"line": first})
                elif end > start and problem is None and cleaning.wrong_width(cells, width):
                    reasons.append(
                        gettext("a quote that is never closed may have joined lines %(start)s-%(end)s")
                        % {"start": start, "end": end}
                    )
                if end <= resume_after:
                    continue  # committed by an earlier run: read again only to learn its e-mail addresses
                if values is None:
                    bad.append((start, "; ".join(reasons), raw))
                else:
                    good.append(_Row(start, values, raw))
                if len(good) + len(bad) >= self.batch_size:
                    pipeline.put(good, bad, end, self.handle.tell())
                    good, bad = [], []
            if good or bad:
                pipeline.put(good, bad, end, self.handle.tell())
        with transaction.atomic():
            self._claim(self.job.committed_line)
            ImportJob.objects.filter(pk=self.job.pk).update(
                status=ImportJob.Status.DONE, finished_at=timezone.now(), processed_bytes=self.job.total_bytes
            )

    def _claim(self, end_line):
        """Take the lines up to ``end_line`` for this run: the job row stays locked until the batch commits."""
        claimed = ImportJob.objects.filter(
            pk=self.job.pk, status=ImportJob.Status.RUNNING, committed_line=self.job.committed_line
        ).update(committed_line=end_line)
        if not claimed:
            raise ClaimLost()

    def _commit(self, good, bad, end_line, position):
        """Write one batch and the job's progress in one transaction, then promote leads that reached the threshold."""
        try:
            ready = self._write_batch(good, bad, end_line, position, careful=False)
        except IntegrityError:
            # Someone added one of these e-mail addresses since the lookup: insert
            # the new leads one at a time so that only the conflicting rows fail.
            ready = self._write_batch(good, bad, end_line, position, careful=True)
        self.job.committed_line = end_line
        reset_queries()  # with DEBUG on, a million-row import would otherwise keep every statement
        if self.progress is not None:
            self.job.refresh_from_db()
            self.progress(self.job)
        transitions.promote_if_ready(ready, now=timezone.now(), limit=self.threshold)

    def _write_batch(self, good, bad, end_line, position, *, careful):
        """One transaction: claim the lines, create and update leads (with their events and scores), the bad rows, the counters."""
        job, now, rows, bad = self.job, timezone.now(), len(good) + len(bad), list(bad)
        with transaction.atomic():
            self._claim(end_line)
            # Not waiting for the WAL flush at each batch's commit: a database crash may
            # lose the last batches whole, with their progress, and a rerun redoes them.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            existing, erased = {}, {}
            if good:
                emails = [row.values["email"].lower() for row in good]
                leads = Lead.objects.annotate(email_key=Lower("email")).filter(email_key__in=emails)
                existing = dict(leads.values_list("email_key", "pk"))
                # An erased person's address is a bad row, not a new lead (transitions refuse it too).
                erased = privacy.erased_on(emails)
            new, changes = [], {}
            for row in good:
                email = row.values["email"].lower()
                if email in erased:
                    bad.append((row.line, privacy.refusal(row.values["email"], erased[email]), row.raw))
                    continue
                lead_id = existing.get(email)
                if lead_id is not None:
                    fields = {field: value for field, value in row.values.items() if field != "email"}
                    changes[lead_id] = (fields, self._provenance(row))
                elif "name" in row.values:
                    new.append(row)
                else:
                    bad.append((row.line, gettext("name is missing (a new lead needs one)"), row.raw))
            created, ready = self._create(new, bad, now, careful=careful)
            updated, more_ready = transitions.update_leads(
                changes, by=job.created_by, now=now, rules=self.rules, limit=self.threshold
            )
            insert_rows(
                ImportRowError, ROW_ERROR_FIELDS, [(job.pk, line, reason, _trim(raw)) for line, reason, raw in bad]
            )
            changed = {lead.pk for lead in updated}
            fates = [(job.pk, line, Fate.CREATED, lead_id, "") for line, lead_id in created]
            fates += [
                (job.pk, provenance["line"], Fate.UPDATED if lead_id in changed else Fate.UNCHANGED, lead_id, "")
                for lead_id, (_fields, provenance) in changes.items()
            ]
            fates += [(job.pk, line, Fate.BAD, None, reason) for line, reason, _raw in bad]
            insert_rows(ImportRowFate, ROW_FATE_FIELDS, fates)
            ImportJob.objects.filter(pk=job.pk).update(
                processed_bytes=min(position, job.total_bytes) if job.total_bytes else position,
                rows_seen=F("rows_seen") + rows,
                created_count=F("created_count") + len(created),
                updated_count=F("updated_count") + len(updated),
                failed_count=F("failed_count") + len(bad),
            )
        return ready + more_ready

    def _provenance(self, row):
        return {"import": self.job.pk, "line": row.line}

    def _create(self, rows, bad, now, *, careful):
        """Insert the new leads (``transitions.create_leads``); returns ((line, lead id) of each, the ids that reached the threshold).

        In careful mode the leads go in one at a time and a row whose e-mail address
        exists by now is reported instead.
        """
        create = functools.partial(
            transitions.create_leads, by=self.job.created_by, now=now, rules=self.rules, limit=self.threshold
        )
        if not careful:
            ids, ready = create([(row.values, self._provenance(row)) for row in rows])
            return [(row.line, lead_id) for row, lead_id in zip(rows, ids, strict=True)], ready
        created, ready = [], []
        for row in rows:
            try:
                with transaction.atomic():
                    (lead_id,), row_ready = create([(row.values, self._provenance(row))])
            except IntegrityError:
                reason = gettext(
                    "a lead with this e-mail address was added during the import; import the row again to update it"
                )
                bad.append((row.line, reason, row.raw))
                continue
            created.append((row.line, lead_id))
            ready += row_ready
        return created, ready


def _trim(raw):
    raw = raw.rstrip("\r\n").replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
    return raw if len(raw) <= MAX_RAW_CHARS else raw[:MAX_RAW_CHARS] + "…"
