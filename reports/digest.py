"""The weekly digest e-mail: Monday morning in each recipient's time zone, to managers and marketers.

``send_weekly_digests(now)`` runs every hour (Celery beat). A manager or
marketer whose local time is Monday at or after ``DIGEST_HOUR`` and who has not
opted out is due the digest of the week that ended on Sunday. One INSERT ... ON
CONFLICT DO NOTHING claims the (user, week) rows this run sends, so two runs at
once or a second run send each digest once; a send that fails is not retried
(at most once, like a claim that is never released).
"""

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import connection
from django.db.models import Q
from django.urls import reverse

from leads import access
from leads.models import TeamMember, UserProfile

from . import metrics
from .metrics import Filters, Period, compare
from .models import DigestOptOut
from .pages.compare import plain

log = logging.getLogger(__name__)

DIGEST_HOUR = 8
# The reports the digest gives, with the headline numbers it shows of each.
DIGEST_NUMBERS = (
    ("ignore_rate", ("ignore_rate", "mqls")),
    ("conversion", ("mql_to_sql", "sqls")),
    ("sla_compliance", ("compliance",)),
    ("response_effect", ("fast_rate", "slow_rate")),
)


def _zone(name):
    try:
        return ZoneInfo(name)
    except (ValueError, OSError):
        return ZoneInfo(settings.TIME_ZONE)


def recipients():
    """Active managers and marketers who have not opted out, with their time zone."""
    User = get_user_model()
    opted_out = DigestOptOut.objects.values("user_id")
    users = (
        User.objects.filter(is_active=True)
        .filter(Q(groups__name__in=(access.MANAGER, access.MARKETER)) | Q(memberships__role=TeamMember.Role.MANAGER))
        .exclude(pk__in=opted_out)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
    zones = dict(UserProfile.objects.filter(user__in=users).values_list("user_id", "time_zone"))
    return [(user, _zone(zones.get(user.pk) or settings.TIME_ZONE)) for user in users]


def due_week(now, zone):
    """The Monday a digest is due for at ``now`` in ``zone``, or None when it is not Monday morning there."""
    local = now.astimezone(zone)
    if local.weekday() != 0 or local.hour < DIGEST_HOUR:
        return None
    return local.date()


def _claim(user_id, week, now):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO reports_weeklydigest (user_id, week, sent_at) VALUES (%s, %s, %s)"
            " ON CONFLICT (user_id, week) DO NOTHING RETURNING id",
            [user_id, week, now],
        )
        return cursor.fetchone() is not None


def _format(value, kind):
    if value is None:
        return "—"
    if kind == "percent":
        return f"{value:.1f}%"
    return f"{value:,}"


def digest_lines(user, week, zone, *, now):
    """The digest's lines for ``user``: last week's headlines (Monday to Sunday) with the change against the week before."""
    last_week = Period(week - timedelta(days=7), week - timedelta(days=1), zone.key)
    week_before = Period(week - timedelta(days=14), week - timedelta(days=8), zone.key)
    managed = sorted(access.managed_team_ids(user)) if not access.has_role(user, access.MARKETER) else []
    filters = Filters(team=managed[0]) if managed else Filters()
    lines = [f"Your Funnel week: {last_week.start:%-d %b} – {last_week.end:%-d %b %Y}", ""]
    for slug, names in DIGEST_NUMBERS:
        headlines = {h.name: h for h in compare.headlines_of(slug)}
        now_values, before = compare.headline_series(slug, [last_week, week_before], filters, view="period", as_of=now)
        for name in names:
            headline = headlines[name]
            value, previous = plain(now_values[name]), plain(before[name])
            change = ""
            if value is not None and previous is not None:
                difference = f"{value - previous:+,}" if headline.kind == "int" else f"{value - previous:+.1f} pts"
                change = f" ({difference} against the week before)"
            lines.append(f"{headline.label}: {_format(value, headline.kind)}{change}")
    pacing = metrics.mql_pacing(filters, today=week - timedelta(days=1), tz=zone.key, as_of=now)
    if pacing.target_to_date is not None:
        state = "behind pace" if pacing.behind else "on pace"
        lines.append(
            f"MQL target for {pacing.month:%B}: {pacing.mqls:,} to date against {pacing.target_to_date:,.1f} pro-rated, {state}."
        )
    site = settings.FUNNEL_SITE_URL.rstrip("/")
    lines += [
        "",
        f"All reports: {site}{reverse('reports:overview')}",
        f"No more digests: {site}{reverse('reports:digest')}",
    ]
    return lines


def send_weekly_digests(now=None):
    """Send the weekly digest to every recipient it is due for and not yet sent; returns how many were sent, raises nothing."""
    now = now or datetime.now(tz=ZoneInfo("UTC"))
    sent = 0
    with get_connection() as mail:
        for user, zone in recipients():
            week = due_week(now, zone)
            if week is None or not _claim(user.pk, week, now):
                continue
            try:
                body = "\n".join(digest_lines(user, week, zone, now=now))
                EmailMessage(
                    f"Funnel weekly digest: week of {week - timedelta(days=7):%-d %b}",
                    body,
                    to=[user.email],
                    connection=mail,
                ).send()
                sent += 1
            except Exception:
                log.exception("weekly digest for user %s failed", user.pk)
    return sent
