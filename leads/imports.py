"""Import leads from a CSV file: map the columns, validate every row, import the good ones in batches.

The upload page and ``manage.py import_leads`` use the same functions:

- ``read_header(fileobj)`` and ``suggest_mapping(header)``: the mapping step;
- ``start_import(uploaded_file, by=..., mapping=...)``: check and store the file, queue the job;
- ``run_import(job_id)``: the work of ``tasks.import_leads_task``; progress is on the
  ImportJob (``percent``, ``rows_seen``, ``created_count``, ``updated_count``,
  ``failed_count``; rows that changed nothing are ``rows_seen`` minus the other three);
- ``error_report_csv(job)``: every bad row with its line and reason, as CSV for a download.

What a user can rely on:

- Text: UTF-8, with or without a byte-order mark. Each line is decoded on its own, so a
  row whose bytes are not UTF-8 (a legacy Windows-1252 export, a damaged line) is
  reported as a bad row and the rest of the file imports. A header that is not UTF-8
  refuses the whole file. Comma, semicolon, tab or pipe separate the columns, whichever
  the header uses most (Excel writes semicolons in many European locales).
- Identity is the e-mail address, case-insensitively. A row whose e-mail is already in
  Funnel updates that lead: non-empty cells overwrite its fields, empty cells change
  nothing, and its stage, owner and history stay as they are (a changed score is
  recorded like any other). A new e-mail creates a lead in stage ``lead`` with a
  ``created`` event, scored at once; a lead that reaches the MQL threshold is promoted
  after its batch is committed.
- Within the file the first row with an e-mail address counts; a later row with the
  same address, in any case, is reported as a duplicate of that line.
- Line numbers are lines of the file (the header is line 1); a row with several
  problems is reported once with all of them.
- Each batch of rows (new leads, updates, their events and scores, its bad rows and
  the job's progress) is one transaction, so a crash never leaves half a batch; a job
  run again continues after the last committed batch, and two runs of one job at once
  import each row once.
"""

import contextlib
import csv
import functools
import json
import logging
import operator
import os
import queue
import re
import threading
from array import array
from collections import defaultdict
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.validators import EmailValidator
from django.db import IntegrityError, connection, reset_queries, transaction
from django.db.models import F, JSONField, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from . import access, scoring, tasks, transitions
from .models import (
    Activity,
    EventKind,
    ImportJob,
    ImportRowError,
    Lead,
    LeadEvent,
    LeadRuleScore,
    Priority,
    ScoringRule,
    Stage,
)

log = logging.getLogger(__name__)

BATCH_SIZE = 2000

# The lead fields a file may fill, with the header names (compared without case,
# spaces or punctuation) that map to them automatically.
LEAD_COLUMNS = {
    "name": ("name", "full name", "contact name", "lead name"),
    "email": ("email", "e-mail", "email address", "e-mail address", "mail", "work email", "business email"),
    "phone": ("phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "business phone"),
    "company": ("company", "company name", "organization", "organisation", "account", "account name", "employer"),
    "job_title": ("job title", "title", "position", "role", "job"),
    "company_size": ("company size", "employees", "number of employees", "employee count", "headcount", "size"),
    "country": ("country", "country code", "country iso"),
    "source": ("source", "lead source"),
    "campaign": ("campaign", "campaign name", "utm campaign"),
    "priority": ("priority",),
}
# Parts of a name, joined with a space into ``name`` when the file has no name column.
NAME_PART_COLUMNS = {
    "first_name": ("first name", "firstname", "given name", "forename", "first"),
    "last_name": ("last name", "lastname", "surname", "family name", "last"),
}
FIELD_LABELS = {
    "name": "name",
    "email": "e-mail address",
    "phone": "phone",
    "company": "company",
    "job_title": "job title",
    "company_size": "company size",
    "country": "country",
    "source": "source",
    "campaign": "campaign",
    "priority": "priority",
    "first_name": "first name",
    "last_name": "last name",
}
# For the mapping form: what each column may become ("" leaves it out).
MAPPING_CHOICES = [("", "(don't import)")] + [
    (field, FIELD_LABELS[field].capitalize()) for field in (*LEAD_COLUMNS, *NAME_PART_COLUMNS)
]

MAX_LENGTHS = {
    field: Lead._meta.get_field(field).max_length
    for field in ("name", "email", "phone", "company", "job_title", "source", "campaign")
}
SHORTEST_LIMIT = min(MAX_LENGTHS.values())
MAX_COMPANY_SIZE = 10_000_000  # as the API
PRIORITIES = {choice.value: choice.value for choice in Priority} | {
    choice.label.lower(): choice.value for choice in Priority
}

# The header is looked for in the first bytes of the file; one line may not exceed MAX_LINE_BYTES.
SAMPLE_BYTES = 64 * 1024
MAX_LINE_BYTES = 1024 * 1024
# What a bad row keeps of its text for the error report.
MAX_RAW_CHARS = 2000
MAX_RAW_LINES = 20
NOT_UTF8 = "not valid UTF-8 text (save the file as CSV UTF-8)"
DELIMITERS = (",", ";", "\t", "|")
BINARY_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook or another zip archive",
    b"\xd0\xcf\x11\xe0": "an old-style Excel workbook",
    b"%PDF": "a PDF document",
}


class _CompiledEmailValidator(EmailValidator):
    """Django's e-mail validation with its expressions compiled up front instead of behind a lazy proxy."""

    user_regex = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)
    domain_regex = re.compile(EmailValidator.domain_regex.pattern, EmailValidator.domain_regex.flags)
    literal_regex = re.compile(EmailValidator.literal_regex.pattern, EmailValidator.literal_regex.flags)


@functools.lru_cache(maxsize=50_000)
def _domain_is_valid(domain):
    return _CompiledEmailValidator().validate_domain_part(domain)


class _EmailValidator(_CompiledEmailValidator):
    """The same validation, remembering its verdict on each domain: a file repeats a few domains many times."""

    def validate_domain_part(self, domain_part):
        return _domain_is_valid(domain_part)


validate_email = _EmailValidator()


class ImportRefused(Exception):
    """A file or request the import cannot accept; the message says why and is meant for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class _ClaimLost(Exception):
    """Another run of the same job committed the batch this run was about to commit."""


def _normal(text):
    return re.sub(r"[^0-9a-z]+", "", text.casefold())


_ALIASES = {
    _normal(alias): field
    for field, aliases in (*LEAD_COLUMNS.items(), *NAME_PART_COLUMNS.items())
    for alias in (field, *aliases)
}


# The mapping step


def read_header(fileobj):
    """Return the column names of a CSV file's header row and rewind the file; raises ImportRefused if the file has no readable header."""
    return _sniff(fileobj)[0]


def suggest_mapping(header):
    """Return ``{column: field}`` for the columns whose names match a lead field; raises nothing.

    The first column matching a field wins; first and last name are only used when
    there is no name column.
    """
    mapping = {}
    taken = set()
    for column in header:
        field = _ALIASES.get(_normal(column))
        if field and field not in taken and column not in mapping:
            mapping[column] = field
            taken.add(field)
    if "name" in taken:
        mapping = {column: field for column, field in mapping.items() if field not in NAME_PART_COLUMNS}
    return mapping


def _sniff(fileobj):
    """Read the start of ``fileobj`` and return (header, delimiter, records up to the header), rewinding it; raises ImportRefused."""
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    sample = fileobj.read(SAMPLE_BYTES) or b""
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    if isinstance(sample, str):
        sample = sample.encode("utf-8")
    if not sample.strip():
        raise ImportRefused("The file is empty.")
    for signature, kind in BINARY_SIGNATURES.items():
        if sample.startswith(signature):
            raise ImportRefused(f"This is {kind}, not a CSV file. Save it as CSV (UTF-8) and upload that.")
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRefused(
            "The file is UTF-16 text. Save it as CSV UTF-8 (in Excel: Save as, CSV UTF-8) and upload that."
        )
    sample = sample.removeprefix(b"\xef\xbb\xbf")
    first, newline, rest = sample.partition(b"\n")
    skip = 1
    # Excel may write its separator on a line of its own before the header: "sep=;".
    declared = re.fullmatch(rb"sep=(.)\s*", first)
    if declared:
        first, newline, rest = rest.partition(b"\n")
        skip = 2
    if not newline and len(sample) == SAMPLE_BYTES:
        raise ImportRefused(f"The first line is longer than {SAMPLE_BYTES // 1024} KB: this is not a CSV header row.")
    if b"\x00" in first:
        raise ImportRefused("This is not a CSV text file (it contains binary data).")
    if b"\r" in first.rstrip(b"\r"):
        raise ImportRefused(
            "The lines of this file end in CR only (old Mac style): save it as CSV UTF-8 and upload that."
        )
    try:
        text = first.decode("utf-8")
        delimiter = declared.group(1).decode("utf-8") if declared else _delimiter(text)
    except UnicodeDecodeError:
        raise ImportRefused(
            "The header row is not UTF-8 text. Save the file as CSV UTF-8 (in Excel: Save as, CSV UTF-8) and upload that."
        ) from None
    try:
        header = next(csv.reader([text], delimiter=delimiter), [])
    except (csv.Error, TypeError) as exc:
        raise ImportRefused(f"The header row cannot be read as CSV ({exc}).") from None
    header = [cell.strip() for cell in header]
    if not any(header):
        raise ImportRefused("The first line is empty: the file needs a header row naming its columns, e.g. name,email.")
    return header, delimiter, skip


def _delimiter(line):
    unquoted = re.sub(r'"[^"]*"', "", line)
    counts = {delimiter: unquoted.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _plan(header, mapping):
    """Check ``mapping`` against ``header``; return [(column index, field)]; raises ImportRefused."""
    position = {}
    for index, column in enumerate(header):
        position.setdefault(column, index)
    plan, fields = [], {}
    for column, field in mapping.items():
        if not field:
            continue
        if column not in position:
            raise ImportRefused(f"The file has no column {column!r} to import as {FIELD_LABELS.get(field, field)}.")
        if field not in FIELD_LABELS:
            raise ImportRefused(f"{field!r} is not a lead field that can be imported (column {column!r}).")
        if field in fields:
            raise ImportRefused(
                f"Two columns are mapped to {FIELD_LABELS[field]}: {fields[field]!r} and {column!r}. Choose one."
            )
        fields[field] = column
        plan.append((position[column], field))
    if "email" not in fields:
        looks_like_data = next((cell for cell in header if "@" in cell), None)
        if looks_like_data:
            raise ImportRefused(
                f"The first line looks like data, not a header (it contains {looks_like_data!r}): "
                "add a header row naming the columns, e.g. name,email."
            )
        columns = ", ".join(repr(column) for column in header if column) or "none"
        raise ImportRefused(f"No column holds the e-mail address (the file's columns: {columns}). Map one to e-mail.")
    return sorted(plan)


# Starting an import


def start_import(uploaded_file, *, by, mapping=None, queue=True):
    """Check and store an uploaded CSV file and queue its import (after commit); returns the ImportJob, raises ImportRefused.

    ``by`` None is the system (the management command without --user). ``mapping``
    is ``{column: field}``; None maps the columns by their names. ``queue=False``
    stores the job without handing it to the worker (the caller runs it).
    """
    if by is not None and not access.can_create_leads(by):
        raise ImportRefused("Only marketers and admins may import leads.")
    if not isinstance(uploaded_file, File):
        uploaded_file = File(uploaded_file, name=getattr(uploaded_file, "name", None) or "leads.csv")
    size = uploaded_file.size or 0
    if not size:
        raise ImportRefused("The file is empty.")
    limit = settings.FUNNEL_IMPORT_MAX_BYTES
    if size > limit:
        raise ImportRefused(f"The file is {_megabytes(size)}; files of up to {_megabytes(limit)} can be imported.")
    header = _sniff(uploaded_file)[0]
    if mapping is None:
        mapping = suggest_mapping(header)
    plan = _plan(header, mapping)
    original_name = os.path.basename(uploaded_file.name or "") or "leads.csv"
    job = ImportJob(
        original_name=original_name[:255],
        mapping={header[index]: field for index, field in plan},
        created_by=by,
        total_bytes=size,
    )
    with transaction.atomic():
        job.file.save(original_name, uploaded_file, save=False)
        job.save()
        if queue:
            transaction.on_commit(lambda: tasks.import_leads_task.delay(job.pk))
    return job


def _megabytes(size):
    return f"{size / 1024 / 1024:.1f} MB"


# Running an import


def run_import(job_id, *, batch_size=BATCH_SIZE, progress=None):
    """Import the job's file in batches and return the ImportJob; raises ImportRefused for an unknown job, and re-raises what stopped a run after marking the job failed.

    A queued or failed job is claimed with a conditional UPDATE; a running one is
    resumed after its last committed line (a worker died, or another run is busy:
    every batch claims its lines, so each row is imported once). A Celery soft time
    limit stops the run between batches and queues a new task to continue it.
    ``progress(job)`` is called after every committed batch.
    """
    now = timezone.now()
    ImportJob.objects.filter(pk=job_id, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.FAILED]).update(
        status=ImportJob.Status.RUNNING, started_at=Coalesce(F("started_at"), Value(now)), finished_at=None, error=""
    )
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        raise ImportRefused(f"There is no import job {job_id}.")
    if job.status != ImportJob.Status.RUNNING:
        return job
    try:
        handle = job.file.storage.open(job.file.name, "rb")
    except OSError:
        _finish(job, ImportJob.Status.FAILED, "The uploaded file is no longer available; upload it again.")
        job.refresh_from_db()
        return job
    try:
        with handle:
            _Importer(job, handle, batch_size=batch_size, progress=progress).run()
    except _ClaimLost:
        log.info("import %s: another run committed the next batch first; leaving the job to it", job.pk)
    except SoftTimeLimitExceeded:
        # The worker's time limit for one task: a fresh task continues after the last committed batch.
        log.info("import %s: the task's time limit is near; a new task continues it", job.pk)
        tasks.import_leads_task.delay(job.pk)
    except ImportRefused as exc:
        _finish(job, ImportJob.Status.FAILED, exc.message)
    except Exception as exc:
        try:
            _finish(job, ImportJob.Status.FAILED, f"The import stopped: {exc}"[:2000])
        except Exception:
            log.exception("import %s: could not record the failure", job.pk)
        raise
    job.refresh_from_db()
    return job


def _finish(job, status, error=""):
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
        status=status, error=error, finished_at=timezone.now()
    )


@dataclass
class _Row:
    """A row of the file that passed validation: its first line, field values and text."""

    line: int
    values: dict
    raw: str
    shares: dict  # what the scoring rules give it as a new lead: {rule id: (matches, points)}


UPDATABLE_FIELDS = [field for field in LEAD_COLUMNS if field != "email"]
# What a new lead is inserted with; the other columns of leads_lead are NULL.
LEAD_INSERT_FIELDS = (
    "name",
    "email",
    "phone",
    "company",
    "job_title",
    "company_size",
    "country",
    "source",
    "campaign",
    "priority",
    "stage",
    "score",
    "version",
    "mql_episode",
    "created_at",
    "updated_at",
)
LEAD_DEFAULTS = {field: Lead._meta.get_field(field).get_default() for field in LEAD_INSERT_FIELDS}
EVENT_FIELDS = ("lead_id", "kind", "at", "actor_id", "from_stage", "to_stage", "owner_id", "episode", "note", "payload")
SHARE_FIELDS = ("lead_id", "rule_id", "matches", "points")
ROW_ERROR_FIELDS = ("job_id", "line", "reason", "raw")


class _NewLead:
    """A lead about to be inserted, as the scoring rules read it."""

    email = job_title = company = country = source = campaign = ""
    company_size = None

    def __init__(self, values):
        self.__dict__.update(values)


class _Importer:
    def __init__(self, job, handle, *, batch_size, progress):
        self.job = job
        self.handle = handle
        self.batch_size = batch_size
        self.progress = progress
        self.seen = _SeenEmails()
        self.rules = scoring.active_rules()
        self.behaviour_kinds = {r.activity_kind for r in self.rules if r.category == ScoringRule.Category.BEHAVIOUR}
        self.threshold = scoring.threshold()

    def run(self):
        header, delimiter, skip = _sniff(self.handle)
        records = _CsvSource(self.handle, delimiter).records()
        for _record in range(skip):
            next(records)  # the header (and a "sep=" line), read above
        plan = _plan(header, self.job.mapping or suggest_mapping(header))
        width = len(header)
        resume_after = self.job.committed_line
        rules = self.rules
        # The database writes each batch while the next one is read, when it has a connection of its own.
        threaded = connection.vendor == "postgresql" and not connection.in_atomic_block
        good, bad = [], []
        with _Pipeline(self._commit, threaded=threaded) as pipeline:
            for start, end, cells, problem, raw in records:
                if problem is None and not "".join(cells).strip():
                    continue  # a blank line
                values, reasons = _clean(cells, plan, width, problem)
                if values is not None:
                    first = self.seen.first_line(values["email"].lower(), start)
                    if first is not None:
                        values = None
                        reasons.append(f"duplicate of line {first} (same e-mail address)")
                elif end > start and reasons[0].startswith("expected"):
                    reasons.append(f"a quote that is never closed may have joined lines {start}-{end}")
                if end <= resume_after:
                    continue  # committed by an earlier run: read again only to learn its e-mail addresses
                if values is None:
                    bad.append((start, "; ".join(reasons), raw))
                else:
                    shares = scoring.contributions(_NewLead(values), (), rules) if rules else {}
                    good.append(_Row(start, values, raw, shares))
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
            raise _ClaimLost()

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
        for lead in Lead.objects.filter(pk__in=ready, stage=Stage.LEAD):
            try:
                transitions.promote_to_mql(lead, by=None, note=f"Score {lead.score} reached {self.threshold}.")
            except transitions.LeadError as exc:
                log.warning("lead %s reached the threshold but was not promoted: %s", lead.pk, exc.message)

    def _write_batch(self, good, bad, end_line, position, *, careful):
        """One transaction: claim the lines, create and update leads, their events and scores, the bad rows, the counters."""
        job, now, rows, bad = self.job, timezone.now(), len(good) + len(bad), list(bad)
        with transaction.atomic():
            self._claim(end_line)
            if connection.vendor == "postgresql":
                # Not waiting for the WAL flush at each batch's commit: a database crash may
                # lose the last batches whole, with their progress, and a rerun redoes them.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            existing = {}
            if good:
                emails = [row.values["email"].lower() for row in good]
                leads = Lead.objects.select_for_update().annotate(email_key=Lower("email"))
                existing = {lead.email_key: lead for lead in leads.filter(email_key__in=emails).order_by("pk")}
            new, changed, updates = [], {}, []
            for row in good:
                lead = existing.get(row.values["email"].lower())
                if lead is None:
                    if "name" in row.values:
                        new.append(row)
                    else:
                        bad.append((row.line, "name is missing (a new lead needs one)", row.raw))
                    continue
                before = {}
                for field, value in row.values.items():
                    if field != "email" and getattr(lead, field) != value:
                        before[field] = [getattr(lead, field), value]
                        setattr(lead, field, value)
                        changed.setdefault(lead.pk, (lead, set()))[1].add(field)
                if before:
                    updates.append((lead, before, row.line))
            created, events = self._create(new, bad, now, careful=careful)
            # Every change is an event: which fields the import changed, from what to what.
            events += [
                (
                    lead.pk,
                    EventKind.UPDATED,
                    now,
                    job.created_by_id,
                    lead.stage,
                    lead.stage,
                    lead.owner_id,
                    lead.mql_episode,
                    "",
                    {"fields": before, "import": job.pk, "line": line},
                )
                for lead, before, line in updates
            ]
            events += self._rescore([lead for lead, _fields in changed.values()], now)
            _insert_rows(LeadEvent, EVENT_FIELDS, events)
            _update_leads(changed.values(), now)
            _insert_rows(
                ImportRowError, ROW_ERROR_FIELDS, [(job.pk, line, reason, _trim(raw)) for line, reason, raw in bad]
            )
            ImportJob.objects.filter(pk=job.pk).update(
                processed_bytes=min(position, job.total_bytes) if job.total_bytes else position,
                rows_seen=F("rows_seen") + rows,
                created_count=F("created_count") + len(created),
                updated_count=F("updated_count") + len(changed),
                failed_count=F("failed_count") + len(bad),
            )
        ready = [lead_id for lead_id, score in created if score >= self.threshold]
        ready += [pk for pk, (lead, _f) in changed.items() if lead.stage == Stage.LEAD and lead.score >= self.threshold]
        return ready

    def _create(self, rows, bad, now, *, careful):
        """Score and insert new leads; return [(id, score)] and their ``created`` and score events.

        In careful mode the leads go in one at a time and a row whose e-mail address
        exists by now is reported instead.
        """
        base = {**LEAD_DEFAULTS, "created_at": now, "updated_at": now}
        insert_values = operator.itemgetter(*LEAD_INSERT_FIELDS)
        records = [
            insert_values({**base, **row.values, "score": sum(points for _matches, points in row.shares.values())})
            for row in rows
        ]
        if careful:
            ids = []
            for row, record in zip(rows, records, strict=True):
                try:
                    with transaction.atomic():
                        ids.append(Lead.objects.create(**dict(zip(LEAD_INSERT_FIELDS, record, strict=True))).pk)
                except IntegrityError:
                    ids.append(None)
                    reason = (
                        "a lead with this e-mail address was added during the import; import the row again to update it"
                    )
                    bad.append((row.line, reason, row.raw))
        else:
            ids = _insert_leads(records)
        score_at = LEAD_INSERT_FIELDS.index("score")
        actor, job_id = self.job.created_by_id, self.job.pk
        created, events, score_events, share_rows = [], [], [], []
        for lead_id, row, record in zip(ids, rows, records, strict=True):
            if lead_id is None:
                continue
            score = record[score_at]
            created.append((lead_id, score))
            payload = {"source": row.values.get("source", ""), "import": job_id, "line": row.line}
            events.append((lead_id, EventKind.CREATED, now, actor, "", Stage.LEAD, None, 0, "", payload))
            if score:
                score_events.append(_score_event(lead_id, Stage.LEAD, None, 0, 0, score, now))
            share_rows.extend((lead_id, rule_id, matches, points) for rule_id, (matches, points) in row.shares.items())
        _insert_rows(LeadRuleScore, SHARE_FIELDS, share_rows)
        return created, events + score_events

    def _rescore(self, leads, now):
        """Rescore updated leads set-wise (their activities count too); return their score events."""
        if not leads:
            return []
        ids = [lead.pk for lead in leads]
        activities = defaultdict(list)
        if self.behaviour_kinds:
            for activity in Activity.objects.filter(lead_id__in=ids, kind__in=self.behaviour_kinds).only(
                "lead_id", "kind", "url"
            ):
                activities[activity.lead_id].append(activity)
        stored = defaultdict(dict)
        for share in LeadRuleScore.objects.filter(lead_id__in=ids):
            stored[share.lead_id][share.rule_id] = (share.matches, share.points)
        stale, rows, events = [], [], []
        for lead in leads:
            shares = scoring.contributions(lead, activities[lead.pk], self.rules)
            if shares != stored[lead.pk]:
                stale.append(lead.pk)
                rows.extend((lead.pk, rule_id, matches, points) for rule_id, (matches, points) in shares.items())
            score = sum(points for _matches, points in shares.values())
            if score != lead.score:
                events.append(
                    _score_event(lead.pk, lead.stage, lead.owner_id, lead.mql_episode, lead.score, score, now)
                )
                lead.score = score
        if stale:
            LeadRuleScore.objects.filter(lead_id__in=stale).delete()
            _insert_rows(LeadRuleScore, SHARE_FIELDS, rows)
        return events


class _Pipeline:
    """Hands batches to ``commit`` in order: in a thread of its own when ``threaded``, at most one batch ahead.

    The thread has its own database connection, so the file is read and checked
    while PostgreSQL writes the previous batch. An error in either thread stops both
    and is raised here.
    """

    def __init__(self, commit, *, threaded):
        self.commit = commit
        self.threaded = threaded
        self.error = None

    def __enter__(self):
        if self.threaded:
            self.queue = queue.Queue(maxsize=1)
            self.thread = threading.Thread(target=self._work, name="import-writer", daemon=True)
            self.thread.start()
        return self

    def put(self, *batch):
        if not self.threaded:
            self.commit(*batch)
            return
        while True:
            if self.error is not None:
                raise self.error
            try:
                self.queue.put(batch, timeout=0.2)
                return
            except queue.Full:
                continue

    def _work(self):
        try:
            while (batch := self.queue.get()) is not None:
                self.commit(*batch)
        except BaseException as exc:  # handed to the reading thread
            self.error = exc
        finally:
            connection.close()

    def __exit__(self, exc_type, exc, traceback):
        if not self.threaded:
            return False
        if exc_type is not None:
            with contextlib.suppress(queue.Empty):
                self.queue.get_nowait()  # the batch not started yet: leave it
        while self.thread.is_alive():
            try:
                self.queue.put(None, timeout=0.2)
                break
            except queue.Full:
                continue
        self.thread.join()
        if exc_type is None and self.error is not None:
            raise self.error
        return False


def _score_event(lead_id, stage, owner_id, episode, previous, score, now):
    payload = {"from": previous, "to": score, "cause": "import"}
    return (lead_id, EventKind.SCORE_CHANGED, now, None, stage, stage, owner_id, episode, "", payload)


def _insert_leads(records):
    """Insert lead rows (values in LEAD_INSERT_FIELDS order) and return their ids, in order."""
    if connection.vendor != "postgresql":
        leads = [Lead(**dict(zip(LEAD_INSERT_FIELDS, record, strict=True))) for record in records]
        Lead.objects.bulk_create(leads, batch_size=500)
        return [lead.pk for lead in leads]
    if not records:
        return []
    with connection.cursor() as cursor:
        # COPY returns nothing: take the ids from the table's sequence first.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Lead._meta.db_table, len(records)],
        )
        ids = [lead_id for (lead_id,) in cursor.fetchall()]
    _insert_rows(
        Lead, ("id", *LEAD_INSERT_FIELDS), [(lead_id, *record) for lead_id, record in zip(ids, records, strict=True)]
    )
    return ids


def _insert_rows(model, fields, rows):
    """Insert ``rows`` (tuples of ``fields`` values) into ``model``'s table: COPY on PostgreSQL, bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(fields, row, strict=True))) for row in rows], batch_size=500)
        return
    quote = connection.ops.quote_name
    columns = [model._meta.get_field(field) for field in fields]
    json_at = [index for index, column in enumerate(columns) if isinstance(column, JSONField)]
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(column.column) for column in columns)}) FROM STDIN"
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            if json_at:
                row = list(row)
                for index in json_at:
                    row[index] = json.dumps(row[index])
            copy.write_row(row)


def _update_leads(changed, now):
    """Write the changed fields of updated leads, their score and a new version: one statement per set of fields."""
    if not changed:
        return
    quote, field = connection.ops.quote_name, Lead._meta.get_field
    updated_at = field("updated_at").get_db_prep_value(now, connection)
    groups = defaultdict(list)
    for lead, fields in changed:
        groups[tuple(sorted(fields))].append(lead)
    with connection.cursor() as cursor:
        for fields, leads in groups.items():
            assignments = ", ".join(f"{quote(field(name).column)} = %s" for name in fields)
            sql = (
                f"UPDATE {quote(Lead._meta.db_table)} SET {assignments}, score = %s, version = version + 1,"
                " updated_at = %s WHERE id = %s"
            )
            cursor.executemany(
                sql, [(*(getattr(lead, name) for name in fields), lead.score, updated_at, lead.pk) for lead in leads]
            )


def _trim(raw):
    raw = raw.rstrip("\r\n").replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
    return raw if len(raw) <= MAX_RAW_CHARS else raw[:MAX_RAW_CHARS] + "…"


def _clean(cells, plan, width, problem):
    """Return (field values, []) for a good row, or (None, reasons) for a bad one."""
    if problem:
        return None, [problem]
    if len(cells) != width and (len(cells) < width or any(cell.strip() for cell in cells[width:])):
        return None, [f"expected {width} columns, got {len(cells)}"]
    values, reasons = {}, []
    for index, field in plan:
        value = cells[index].strip()
        if value:
            values[field] = value
    if "first_name" in values or "last_name" in values:
        parts = (values.pop("first_name", ""), values.pop("last_name", ""))
        if "name" not in values:
            values["name"] = " ".join(part for part in parts if part)
    for field, value in values.items():
        if len(value) > SHORTEST_LIMIT and len(value) > MAX_LENGTHS.get(field, len(value)):
            reasons.append(f"{FIELD_LABELS[field]} is longer than {MAX_LENGTHS[field]} characters")
    email = values.get("email")
    if email is None:
        reasons.append("e-mail address is missing")
    elif len(email) <= MAX_LENGTHS["email"]:
        try:
            validate_email(email)
        except ValidationError:
            reasons.append(f"{email!r} is not a valid e-mail address")
    size = values.get("company_size")
    if size is not None:
        if not (size.isdigit() and size.isascii()) and re.fullmatch(r"\d{1,3}(,\d{3})+", size):
            size = size.replace(",", "")
        if size.isdigit() and size.isascii() and int(size) <= MAX_COMPANY_SIZE:
            values["company_size"] = int(size)
        else:
            reasons.append(
                f"company size must be a whole number of employees up to {MAX_COMPANY_SIZE:,},"
                f" not {values['company_size']!r}"
            )
    country = values.get("country")
    if country is not None:
        if len(country) == 2 and country.isascii() and country.isalpha():
            values["country"] = country.upper()
        else:
            reasons.append(f"country must be a two-letter ISO code such as DE, not {country!r}")
    priority = values.get("priority")
    if priority is not None:
        if priority.lower() in PRIORITIES:
            values["priority"] = PRIORITIES[priority.lower()]
        else:
            reasons.append(f"priority must be low, normal or high, not {priority!r}")
    if reasons:
        return None, reasons
    return values, reasons


class _CsvSource:
    """The file's records, read line by line: each line is decoded as UTF-8 on its own."""

    def __init__(self, handle, delimiter):
        handle.seek(0)
        self.readline = handle.readline
        self.delimiter = delimiter
        self.lines = []  # text of the record being read (its first MAX_RAW_LINES lines)
        self.problem = None  # what was wrong with its bytes

    def _feed(self):
        readline, lines = self.readline, self.lines
        first = True
        while True:
            data = readline(MAX_LINE_BYTES)
            if not data:
                return
            if len(data) == MAX_LINE_BYTES and not data.endswith(b"\n"):
                while (rest := readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                    pass
                self.problem = self.problem or f"a line is longer than {MAX_LINE_BYTES:,} bytes"
                text = "\n"
            else:
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    text = data.decode("utf-8", "replace")
                    self.problem = self.problem or NOT_UTF8
            if first:
                first = False
                text = text.removeprefix("\ufeff")
            if len(lines) < MAX_RAW_LINES:
                lines.append(text)
            yield text

    def records(self):
        """Yield (first line, last line, cells or None, problem or None, raw text) for every record."""
        reader = csv.reader(self._feed(), delimiter=self.delimiter)
        lines = self.lines
        end = 0
        while True:
            try:
                cells, error = next(reader), None
            except StopIteration:
                return
            except csv.Error as exc:
                cells, error = None, f"could not be read as CSV ({exc})"
            start, end = end + 1, reader.line_num
            raw = lines[0] if len(lines) == 1 else "".join(lines)
            problem = self.problem or error
            if problem is None and "\x00" in raw:
                problem = "contains a NUL character"
            lines.clear()
            self.problem = None
            yield start, end, cells, problem, raw


class _SeenEmails:
    """E-mail address -> the line it was first seen on, in 24 to 48 bytes per address.

    A dict of a million address strings takes well over 100 MB; this open-addressing
    table (12 bytes a slot, at most half of them full) keeps a 64-bit hash of each
    address instead. Two different addresses of a million-row file share a hash with a
    chance of about 1 in 10^7; the second would be reported as a duplicate. The hash is
    per process: a resumed job rebuilds the table by reading the committed lines again.
    """

    def __init__(self):
        self.size = 1 << 16
        self.keys = array("q", bytes(8 * self.size))
        self.lines = array("I", bytes(4 * self.size))
        self.count = 0

    def first_line(self, email, line):
        """Return the line ``email`` was first seen on, or remember it at ``line`` and return None."""
        key = hash(email) or 1
        keys, mask = self.keys, self.size - 1
        slot = key & mask
        while True:
            found = keys[slot]
            if found == key:
                return self.lines[slot]
            if not found:
                break
            slot = (slot + 1) & mask
        keys[slot] = key
        self.lines[slot] = line
        self.count += 1
        if 2 * self.count > self.size:
            self._grow()
        return None

    def _grow(self):
        old = zip(self.keys, self.lines, strict=True)
        self.size *= 2
        keys, lines, mask = array("q", bytes(8 * self.size)), array("I", bytes(4 * self.size)), self.size - 1
        for key, line in old:
            if key:
                slot = key & mask
                while keys[slot]:
                    slot = (slot + 1) & mask
                keys[slot] = key
                lines[slot] = line
        self.keys, self.lines = keys, lines


# The error report


class _Echo:
    def write(self, value):
        return value


def error_report_csv(job):
    """Yield the job's bad rows as CSV text lines (line, reason, row), header first; raises nothing."""
    writer = csv.writer(_Echo())
    yield writer.writerow(["line", "reason", "row"])
    rows = ImportRowError.objects.filter(job=job).order_by("line", "id").values_list("line", "reason", "raw")
    for line, reason, raw in rows.iterator(chunk_size=2000):
        # A spreadsheet would run a row starting with "=" (or +, -, @) as a formula.
        yield writer.writerow([line, reason, "'" + raw if raw.startswith(("=", "+", "-", "@")) else raw])


def error_report_text(job, *, limit=10):
    """Return the first ``limit`` bad rows as "line N: reason" lines; raises nothing."""
    rows = ImportRowError.objects.filter(job=job).order_by("line", "id").values_list("line", "reason")[:limit]
    return [f"line {line}: {reason}" for line, reason in rows]
