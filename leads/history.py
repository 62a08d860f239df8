"""The one builder of history rows, and their writer.

Every ``LeadEvent`` is made by ``event()``: a verb in ``transitions``, a score
change in ``scoring``, an import batch, a job. The owner and episode come from
the lead as it is after the change, so per-rep and per-episode reports read
them straight from the row. ``write()`` stores many rows at once.
"""

import json
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection

from .models import LeadEvent
from .sql import insert_rows

# The columns a history row is written with (the id comes from its sequence).
FIELDS = ("lead_id", "kind", "at", "actor_id", "from_stage", "to_stage", "owner_id", "episode", "reason_id", "note")
FIELDS += ("payload",)


# The channel the current action came through ("slack"), recorded in the payload of
# every row it writes; empty for the web pages and the API.
_via = ContextVar("history_via", default="")


@contextmanager
def via(channel):
    """Record ``channel`` as where the actions inside this block came from (``payload["via"]``); raises nothing."""
    token = _via.set(channel)
    try:
        yield
    finally:
        _via.reset(token)


def event(lead, kind, *, by, now, from_stage="", to_stage="", reason=None, note="", payload=None):
    """Return the unsaved history row of ``kind`` for ``lead`` (as it is after the change) at ``now``; raises nothing."""
    payload = payload or {}
    if _via.get():
        payload = {**payload, "via": _via.get()}
    return LeadEvent(
        lead_id=lead.pk,
        kind=kind,
        at=now,
        actor_id=by.pk if by is not None else None,
        from_stage=from_stage,
        to_stage=to_stage,
        owner_id=lead.owner_id,
        episode=lead.mql_episode,
        reason_id=reason.pk if reason is not None else None,
        note=note,
        payload=payload,
    )


def record(lead, kind, **fields):
    """Build and save one history row (see ``event``); returns it, raises nothing."""
    row = event(lead, kind, **fields)
    row.save(force_insert=True)
    return row


def write(events):
    """Insert many history rows at once (COPY); returns nothing, raises nothing."""
    insert_rows(LeadEvent, FIELDS, [tuple(getattr(row, field) for field in FIELDS) for row in events])


def insert_from(source, kind, *, by, now, payload):
    """Return (SQL, params) of an INSERT of one ``kind`` row per row of ``source``, as ``event`` builds them; raises nothing.

    The set-wise form of ``event`` + ``write`` for a writer that has its changes
    in a statement (a CTE ``source`` with ``lead_id, stage, owner_id,
    mql_episode`` as they are after the change): from and to stage are the
    lead's stage, and ``payload`` is a jsonb expression over ``source``'s
    columns to which the channel (``via``) is added as ``event`` adds it. Rows
    are inserted in lead order, so their ids follow the leads as ``write`` does.
    """
    sql = f"""
    INSERT INTO {LeadEvent._meta.db_table} ({", ".join(FIELDS)})
    SELECT lead_id, %(history_kind)s, %(history_at)s, %(history_actor)s, stage, stage, owner_id, mql_episode,
           NULL, '', ({payload}) || %(history_via)s::jsonb
      FROM {source}
     ORDER BY lead_id
    """
    via_payload = {"via": _via.get()} if _via.get() else {}
    params = {
        "history_kind": kind,
        "history_at": now,
        "history_actor": by.pk if by is not None else None,
        "history_via": json.dumps(via_payload),
    }
    return sql, params


# The one UPDATE the history permits (migration 0026): the database computes the redacted
# form with the same functions its guard checks against. The erased event itself stays.
_REDACT = """
UPDATE leads_leadevent
   SET note = leads_redacted_text(note), payload = leads_redacted_payload(payload)
 WHERE lead_id = %s AND kind <> 'erased'
   AND (note IS DISTINCT FROM leads_redacted_text(note) OR payload IS DISTINCT FROM leads_redacted_payload(payload))
"""


def redact(lead):
    """Redact the notes and personal payload values of ``lead``'s history, after its ``erased`` event was recorded; returns how many rows changed, raises DatabaseError without that event."""
    with connection.cursor() as cursor:
        cursor.execute(_REDACT, [lead.pk])
        return cursor.rowcount
