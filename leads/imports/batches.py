"""Good rows into new and updated leads, one transaction a batch, with their events, scores and promotions."""

import logging
import operator
from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, connection, reset_queries, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from .. import scoring, transitions
from ..models import (
    Activity,
    EventKind,
    ImportJob,
    ImportRowError,
    Lead,
    LeadEvent,
    LeadRuleScore,
    ScoringRule,
    Stage,
)
from . import cleaning, reading, writing

log = logging.getLogger(__name__)

# What a bad row keeps of its text for the error report (see also reading.MAX_RAW_LINES).
MAX_RAW_CHARS = 2000
LEAD_DEFAULTS = {field: Lead._meta.get_field(field).get_default() for field in writing.LEAD_INSERT_FIELDS}
EVENT_FIELDS = ("lead_id", "kind", "at", "actor_id", "from_stage", "to_stage", "owner_id", "episode", "note", "payload")
SHARE_FIELDS = ("lead_id", "rule_id", "matches", "points")
ROW_ERROR_FIELDS = ("job_id", "line", "reason", "raw")


class ClaimLost(Exception):
    """Another run of the same job committed the batch this run was about to commit."""


@dataclass
class _Row:
    """A row of the file that passed validation: its first line, field values and text."""

    line: int
    values: dict
    raw: str
    shares: dict  # what the scoring rules give it as a new lead: {rule id: (matches, points)}


class _NewLead:
    """A lead about to be inserted, as the scoring rules read it."""

    email = job_title = company = country = source = campaign = ""
    company_size = None

    def __init__(self, values):
        self.__dict__.update(values)


class Importer:
    """Reads a job's file and writes its rows in batches; ``run`` raises ClaimLost when another run took a batch first."""

    def __init__(self, job, handle, *, batch_size, progress):
        self.job = job
        self.handle = handle
        self.batch_size = batch_size
        self.progress = progress
        self.seen = cleaning.SeenEmails()
        self.rules = scoring.active_rules()
        self.behaviour_kinds = {r.activity_kind for r in self.rules if r.category == ScoringRule.Category.BEHAVIOUR}
        self.threshold = scoring.threshold()

    def run(self):
        header, delimiter, skip = reading.sniff(self.handle)
        records = reading.CsvSource(self.handle, delimiter).records()
        for _record in range(skip):
            next(records)  # the header (and a "sep=" line), read above
        plan = reading.column_plan(header, self.job.mapping or reading.suggest_mapping(header))
        width = len(header)
        resume_after = self.job.committed_line
        rules = self.rules
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
            writing.insert_rows(LeadEvent, EVENT_FIELDS, events)
            writing.update_leads(changed.values(), now)
            writing.insert_rows(
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
        insert_values = operator.itemgetter(*writing.LEAD_INSERT_FIELDS)
        records = [
            insert_values({**base, **row.values, "score": sum(points for _matches, points in row.shares.values())})
            for row in rows
        ]
        if careful:
            ids = []
            for row, record in zip(rows, records, strict=True):
                try:
                    with transaction.atomic():
                        ids.append(Lead.objects.create(**dict(zip(writing.LEAD_INSERT_FIELDS, record, strict=True))).pk)
                except IntegrityError:
                    ids.append(None)
                    reason = (
                        "a lead with this e-mail address was added during the import; import the row again to update it"
                    )
                    bad.append((row.line, reason, row.raw))
        else:
            ids = writing.insert_leads(records)
        score_at = writing.LEAD_INSERT_FIELDS.index("score")
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
        writing.insert_rows(LeadRuleScore, SHARE_FIELDS, share_rows)
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
            writing.insert_rows(LeadRuleScore, SHARE_FIELDS, rows)
        return events


def _score_event(lead_id, stage, owner_id, episode, previous, score, now):
    payload = {"from": previous, "to": score, "cause": "import"}
    return (lead_id, EventKind.SCORE_CHANGED, now, None, stage, stage, owner_id, episode, "", payload)


def _trim(raw):
    raw = raw.rstrip("\r\n").replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
    return raw if len(raw) <= MAX_RAW_CHARS else raw[:MAX_RAW_CHARS] + "…"
