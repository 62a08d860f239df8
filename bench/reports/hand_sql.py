"""The hand-written SQL for every report (one statement each), and its rows as the values ``reports.metrics`` returns."""

import dataclasses

from reports import metrics

from .spec import NOW

# The hand-written SQL: for each report the same numbers as reports.metrics, one statement.
# {rep} narrows episodes to one rep, {contacts} finds the contacted leads (the conversation
# rate filters leads, not episodes) and {team} picks the overall or a team's targets.

_IN_PERIOD = "mql_at >= %(start)s AND mql_at < %(end)s AND mql_at <= %(as_of)s"
_IGNORED = "due_at <= %(as_of)s AND (first_follow_up_at IS NULL OR first_follow_up_at > %(as_of)s)"
_AWAITING = "(due_at IS NULL OR due_at > %(as_of)s) AND (first_follow_up_at IS NULL OR first_follow_up_at > %(as_of)s)"
_CLOSED = "first_follow_up_at <= %(as_of)s OR due_at <= %(as_of)s"
_WITHIN = "first_follow_up_at <= %(as_of)s AND (due_at IS NULL OR first_follow_up_at <= due_at)"

SQL_IGNORE_RATE = f"""
SELECT count(*), count(*) FILTER (WHERE {_IGNORED}), count(*) FILTER (WHERE {_AWAITING}),
       count(*) FILTER (WHERE first_follow_up_at <= %(as_of)s)
  FROM leads_mqlepisode
 WHERE {_IN_PERIOD}{{rep}}
"""

# Period view: one pass over the episodes touching the period (a bitmap OR of the three
# date indexes, or all of one rep's episodes), a filtered count per event.
_TOUCHING = """(mql_at >= %(start)s AND mql_at < %(end)s
            OR accepted_at >= %(start)s AND accepted_at < %(end)s
            OR qualified_at >= %(start)s AND qualified_at < %(end)s)"""
SQL_CONVERSION = f"""
SELECT count(*) FILTER (WHERE mql_at >= %(start)s AND mql_at < %(end)s),
       count(*) FILTER (WHERE accepted_at >= %(start)s AND accepted_at < %(end)s AND accepted_at <= %(as_of)s),
       count(*) FILTER (WHERE qualified_at >= %(start)s AND qualified_at < %(end)s AND qualified_at <= %(as_of)s)
  FROM leads_mqlepisode
 WHERE {_TOUCHING} AND mql_at <= %(as_of)s{{rep}}
"""

SQL_SLA_COMPLIANCE = f"""
SELECT count(*) FILTER (WHERE {_CLOSED}), count(*) FILTER (WHERE {_WITHIN}),
       count(*) FILTER (WHERE first_follow_up_at <= %(as_of)s AND first_follow_up_at > due_at),
       count(*) FILTER (WHERE {_IGNORED})
  FROM leads_mqlepisode
 WHERE {_IN_PERIOD}{{rep}}
"""

# The totals, with both percentiles from one sort, then the per-rep rows (no percentiles).
_ANSWERED = f"{_IN_PERIOD} AND first_follow_up_at <= %(as_of)s"
_RESPONSE = "(first_follow_up_at - mql_at)"


def _interval(delta):
    return f"interval '{int(delta.total_seconds())} seconds'"


# One count per band of metrics.SPEED_BANDS, as the report defines them.
_BANDS = ",\n               ".join(
    f"count(*) FILTER (WHERE {_RESPONSE} >= {_interval(low)}"
    + (f" AND {_RESPONSE} < {_interval(high)})" if high is not None else ")")
    for _label, low, high in metrics.SPEED_BANDS
)
_NO_BANDS = ", ".join("NULL" for _band in metrics.SPEED_BANDS)
SQL_SPEED_TO_LEAD = f"""
SELECT 1 AS total, NULL::int, NULL, NULL, NULL, t.*, w.typical_window
  FROM (SELECT count(*), avg({_RESPONSE}), count(*) FILTER (WHERE {_RESPONSE} <= interval '1 hour'),
               count(*) FILTER (WHERE due_at IS NULL OR first_follow_up_at <= due_at),
               {_BANDS},
               percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {_RESPONSE})
          FROM leads_mqlepisode
         WHERE {_ANSWERED}{{rep}}) AS t,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY due_at - mql_at) AS typical_window
          FROM leads_mqlepisode
         WHERE {_IN_PERIOD} AND due_at IS NOT NULL{{rep}}) AS w
UNION ALL
SELECT 0, r.owner_id, u.username, u.first_name, u.last_name, r.responded, r.mean, r.hour, r.sla,
       {_NO_BANDS}, NULL, NULL
  FROM (SELECT owner_id, count(*) AS responded, avg({_RESPONSE}) AS mean,
               count(*) FILTER (WHERE {_RESPONSE} <= interval '1 hour') AS hour,
               count(*) FILTER (WHERE due_at IS NULL OR first_follow_up_at <= due_at) AS sla
          FROM leads_mqlepisode
         WHERE {_ANSWERED}{{rep}}
         GROUP BY owner_id) AS r
  LEFT JOIN auth_user u ON u.id = r.owner_id
 ORDER BY 1 DESC, 3
"""

# One pass over the period's rejections: by reason, by week, by source and by campaign, each
# sorted as the report shows it.
_REJECTION_PARTS = "GROUPING(r.label, x.week, e.source, e.campaign)"
SQL_REJECTION_REASONS = f"""
SELECT {_REJECTION_PARTS} AS part, r.code, r.label, x.week, e.source, e.campaign, count(*),
       count(*) FILTER (WHERE e.rejected_from = 'mql'), count(*) FILTER (WHERE e.rejected_from = 'sal')
  FROM leads_mqlepisode e
  LEFT JOIN leads_rejectionreason r ON r.id = e.rejection_reason_id
 CROSS JOIN LATERAL (SELECT date_trunc('week', e.rejected_at AT TIME ZONE %(tz)s)::date AS week) AS x
 WHERE e.rejected_at >= %(start)s AND e.rejected_at < %(end)s AND e.rejected_at <= %(as_of)s{{episode_rep}}
 GROUP BY GROUPING SETS ((r.code, r.label), (x.week, r.code), (e.source, r.code), (e.campaign, r.code))
 ORDER BY part, CASE WHEN {_REJECTION_PARTS} = 7 THEN -count(*) END, r.label, x.week, e.source, e.campaign,
          CASE WHEN {_REJECTION_PARTS} > 11 THEN -count(*) END, r.code
"""
_REASONS_PART, _WEEKS_PART, _SOURCES_PART, _CAMPAIGNS_PART = 7, 11, 13, 14

# The leads contacted in the period, their first contact and whether they talked: for all
# leads from the period's sales activities, for one rep's leads by lead. An MQL when an
# episode had started by that first contact; OFFSET 0 keeps that EXISTS one probe per lead
# (inlined, it would run again in every count that reads it).
CONTACTS_ALL = """
    SELECT a.lead_id, min(a.occurred_at) AS first_contact, bool_or(a.kind = 'conversation') AS talked
      FROM leads_activity a
     WHERE a.kind IN ('call', 'email', 'meeting', 'conversation')
       AND a.occurred_at >= %(start)s AND a.occurred_at < %(end)s
     GROUP BY a.lead_id"""
CONTACTS_OF_REP = """
    SELECT l.id AS lead_id, x.first_contact, x.talked
      FROM leads_lead l
     CROSS JOIN LATERAL (
           SELECT min(a.occurred_at) AS first_contact, bool_or(a.kind = 'conversation') AS talked
             FROM leads_activity a
            WHERE a.lead_id = l.id AND a.kind IN ('call', 'email', 'meeting', 'conversation')
              AND a.occurred_at >= %(start)s AND a.occurred_at < %(end)s) AS x
     WHERE l.owner_id = %(rep)s AND x.first_contact IS NOT NULL"""
_CONTACTS = """
contacts AS ({contacts}
), talks AS (
    SELECT count(*) FILTER (WHERE was_mql) AS mql_contacted,
           count(*) FILTER (WHERE was_mql AND talked) AS mql_conversations,
           count(*) FILTER (WHERE NOT was_mql) AS colder_contacted,
           count(*) FILTER (WHERE NOT was_mql AND talked) AS colder_conversations
      FROM (SELECT c.talked,
                   EXISTS (SELECT 1 FROM leads_mqlepisode e
                            WHERE e.lead_id = c.lead_id AND e.mql_at <= c.first_contact) AS was_mql
              FROM contacts c
            OFFSET 0) AS w
)"""
SQL_CONVERSATION_RATE = f"WITH {_CONTACTS}\nSELECT * FROM talks"

SQL_MQL_TARGET = f"""
SELECT m.month::date, coalesce(n.mqls, 0), t.mql_target, %(start_date)s::date, %(end_date)s::date, %(rep)s::int
  FROM generate_series(date_trunc('month', %(start_date)s::timestamp), %(end_date)s::timestamp, interval '1 month')
       AS m(month)
  LEFT JOIN (SELECT date_trunc('month', mql_at AT TIME ZONE %(tz)s) AS month, count(*) AS mqls
               FROM leads_mqlepisode
              WHERE {_IN_PERIOD}{{rep}}
              GROUP BY 1) AS n ON n.month = m.month
  LEFT JOIN reports_monthlytarget t ON t.month = m.month::date AND {{team}}
 ORDER BY m.month
"""

# The overview's headline numbers: what the overview API shows, nothing more.
SQL_OVERVIEW = f"""
WITH episodes AS (
    SELECT count(*) AS mqls, count(*) FILTER (WHERE {_IGNORED}) AS ignored,
           count(*) FILTER (WHERE {_AWAITING}) AS awaiting, count(*) FILTER (WHERE {_WITHIN}) AS within,
           count(*) FILTER (WHERE {_CLOSED}) AS closed,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY first_follow_up_at - mql_at)
               FILTER (WHERE first_follow_up_at <= %(as_of)s) AS median,
           avg(first_follow_up_at - mql_at) FILTER (WHERE first_follow_up_at <= %(as_of)s) AS mean,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY due_at - mql_at) FILTER (WHERE due_at IS NOT NULL)
               AS typical_window
      FROM leads_mqlepisode
     WHERE {_IN_PERIOD}{{rep}}
), {_CONTACTS}
SELECT e.mqls, e.ignored, e.awaiting, e.within, e.closed, e.median, e.mean, e.typical_window,
       (SELECT count(*) FROM leads_mqlepisode
         WHERE accepted_at >= %(start)s AND accepted_at < %(end)s AND accepted_at <= %(as_of)s
           AND mql_at <= %(as_of)s{{rep}}),
       (SELECT count(*) FROM leads_mqlepisode
         WHERE qualified_at >= %(start)s AND qualified_at < %(end)s AND qualified_at <= %(as_of)s
           AND mql_at <= %(as_of)s{{rep}}),
       (SELECT count(*) FROM leads_mqlepisode
         WHERE rejected_at >= %(start)s AND rejected_at < %(end)s AND rejected_at <= %(as_of)s{{rep}}),
       t.mql_contacted, t.mql_conversations, t.colder_contacted, t.colder_conversations
  FROM episodes e, talks t
"""


# What the metric functions and the SQL return, as plain values to compare


def _rep_name(owner_id, username, first_name, last_name):
    if not owner_id:
        return "Unassigned"
    return f"{first_name} {last_name}".strip() or username


def ignore_rate_numbers(rows):
    mqls, ignored, awaiting, followed_up = rows[0]
    return metrics.IgnoreRate(mqls=mqls, ignored=ignored, awaiting=awaiting, followed_up=followed_up, as_of=NOW)


def conversion_numbers(rows):
    mqls, sals, sqls = rows[0]
    return metrics.Conversion(view=metrics.PERIOD_VIEW, mqls=mqls, sals=sals, sqls=sqls)


def sla_compliance_numbers(rows):
    closed, within, late, never = rows[0]
    return metrics.SlaCompliance(closed=closed, within=within, late=late, never=never)


def speed_to_lead_numbers(rows):
    (_total, _id, _u, _f, _l, responded, mean, hour, sla, *bands, percentiles, window), *reps = rows
    median, p90 = percentiles or (None, None)
    return metrics.SpeedToLead(
        responded=responded,
        median=median,
        mean=mean,
        p90=p90,
        within_hour=hour,
        within_sla=sla,
        typical_window=window,
        bands=tuple(
            (label, count, metrics.Ratio(count, responded))
            for (label, _low, _high), count in zip(metrics.SPEED_BANDS, bands, strict=True)
        ),
        by_rep=tuple(
            metrics.RepSpeed(
                rep_id=owner_id,
                rep_name=_rep_name(owner_id, username, first, last),
                responded=count,
                mean=average,
                within_hour=within_hour,
                within_sla=within_sla,
            )
            for _total, owner_id, username, first, last, count, average, within_hour, within_sla, *_rest in reps
        ),
    )


def rejection_reasons_numbers(rows):
    parts = {part: [row[1:] for row in rows if row[0] == part] for part in (7, 11, 13, 14)}
    total = sum(row[5] for row in parts[_REASONS_PART])
    trend = {}
    for code, _label, week, _source, _campaign, count, *_split in parts[_WEEKS_PART]:
        trend.setdefault(week, {})[code] = count
    return metrics.RejectionReasons(
        total=total,
        reasons=tuple(
            metrics.ReasonCount(code, label, count, metrics.Ratio(count, total), from_mql, from_sal)
            for code, label, _week, _source, _campaign, count, from_mql, from_sal in parts[_REASONS_PART]
        ),
        trend=tuple(sorted(trend.items())),
        by_source=tuple((row[3], row[0], row[5]) for row in parts[_SOURCES_PART]),
        by_campaign=tuple((row[4], row[0], row[5]) for row in parts[_CAMPAIGNS_PART]),
    )


def conversation_rate_numbers(rows):
    return metrics.ConversationRate(*rows[0])


def mql_target_numbers(rows):
    """The months' rows with each target pro-rated by the business days the period covers (calendar arithmetic)."""
    from reports.metrics.targets import business_days, month_last_day

    days = business_days(rows[0][0], month_last_day(rows[-1][0]))
    months = []
    for month, mqls, full, start, end, _rep in rows:
        whole = days.count(month, month_last_day(month))
        covered = days.count(max(month, start), min(month_last_day(month), end))
        target = None if full is None else (full * covered / whole if whole else float(full))
        months.append(
            metrics.MonthTarget(
                month=month, mqls=mqls, target=target, full_target=full, covered_days=covered, month_days=whole
            )
        )
    return metrics.MqlTarget(months=tuple(months), scope="rep" if rows[0][5] is not None else "overall")


def overview_metrics(period, filters, *, as_of):
    """The metric calls behind the overview's cards (``reports.pages.build_overview``) that SQL_OVERVIEW reproduces, in its order; the MQL target card is the MQL target report's."""
    headlines = metrics.episode_headlines(period, filters, as_of=as_of)
    return (
        headlines.ignore_rate,
        metrics.conversion(period, filters, view=metrics.PERIOD_VIEW, as_of=as_of),
        headlines.sla_compliance,
        headlines.speed,
        metrics.rejection_reason_counts(period, filters, as_of=as_of).total,
        metrics.conversation_rate(period, filters),
    )


def overview_headlines(results):
    """The numbers the overview shows, from the metric results."""
    ignore, conversion, sla, speed, rejections, talks = results
    return {
        "mqls": ignore.mqls,
        "ignored": ignore.ignored,
        "awaiting": ignore.awaiting,
        "sals": conversion.sals,
        "sqls": conversion.sqls,
        "sla_within": sla.within,
        "sla_closed": sla.closed,
        "median_response": speed.median,
        "misses_sla": speed.misses_sla,
        "rejections": rejections,
        **dataclasses.asdict(talks),
    }


def overview_numbers(rows):
    (mqls, ignored, awaiting, within, closed, median, mean, window, sals, sqls, rejections, *talks) = rows[0]
    return {
        "mqls": mqls,
        "ignored": ignored,
        "awaiting": awaiting,
        "sals": sals,
        "sqls": sqls,
        "sla_within": within,
        "sla_closed": closed,
        "median_response": median,
        "misses_sla": None if mean is None or window is None else mean > window,
        "rejections": rejections,
        **dataclasses.asdict(metrics.ConversationRate(*talks)),
    }
