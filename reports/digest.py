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
from django.utils import timezone, translation
from django.utils.dates import MONTHS
from django.utils.formats import date_format
from django.utils.translation import gettext

from leads import access
from leads.models import TeamMember, UserProfile
from leads.models.profiles import language_of

from . import metrics
from .metrics import Filters, Period, compare
from .models import DigestOptOut
from .pages.compare import plain
from .templatetags.reports_ui import number

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
        return gettext("%(number)s%%") % {"number": number(value, 1)}
    return number(value)


def _difference(value, kind):
    """'+2', '-75.0 pts' (German '-75,0 Pkt.')."""
    sign = "-" if value < 0 else "+"
    if kind == "int":
        return f"{sign}{number(abs(value))}"
    return gettext("%(sign)s%(points)s pts") % {"sign": sign, "points": number(abs(value), 1)}


def digest_lines(user, week, zone, *, now):
    """The digest's lines for ``user``: last week's headlines (Monday to Sunday) with the change against the week before,
    in the active language (``send_weekly_digests`` activates the recipient's)."""
    last_week = Period(week - timedelta(days=7), week - timedelta(days=1), zone.key)
    week_before = Period(week - timedelta(days=14), week - timedelta(days=8), zone.key)
    managed = sorted(access.managed_team_ids(user)) if not access.has_role(user, access.MARKETER) else []
    filters = Filters(team=managed[0]) if managed else Filters()
    lines = [
        gettext("Your Funnel week: %(start)s – %(end)s")
        % {
            "start": date_format(last_week.start, "MONTH_DAY_FORMAT"),
            "end": date_format(last_week.end, "DATE_FORMAT"),
        },
        "",
    ]
    for slug, names in DIGEST_NUMBERS:
        headlines = {h.name: h for h in compare.headlines_of(slug)}
        now_values, before = compare.headline_series(slug, [last_week, week_before], filters, view="period", as_of=now)
        for name in names:
            headline = headlines[name]
            value, previous = plain(now_values[name]), plain(before[name])
            change = ""
            if value is not None and previous is not None:
                difference = _difference(value - previous, headline.kind)
                change = " " + gettext("(%(difference)s against the week before)") % {"difference": difference}
            lines.append(f"{headline.label}: {_format(value, headline.kind)}{change}")
    pacing = metrics.mql_pacing(filters, today=week - timedelta(days=1), tz=zone.key, as_of=now)
    if pacing.target_to_date is not None:
        values = {
            "month": MONTHS[pacing.month.month],
            "mqls": number(pacing.mqls),
            "target": number(pacing.target_to_date, 1),
        }
        if pacing.behind:
            line = gettext("MQL target for %(month)s: %(mqls)s to date against %(target)s pro-rated, behind pace.")
        else:
            line = gettext("MQL target for %(month)s: %(mqls)s to date against %(target)s pro-rated, on pace.")
        lines.append(line % values)
    site = settings.FUNNEL_SITE_URL.rstrip("/")
    lines += [
        "",
        gettext("All reports: %(url)s") % {"url": f"{site}{reverse('reports:overview')}"},
        gettext("No more digests: %(url)s") % {"url": f"{site}{reverse('reports:digest')}"},
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
                # In the recipient's language, and every date and time in their zone.
                with translation.override(language_of(user)), timezone.override(zone):
                    body = "\n".join(digest_lines(user, week, zone, now=now))
                    subject = gettext("Funnel weekly digest: week of %(day)s") % {
                        "day": date_format(week - timedelta(days=7), "MONTH_DAY_FORMAT")
                    }
                EmailMessage(subject, body, to=[user.email], connection=mail).send()
                sent += 1
            except Exception:
                log.exception("weekly digest for user %s failed", user.pk)
    return sent
