"""SLA: which policy applies to an MQL, when its response is due, its clock on the pages, and the overdue sweep."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from . import business_hours
from .models import EventKind, LeadEvent, OutboxMessage, SLAPolicy, Stage, TeamMember

log = logging.getLogger(__name__)


def policy_for(lead):
    """Return the SLA policy for ``lead``: the first active match by position, else the default; None if no policy exists; raises nothing."""
    candidates = (
        SLAPolicy.objects.filter(is_active=True)
        .filter(Q(source="") | Q(source=lead.source))
        .filter(Q(priority="") | Q(priority=lead.priority))
        .select_related("business_hours")
        .order_by("is_default", "position", "id")
    )
    return candidates.first()


def calendar_of(policy):
    """Return the business calendar of ``policy``, or None for round-the-clock; raises nothing."""
    if policy is None or policy.business_hours is None:
        return None
    return policy.business_hours.calendar()


# An MQL is at risk once this share of its response window is left.
RISK_SHARE_LEFT = 0.25


def response_clock(lead, start, policy=None):
    """Return ``(policy, due_at, risk_at)`` for an MQL of ``lead`` routed at ``start``: risk_at is when a quarter of the window (business time) is left; raises ValueError if the calendar has no working time."""
    policy = policy or policy_for(lead)
    window = policy.window if policy else timedelta(minutes=settings.FUNNEL_DEFAULT_SLA_MINUTES)
    calendar = calendar_of(policy)
    due = business_hours.due_at(start, window, calendar)
    return policy, due, business_hours.due_at(start, window * (1 - RISK_SHARE_LEFT), calendar)


def business_time_left(lead, now, calendar=None):
    """Return the working time from ``now`` until ``lead``'s due time (negative once overdue), or None without a due time; raises nothing."""
    if lead.sla_due_at is None:
        return None
    if lead.sla_due_at <= now:
        return lead.sla_due_at - now
    return business_hours.working_time_between(now, lead.sla_due_at, calendar)


# The claim: only rows nobody flagged yet, so a second run, or a concurrent one
# (which waits on the row locks and re-checks the condition), claims nothing twice.
# It reads the leads due since the last sweep's mark and the leads whose due time
# was set by a transaction that sweep could not see (see SLASweepMark), not the
# leads flagged before: a due time set behind the mark (an undo restoring an earlier
# one, a lead routed late) is found by its stamp.
_CLAIM_TEMPLATE = """
UPDATE leads_lead
   SET sla_breached_at = %(now)s, version = version + 1
 WHERE stage = 'mql'
   AND first_follow_up_at IS NULL
   AND sla_breached_at IS NULL
   AND sla_due_at <= %(now)s
   AND (sla_due_at > %(since)s OR sla_due_xid >= %(recheck_from)s)
RETURNING {returning}
"""
# The claim alone, which the benchmark times on its own.
_CLAIM_SQL = _CLAIM_TEMPLATE.format(returning="id")

# Before the first sweep every due time counts, and no stamp needs a second look.
_NO_MARK = {"since": datetime(1, 1, 1, tzinfo=UTC), "recheck_from": None}


# A mark whose xmin is beyond every transaction id this server has handed out was
# written by another cluster (a dump restored elsewhere, whose ids may be lower, so
# new stamps would fall below it): then the sweep reads every due time once, as
# before its first run, and leaves a mark of this server's.
_MARK_SQL = """
SELECT due_through, snapshot_xmin FROM leads_slasweepmark
 WHERE id = 1 AND snapshot_xmin <= pg_snapshot_xmax(pg_current_snapshot())::text::bigint
"""


def _claim_bounds(cursor):
    """The last sweep's mark (SLASweepMark) as the claim's parameters: due after ``since``, or stamped from ``recheck_from``."""
    cursor.execute(_MARK_SQL)
    mark = cursor.fetchone()
    if mark is None:
        return dict(_NO_MARK)
    return {"since": mark[0], "recheck_from": mark[1]}


# Who hears of a breach: (outbox kind, how a claimed row reaches the person, whether
# its policy asks for it). The sweep queues one digest per person and kind.
_RECIPIENTS = (
    (
        OutboxMessage.Kind.SLA_BREACH_OWNER,
        "auth_user person ON person.id = claimed.owner_id",
        "COALESCE(policy.notify_owner, TRUE)",
    ),
    (
        OutboxMessage.Kind.SLA_BREACH_MANAGER,
        "leads_teammember membership ON membership.team_id = claimed.team_id "
        f"AND membership.role = '{TeamMember.Role.MANAGER}' "
        "JOIN auth_user person ON person.id = membership.user_id AND person.is_active",
        "COALESCE(policy.notify_managers, TRUE)",
    ),
)

_RECIPIENTS_SQL = "    UNION ALL".join(
    f"""
    SELECT '{kind}' AS kind, claimed.id, claimed.sla_due_at, person.id AS person_id, person.email
      FROM claimed
      JOIN {join}
      LEFT JOIN leads_slapolicy policy ON policy.id = claimed.sla_policy_id
     WHERE person.email <> '' AND {flag}
"""
    for kind, join, flag in _RECIPIENTS
)

# The whole sweep is one statement: the data-modifying CTEs all read the claimed rows
# from the UPDATE's RETURNING, so the ids never travel to Python and back and the
# claimed leads are not read again. All parts see one snapshot and commit or fail together.
_SWEEP_SQL = f"""
WITH claimed AS (
    {_CLAIM_TEMPLATE.format(returning="id, owner_id, team_id, mql_episode, sla_due_at, sla_policy_id")}
), history AS (
    INSERT INTO leads_leadevent (lead_id, kind, at, actor_id, from_stage, to_stage, owner_id, episode,
                                 reason_id, note, payload)
    SELECT id, 'sla_breached', %(now)s, NULL, 'mql', 'mql', owner_id, mql_episode, NULL, '',
           jsonb_build_object('due_at', to_char(sla_due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
      FROM claimed
), recipients AS ({_RECIPIENTS_SQL}), digests AS (
    -- The smallest claimed id makes the key unique to this run's claim.
    INSERT INTO leads_outboxmessage (kind, lead_id, recipient_id, to_email, dedupe_key, context, created_at,
                                     claimed_at, claim_token, attempts, sent_at, last_error)
    SELECT kind, NULL, person_id, email,
           kind || ':' || %(stamp)s || ':' || (SELECT min(id) FROM claimed) || ':' || person_id,
           jsonb_build_object('lead_ids', jsonb_agg(id ORDER BY sla_due_at, id)), %(now)s, NULL, '', 0, NULL, ''
      FROM recipients
     GROUP BY kind, person_id, email
), mark AS (
    -- Every transaction this statement's snapshot cannot see has an id at or after its
    -- xmin, so a lead that such a transaction gives a due time behind this mark carries
    -- a stamp the next sweep reads. A mark never moves back: an older one stays valid.
    INSERT INTO leads_slasweepmark (id, due_through, snapshot_xmin)
    VALUES (1, %(now)s, pg_snapshot_xmin(pg_current_snapshot())::text::bigint)
    ON CONFLICT (id) DO UPDATE SET due_through = EXCLUDED.due_through, snapshot_xmin = EXCLUDED.snapshot_xmin
     WHERE leads_slasweepmark.due_through <= EXCLUDED.due_through
)
SELECT id FROM claimed
"""


def flag_overdue_leads(*, now=None):
    """Flag every MQL past its due time with no follow-up as SLA-breached, once, and queue the escalation digests; returns the claimed lead ids, raises nothing.

    One conditional UPDATE claims the rows (only rows not yet flagged), so two
    runs at once, or one after the other, flag and notify each lead exactly once.
    In the same statement a history event is written per claimed lead, one
    digest e-mail is queued per owner and per manager listing the leads this run
    claimed (as the leads' policies ask), and the sweep's mark moves to ``now``,
    so the next run reads only what became due or was given a due time since.
    """
    now = (now or timezone.now()).astimezone(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S.%fZ")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_SWEEP_SQL, {"now": now, "stamp": stamp, **_claim_bounds(cursor)})
        claimed = [row[0] for row in cursor.fetchall()]
    return claimed


def breach_events(lead):
    """Return the SLA breach history rows of ``lead``; raises nothing."""
    return LeadEvent.objects.filter(lead=lead, kind=EventKind.SLA_BREACHED)


# ---------- the clock the pages show ----------

# How many working-time starts and stops a page carries for a business-hours
# clock: two a working day, so a queue left open for a working week stays
# right; past the last one the page keeps the last state it knows.
MAX_CLOCK_CHANGES = 12

_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True)
class SlaClock:
    """One lead's response window as seen at ``now``: what the queue, the lists and the lead page show.

    ``static/js/funnel.js`` keeps a running clock going in the browser: it counts
    business time down only while working time runs, using the instants at
    which working time next starts or stops (``changes``), and counts the real
    time to the due time once no business time is left before it.
    """

    now: datetime
    due_at: datetime | None
    # The calendar the countdown counts business time in; None when it counts real time.
    calendar: business_hours.BusinessCalendar | None
    # Running: the time left (business time under ``calendar``, else real time); negative once overdue.
    left: timedelta | None
    working_now: bool
    # Instants before the due time at which working time starts or stops, soonest first.
    changes: tuple[datetime, ...]
    breached: bool
    window: timedelta | None
    answered_in: timedelta | None
    answered_late_by: timedelta | None

    @property
    def is_running(self):
        return self.left is not None

    @property
    def is_overdue(self):
        return self.due_at is not None and self.due_at <= self.now

    @property
    def counts_business_time(self):
        return self.calendar is not None

    @property
    def is_paused(self):
        return self.is_running and self.counts_business_time and not self.is_overdue and not self.working_now

    @property
    def next_change(self):
        return self.changes[0] if self.changes else None

    @property
    def left_seconds(self):
        return int(self.left.total_seconds()) if self.left is not None else None

    @property
    def overdue_by(self):
        return self.now - self.due_at if self.is_overdue else None


class SlaClocks:
    """Builds the clocks of one request: calendars cached per policy, working-time changes per calendar."""

    def __init__(self, now):
        self.now = now
        self._calendars = {}
        self._changes = {}

    def attach(self, leads):
        """Set ``lead.sla_clock`` on each of ``leads`` (fetched with ``sla_policy__business_hours``) and return them; raises nothing."""
        for lead in leads:
            lead.sla_clock = self.clock(lead)
        return leads

    def clock(self, lead):
        """Return the ``SlaClock`` of ``lead`` at this builder's ``now``, from its stored due time and its policy's calendar as it is now; raises nothing."""
        now, due = self.now, lead.sla_due_at
        awaiting = lead.stage == Stage.MQL and lead.first_follow_up_at is None
        breached = lead.stage == Stage.MQL and (
            lead.sla_breached_at is not None or (awaiting and due is not None and due <= now)
        )
        calendar, left, working_now, changes = None, None, True, ()
        if awaiting and due is not None:
            # Past due, overdue time is plain wall-clock time, as the sweep judges it.
            calendar, left, working_now, changes = self._countdown(lead) if due > now else (None, due - now, True, ())
        answered_in = answered_late_by = None
        follow_up = lead.first_follow_up_at
        if follow_up is not None and lead.mql_at is not None:
            answered_in = follow_up - lead.mql_at
            if due is not None and follow_up > due:
                answered_late_by = follow_up - due
        return SlaClock(
            now=now,
            due_at=due,
            calendar=calendar,
            left=left,
            working_now=working_now,
            changes=changes,
            breached=breached,
            window=self.window(lead.sla_policy) if due is not None else None,
            answered_in=answered_in,
            answered_late_by=answered_late_by,
        )

    def _countdown(self, lead):
        """``(calendar, left, working now, changes)`` of an awaiting MQL whose due time is still ahead."""
        now, due = self.now, lead.sla_due_at
        calendar = self.calendar(lead.sla_policy)
        if calendar is not None:
            try:
                left = business_time_left(lead, now, calendar)
                working_now = business_hours.is_working_moment(now, calendar)
            except ValueError:
                left = timedelta(0)
            # No business time before a due time still ahead: the calendar gained a holiday (or
            # lost hours) after the lead was routed. The stored due time stands, so the clock
            # counts the real time to it rather than a business-time countdown stuck at zero.
            if left > timedelta(0):
                return calendar, left, working_now, tuple(change for change in self.changes(calendar) if change < due)
        return None, due - now, True, ()

    def calendar(self, policy):
        """Return the business calendar of ``policy`` (read once per request), None for round-the-clock or an unusable calendar; raises nothing."""
        if policy is None or policy.business_hours_id is None:
            return None
        if policy.pk not in self._calendars:
            try:
                self._calendars[policy.pk] = calendar_of(policy)
            except ValueError:
                # A calendar the database holds but the arithmetic refuses: show wall-clock time, not a 500.
                self._calendars[policy.pk] = None
        return self._calendars[policy.pk]

    def changes(self, calendar):
        """Return the first ``MAX_CLOCK_CHANGES`` working-time changes under ``calendar`` after ``now``; raises nothing."""
        if calendar not in self._changes:
            self._changes[calendar] = working_time_changes(self.now, calendar, limit=MAX_CLOCK_CHANGES)
        return self._changes[calendar]

    @staticmethod
    def window(policy):
        """Return the response window of ``policy``, or the default window without one; raises nothing."""
        return policy.window if policy is not None else timedelta(minutes=settings.FUNNEL_DEFAULT_SLA_MINUTES)


def working_time_changes(start, calendar, *, limit):
    """Return the first ``limit`` instants after ``start`` at which working time starts or stops under ``calendar`` (fewer near the end of the datetime range); raises ValueError for a start at the edge of that range."""
    changes = []
    at = start.astimezone(UTC)
    working = business_hours.is_working_moment(at, calendar)
    while len(changes) < limit:
        try:
            if working:
                # Working time runs to today's closing, or less where a clock change cuts it short.
                change = at + business_hours.working_time_between(at, _closing_after(at, calendar), calendar)
            else:
                # The window of one microsecond is used up one microsecond after the next opening.
                change = business_hours.due_at(at, _INSTANT, calendar) - _INSTANT
        except ValueError:
            break
        if change <= at:
            break
        changes.append(change)
        at, working = change, not working
    return tuple(changes)


def _closing_after(at, calendar):
    local = at.astimezone(calendar.zone)
    closing = datetime.combine(local.date(), calendar.closes, tzinfo=calendar.zone)
    # When clocks fall back across closing time the day closes twice; take the next one.
    for fold in (0, 1):
        if closing.replace(fold=fold) > at:
            return closing.replace(fold=fold)
    return closing


# The risk sweep, one statement like the breach sweep: clear the pending risk moment of
# every awaiting MQL that reached it (a second run finds nothing to clear), and for those
# still before their due time and not breached queue the owner's e-mail and the team's
# chat notices. Whether and when each is sent is the recipient's choice, asked at delivery.
_RISK_SQL = """
WITH claimed AS (
    UPDATE leads_lead
       SET sla_risk_at = NULL
     WHERE stage = 'mql' AND first_follow_up_at IS NULL AND sla_risk_at <= %(now)s
    RETURNING id, owner_id, team_id, sla_due_at, sla_breached_at
), at_risk AS (
    SELECT id, owner_id, team_id, 'sla_risk:' || id || ':' || extract(epoch FROM sla_due_at)::bigint AS key
      FROM claimed
     WHERE sla_breached_at IS NULL AND sla_due_at > %(now)s AND owner_id IS NOT NULL
), mail AS (
    INSERT INTO leads_outboxmessage (kind, lead_id, recipient_id, to_email, dedupe_key, context, created_at,
                                     not_before, claimed_at, claim_token, attempts, sent_at, last_error)
    SELECT 'sla_risk', at_risk.id, person.id, person.email, at_risk.key, '{}'::jsonb, %(now)s,
           NULL, NULL, '', 0, NULL, ''
      FROM at_risk
      JOIN auth_user person ON person.id = at_risk.owner_id
     WHERE person.email <> ''
    ON CONFLICT (dedupe_key) DO NOTHING
), chat AS (
    INSERT INTO leads_chatnotice (kind, target, lead_id, team_id, addressee_id, event_id, dedupe_key, created_at,
                                  not_before, claimed_at, claim_token, attempts, sent_at, last_error,
                                  slack_channel, slack_ts)
    SELECT 'sla_risk', target.name, at_risk.id, at_risk.team_id, at_risk.owner_id, NULL,
           target.name || ':' || at_risk.key, %(now)s, NULL, NULL, '', 0, NULL, '', '', ''
      FROM at_risk
      JOIN leads_teamchat team_chat ON team_chat.team_id = at_risk.team_id
     CROSS JOIN LATERAL (VALUES ('slack', team_chat.slack_channel <> ''),
                                ('teams', team_chat.teams_webhook_url <> '')) AS target(name, wanted)
     WHERE target.wanted
    ON CONFLICT (dedupe_key) DO NOTHING
)
SELECT id FROM at_risk
"""


def flag_sla_risks(*, now=None):
    """Queue the SLA-risk notices of every awaiting MQL with a quarter of its window left, once per due time; returns the lead ids, raises nothing."""
    now = (now or timezone.now()).astimezone(UTC)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_RISK_SQL, {"now": now})
        return [row[0] for row in cursor.fetchall()]


class Queue:
    """A rep's open MQLs (``leads``) in queue order at ``now``, for a ``Paginator``: each page is read in index order.

    The order: MQLs still answerable in time first, soonest due (no due time
    last), then the breached ones, most recently due first (or the breached
    first with ``breached_first``); ties by MQL time and id. Breached means past
    due and either unanswered or flagged by the sweep: a flagged lead is past due
    (the constraint lead_breach_flagged_after_due), so the flag needs no range of
    its own among the leads due later. Only a flag set by a sweep whose clock
    runs ahead of this one's waits for the lead's due time to sort as breached.

    Sorting the whole queue in that order reads every open MQL of the rep
    (5,000 table rows for a rep with 5,000), however few a page shows. The
    queue is five ranges that each come out of an index already in order:
    answered but not flagged and past due, due later, no due time (the in-time
    part); unanswered past due, answered and flagged past due (the breached
    part). ``lead_queue_idx`` carries what the ranges read and sort on, so they
    read no table row; the answered ones, few, come from
    ``lead_queue_answered_idx`` with their flag read from the table. A page
    takes the first ``offset + limit`` of each range, and one sort of those few
    rows gives the page (tests/leads/test_queue_pages.py compares every page
    with one ORDER BY of the whole queue).
    """

    ordered = True

    def __init__(self, leads, now, *, breached_first=False):
        self.leads, self.now, self.breached_first = leads, now, breached_first

    def count(self):
        return self.leads.count()

    def __getitem__(self, page):
        """The leads of ``page`` (a slice) in queue order, read with ``self.leads``' related rows; raises nothing."""
        start, stop = page.start or 0, page.stop
        if stop <= start:
            return []
        ids = self._ids(start, stop)
        rows = self.leads.order_by().in_bulk(ids)
        return [rows[pk] for pk in ids if pk in rows]

    def _ids(self, start, stop):
        if self.leads.query.is_empty():
            return []
        base = self.leads.order_by().select_related(None).values(*_QUEUE_COLUMNS)
        base_sql, base_params = base.query.sql_with_params()
        in_time, breached = (1, 0) if self.breached_first else (0, 1)
        now = self.now
        params = [*base_params, in_time, now, stop, in_time, now, stop, in_time, stop]
        params += [breached, now, stop, breached, now, stop, stop - start, start]
        with connection.cursor() as cursor:
            cursor.execute(_QUEUE_SQL.format(base=base_sql), params)
            return [row[0] for row in cursor.fetchall()]


_QUEUE_COLUMNS = ("id", "mql_at", "sla_due_at", "first_follow_up_at", "sla_breached_at")
# The ranges of Queue, from the rep's open MQLs as the caller's queryset selects them (``base``, inlined
# into each range so that each is an index read). Parameters: each range's group (in time or breached),
# the page's ``now`` and the ranges' limit; last, the page's size and offset.
_QUEUE_SQL = """
WITH base AS NOT MATERIALIZED ({base})
SELECT id FROM (
  (SELECT %s AS grp, sla_due_at AS in_time_due, NULL::timestamptz AS breached_due, mql_at, id FROM base
    WHERE first_follow_up_at IS NOT NULL AND sla_due_at <= %s AND sla_breached_at IS NULL
    ORDER BY sla_due_at, mql_at, id LIMIT %s)
  UNION ALL
  (SELECT %s, sla_due_at, NULL, mql_at, id FROM base
    WHERE sla_due_at > %s ORDER BY sla_due_at, mql_at, id LIMIT %s)
  UNION ALL
  (SELECT %s, NULL, NULL, mql_at, id FROM base WHERE sla_due_at IS NULL ORDER BY mql_at, id LIMIT %s)
  UNION ALL
  (SELECT %s, NULL, sla_due_at, mql_at, id FROM base
    WHERE first_follow_up_at IS NULL AND sla_due_at <= %s ORDER BY sla_due_at DESC, mql_at, id LIMIT %s)
  UNION ALL
  (SELECT %s, NULL, sla_due_at, mql_at, id FROM base
    WHERE first_follow_up_at IS NOT NULL AND sla_due_at <= %s AND sla_breached_at IS NOT NULL
    ORDER BY sla_due_at DESC, mql_at, id LIMIT %s)
) AS ranges
ORDER BY grp, in_time_due NULLS LAST, breached_due DESC NULLS LAST, mql_at, id
LIMIT %s OFFSET %s
"""
