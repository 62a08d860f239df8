"""Set-wise writes the ORM has no fast form for: COPY for many new rows, one UPDATE for many values.

Used by the writers of many rows at once (history, scores, the set-wise lead
verbs); each takes plain tuples so a batch of thousands costs a few statements.
"""

import json

from django.db import connection
from django.db.models import JSONField


def _quote(name):
    return connection.ops.quote_name(name)


def insert_rows(model, fields, rows):
    """Insert ``rows`` (tuples of ``fields`` values) into ``model``'s table with COPY; raises IntegrityError on a conflict."""
    if not rows:
        return
    columns = [model._meta.get_field(field) for field in fields]
    json_at = [index for index, column in enumerate(columns) if isinstance(column, JSONField)]
    names = ", ".join(_quote(column.column) for column in columns)
    sql = f"COPY {_quote(model._meta.db_table)} ({names}) FROM STDIN"
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            if json_at:
                row = list(row)
                for index in json_at:
                    row[index] = json.dumps(row[index])
            copy.write_row(row)


def insert_rows_returning_ids(model, fields, rows):
    """Insert ``rows`` like ``insert_rows`` and return their new ids, in order; raises IntegrityError on a conflict."""
    if not rows:
        return []
    with connection.cursor() as cursor:
        # COPY returns nothing: take the ids from the table's sequence first.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, len(rows)],
        )
        ids = [row_id for (row_id,) in cursor.fetchall()]
    insert_rows(model, ("id", *fields), [(row_id, *row) for row_id, row in zip(ids, rows, strict=True)])
    return ids


def update_rows(model, fields, rows, *, bump_version=False):
    """Set ``fields`` of many rows in one UPDATE: ``rows`` are ``(id, value, ...)`` tuples; raises nothing.

    ``bump_version`` adds one to each row's ``version``: callers hold the rows'
    locks, so that is exactly one more than what they read.
    """
    if not rows:
        return
    table = _quote(model._meta.db_table)
    columns = [model._meta.get_field(field) for field in fields]
    types = [column.db_type(connection) for column in columns]
    assignments = [f"{_quote(c.column)} = v.{_quote(c.column)}" for c in columns]
    if bump_version:
        assignments.append(f"{_quote('version')} = {table}.{_quote('version')} + 1")
    placeholders = ", ".join(f"%s::{db_type}" for db_type in types)
    values = ", ".join(f"(%s::bigint, {placeholders})" for _ in rows)
    names = ", ".join(_quote(c.column) for c in columns)
    sql = (
        f"UPDATE {table} SET {', '.join(assignments)} FROM (VALUES {values}) AS v(id, {names}) WHERE {table}.id = v.id"
    )
    params = []
    for row_id, *row_values in rows:
        params.append(row_id)
        params.extend(
            column.get_db_prep_save(value, connection) for column, value in zip(columns, row_values, strict=True)
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
