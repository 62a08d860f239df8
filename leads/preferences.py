"""Whether, and when, a user hears of something: the one decision every channel asks.

E-mail (``leads.notifications``), Slack and Teams (``leads.chat``) call
``decide`` right before sending, so a preference changed after a notice was
queued still counts. A user without saved preferences gets the defaults of
``NotificationPreferences``.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .models import NoticeKind, NotificationPreferences, OutboxMessage

EMAIL = "email"
CHAT = "chat"
CHANNELS = (EMAIL, CHAT)

# The notice kind of each kind of outbox e-mail; kinds not listed always go out.
EMAIL_NOTICE_KINDS = {
    OutboxMessage.Kind.ASSIGNED: NoticeKind.NEW_MQL,
    OutboxMessage.Kind.SLA_RISK: NoticeKind.SLA_RISK,
    OutboxMessage.Kind.SLA_BREACH_OWNER: NoticeKind.SLA_BREACH,
    OutboxMessage.Kind.SLA_BREACH_MANAGER: NoticeKind.SLA_BREACH,
}


@dataclass(frozen=True)
class Decision:
    send: bool
    # When quiet hours hold the notice back: the moment they end.
    not_before: datetime | None = None

    @property
    def now(self):
        return self.send and self.not_before is None


SEND = Decision(True)
DROP = Decision(False)


def preferences_of(user):
    """Return ``user``'s saved preferences or unsaved defaults (reads ``user.notice_prefs`` if loaded); raises nothing."""
    if user is None:
        return NotificationPreferences()
    try:
        return user.notice_prefs
    except NotificationPreferences.DoesNotExist:
        return NotificationPreferences(user=user)


def decide(user, kind, channel, now):
    """Return whether a notice of ``kind`` goes to ``user`` on ``channel`` at ``now``: send now, hold until quiet hours end, or drop; raises ValueError for an unknown channel.

    ``kind`` None (system notices, a notice without an addressee) always goes now.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if kind is None or user is None:
        return SEND
    prefs = preferences_of(user)
    if not prefs.wants(kind, channel):
        return DROP
    end = quiet_hours_end(prefs, now)
    return Decision(True, end) if end else SEND


def quiet_hours_end(prefs, now):
    """Return when the quiet hours around ``now`` end (UTC), or None outside quiet hours; raises nothing."""
    start, until = prefs.quiet_from, prefs.quiet_until
    if start is None or until is None or start == until:
        return None
    zone = ZoneInfo(prefs.time_zone)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < until:
        quiet = start <= clock < until
        end_day = local.date()
    else:  # across midnight, e.g. 20:00-07:00
        quiet = clock >= start or clock < until
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not quiet:
        return None
    return datetime.combine(end_day, until, tzinfo=zone).astimezone(UTC)
