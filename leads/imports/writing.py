"""The import's set-wise writes: rows by COPY, and the writer thread."""

import contextlib
import json
import queue
import threading
from collections import defaultdict

from django.db import connection
from django.db.models import JSONField

from ..models import Lead

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


class Pipeline:
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


def insert_leads(records):
    """Insert lead rows (values in LEAD_INSERT_FIELDS order) and return their ids, in order."""
    if not records:
        return []
    with connection.cursor() as cursor:
        # COPY returns nothing: take the ids from the table's sequence first.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Lead._meta.db_table, len(records)],
        )
        ids = [lead_id for (lead_id,) in cursor.fetchall()]
    insert_rows(
        Lead, ("id", *LEAD_INSERT_FIELDS), [(lead_id, *record) for lead_id, record in zip(ids, records, strict=True)]
    )
    return ids


def insert_rows(model, fields, rows):
    """Insert ``rows`` (tuples of ``fields`` values) into ``model``'s table with COPY."""
    if not rows:
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


def update_leads(changed, now):
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
