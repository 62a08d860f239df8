"""Routing fairness: per rep, the MQLs round-robin gave them against what their weight promised.

Read from the routing decisions in the history (``payload.routing`` of promoted
and reassigned events, ``leads.routing``). Each round-robin decision promises
each rep in its pool ``weight / total weight of the pool``: a rep out of office
or at capacity for a decision is promised nothing by it. Account-owner
assignments are counted beside, outside the rotation.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from .models import EventKind
from .routing import ACCOUNT_OWNER, ROUND_ROBIN


@dataclass(frozen=True)
class RepFairness:
    user_id: int
    name: str
    assigned: int
    expected: float
    by_account: int

    @property
    def difference(self):
        return round(self.assigned - self.expected, 1)


@dataclass(frozen=True)
class Fairness:
    team_id: int
    start: object
    end: object
    decisions: int
    rows: tuple


_SQL = """
WITH d AS (
    SELECT e.id, e.payload -> 'routing' AS r
      FROM leads_leadevent e
     WHERE e.kind IN (%(promoted)s, %(reassigned)s) AND e.at >= %(start)s AND e.at < %(end)s
       AND e.payload -> 'routing' ->> 'team' = %(team)s
), expected AS (
    SELECT (m ->> 'id')::bigint AS user_id,
           sum((m ->> 'weight')::numeric / nullif(t.total, 0)) AS expected
      FROM d
      CROSS JOIN LATERAL (
          SELECT sum((x ->> 'weight')::numeric) AS total FROM jsonb_array_elements(d.r -> 'pool') x
      ) t
      CROSS JOIN LATERAL jsonb_array_elements(d.r -> 'pool') m
     WHERE d.r ->> 'rule' = %(round_robin)s
     GROUP BY 1
), assigned AS (
    SELECT (d.r ->> 'winner')::bigint AS user_id,
           count(*) FILTER (WHERE d.r ->> 'rule' = %(round_robin)s) AS assigned,
           count(*) FILTER (WHERE d.r ->> 'rule' = %(account_owner)s) AS by_account
      FROM d WHERE d.r ->> 'winner' IS NOT NULL
     GROUP BY 1
)
SELECT coalesce(e.user_id, a.user_id), coalesce(a.assigned, 0), coalesce(e.expected, 0), coalesce(a.by_account, 0),
       (SELECT count(*) FROM d WHERE d.r ->> 'rule' = %(round_robin)s)
  FROM expected e FULL JOIN assigned a ON a.user_id = e.user_id
"""


def period_bounds(start_date, end_date):
    """The instants of ``start_date`` 00:00 and the day after ``end_date`` 00:00, in the current time zone."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start_date, time.min, tzinfo=zone),
        datetime.combine(end_date + timedelta(days=1), time.min, tzinfo=zone),
    )


def fairness(team, *, start, end):
    """Return each rep's round-robin MQLs against those expected by weight for routing decisions of ``team`` in [start, end); raises nothing."""
    params = {
        "promoted": EventKind.PROMOTED,
        "reassigned": EventKind.REASSIGNED,
        "start": start,
        "end": end,
        "team": str(team.pk),
        "round_robin": ROUND_ROBIN,
        "account_owner": ACCOUNT_OWNER,
    }
    with connection.cursor() as cursor:
        cursor.execute(_SQL, params)
        rows = cursor.fetchall()
    decisions = rows[0][4] if rows else 0
    users = get_user_model().objects.in_bulk([row[0] for row in rows])
    reps = sorted(
        (
            RepFairness(
                user_id=user_id,
                name=(users[user_id].get_full_name() or users[user_id].get_username()) if user_id in users else "?",
                assigned=assigned,
                expected=round(float(expected), 1),
                by_account=by_account,
            )
            for user_id, assigned, expected, by_account, _total in rows
        ),
        key=lambda rep: (rep.name, rep.user_id),
    )
    return Fairness(team_id=team.pk, start=start, end=end, decisions=decisions, rows=tuple(reps))
