"""The event feed: the history in a stable order, a page at a time, and the one JSON shape of an event.

Pages are keyset pages over ``(txid, id)`` behind an opaque cursor. Ids come from
a sequence when a row is written, not when its transaction commits, so a feed
ordered by id alone would let a reader pass an id whose transaction commits
later (an import batch that commits after a quicker accept) and never see it.
The feed therefore shows only events of transactions older than every
transaction of this database still running, ordered by transaction first:
whatever commits later has a higher ``txid`` than anything already shown.
The webhook bodies (``leads.webhooks``) use the same ``as_json``.
"""

import base64
import binascii

from django.db import connection
from django.utils.translation import gettext

from . import access
from .models import LeadEvent, event_type_of
from .notifications import site_url

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
SCOPE_IDS_INLINE = 5_000

_CURSOR_PREFIX = "v1:"

# Events after the cursor from transactions that no running transaction of this database
# precedes, plus the reader's own (a request that wrote events sees them, as it would
# anywhere). The horizon is the oldest transaction the snapshot saw running, leaving out
# those still running in another database of the server (they never write this history,
# and a long one elsewhere must not hold this feed back); with none, everything the
# snapshot can see. A transaction that ended since the snapshot was taken counts as
# running, whatever its database, until the next page.
_PAGE_SQL = """
SELECT event.id
  FROM leads_leadevent event,
       (SELECT COALESCE(
                   (SELECT min(running.xid::text::bigint)
                      FROM pg_snapshot_xip(pg_current_snapshot()) AS running(xid)
                     WHERE NOT EXISTS (
                           SELECT 1 FROM pg_stat_activity elsewhere
                            WHERE elsewhere.datname IS DISTINCT FROM current_database()
                              AND elsewhere.backend_xid::text = (running.xid::text::bigint %% 4294967296)::text)),
                   pg_snapshot_xmax(pg_current_snapshot())::text::bigint) AS xmin,
               pg_current_xact_id_if_assigned()::text::bigint AS own) horizon
 WHERE (event.txid, event.id) > (%s, %s)
   AND (event.txid < horizon.xmin OR event.txid = horizon.own)
   {scope}
 ORDER BY event.txid, event.id
 LIMIT %s
"""


class InvalidCursor(ValueError):
    pass


def encode_cursor(txid, event_id):
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{txid}:{event_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor):
    """Return ``(txid, id)`` of a cursor this feed gave out; raises InvalidCursor for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith(_CURSOR_PREFIX):
            raise ValueError
        txid, event_id = (int(part) for part in text[len(_CURSOR_PREFIX) :].split(":"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(gettext("This is not a cursor the event feed gave out; start without one.")) from None
    if txid < 0 or event_id < 0 or txid >= 2**63 or event_id >= 2**63:
        raise InvalidCursor(gettext("This is not a cursor the event feed gave out; start without one."))
    return txid, event_id


def _scope(visible):
    """The condition that keeps a scoped reader (rep, manager) to the events of leads they may see.

    Up to SCOPE_IDS_INLINE leads, their ids go in as an array, which PostgreSQL
    checks by hash while it walks the feed index, and whose real size lets it
    pick the better plan for a reader with few leads (their events by lead, then
    sorted). Beyond that the reader sees a large share of all leads, so the walk
    meets a visible event every few rows and a subquery does.
    """
    if not visible.query.has_filters():  # admins and marketers see every lead
        return "", []
    ids = list(visible.order_by().values_list("id", flat=True)[: SCOPE_IDS_INLINE + 1])
    if len(ids) <= SCOPE_IDS_INLINE:
        return "AND event.lead_id = ANY (%s::bigint[])", [ids]
    lead_sql, params = visible.order_by().values("id").query.sql_with_params()
    return f"AND event.lead_id IN ({lead_sql})", list(params)


def page(user, *, after=None, size=DEFAULT_PAGE_SIZE):
    """Return ``(events, next_cursor)``: the next ``size`` events ``user`` may see after the cursor ``after``, oldest first; raises InvalidCursor.

    ``next_cursor`` is where to continue (the same cursor when nothing new has
    committed yet, so a poller keeps asking with it).
    """
    position = decode_cursor(after) if after else (-1, -1)
    visible = access.visible_leads(user)
    if visible.query.is_empty():
        return [], after or None
    scope, scope_params = _scope(visible)
    with connection.cursor() as cursor:
        cursor.execute(_PAGE_SQL.format(scope=scope), [*position, *scope_params, size])
        ids = [row[0] for row in cursor.fetchall()]
    by_id = with_relations(LeadEvent.objects).in_bulk(ids)
    events = [by_id[event_id] for event_id in ids]
    if not events:
        return [], after or None
    last = events[-1]
    return events, encode_cursor(last.txid, last.pk)


# What as_json reads: loading only these halves the Python time of a page.
_PERSON = ("id", "username", "first_name", "last_name")
_FIELDS = (
    *("id", "kind", "at", "from_stage", "to_stage", "note", "payload", "txid"),
    *("lead_id", "actor_id", "owner_id", "reason_id", "lead__id", "lead__name", "lead__email", "lead__company"),
    *(f"actor__{name}" for name in _PERSON),
    *(f"owner__{name}" for name in _PERSON),
    *("reason__id", "reason__code", "reason__label"),
)


def with_relations(events):
    """``events`` with everything ``as_json`` reads, in the same query; raises nothing."""
    return events.select_related("lead", "actor", "owner", "reason").only(*_FIELDS)


def _person(user):
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.get_full_name() or user.username}


def as_json(event):
    """Return the JSON object of a history row (the feed's item and a webhook's ``data``); raises nothing."""
    lead = event.lead
    return {
        "id": event.pk,
        "type": event_type_of(event.kind),
        "kind": event.kind,
        "at": event.at.isoformat(),
        "lead": {
            "id": lead.pk,
            "name": lead.name,
            "email": lead.email,
            "company": lead.company,
            "url": site_url(lead.get_absolute_url()),
        },
        "actor": _person(event.actor),
        "via": event.payload.get("via", "") if isinstance(event.payload, dict) else "",
        "from_stage": event.from_stage,
        "to_stage": event.to_stage,
        "owner": _person(event.owner),
        "reason": {"code": event.reason.code, "label": event.reason.label} if event.reason_id else None,
        "note": event.note,
        "payload": event.payload,
    }
