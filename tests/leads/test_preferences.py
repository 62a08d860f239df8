"""Each user's channels per kind of notice and quiet hours: one decision for e-mail, Slack and Teams."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail

from leads import notifications, preferences
from leads.models import NoticeKind, NotificationPreferences, OutboxMessage, Stage, UserProfile

from ..factories import lead_in_stage


def at(hour, minute=0, day=7):
    """An instant in December 2026, UTC (Berlin is UTC+1 then)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


def test_without_saved_preferences_everything_but_risk_e_mails_goes_out(rep):
    now = at(12)
    assert preferences.decide(rep, NoticeKind.NEW_MQL, "email", now) == preferences.SEND
    assert preferences.decide(rep, NoticeKind.NEW_MQL, "chat", now) == preferences.SEND
    assert preferences.decide(rep, NoticeKind.SLA_RISK, "email", now) == preferences.DROP
    assert preferences.decide(rep, NoticeKind.SLA_BREACH, "chat", now) == preferences.SEND


def test_a_channel_turned_off_for_a_kind_drops_only_that_channel(rep):
    NotificationPreferences.objects.create(user=rep, sla_breach_email=False)

    assert preferences.decide(rep, NoticeKind.SLA_BREACH, "email", at(12)) == preferences.DROP
    assert preferences.decide(rep, NoticeKind.SLA_BREACH, "chat", at(12)).now
    assert preferences.decide(rep, NoticeKind.NEW_MQL, "email", at(12)).now


@pytest.mark.parametrize(
    ("utc_hour", "held_until"),
    [
        (18, None),  # 19:00 in Berlin: before quiet hours
        (19, at(6)),  # 20:00 Berlin: quiet until 07:00 Berlin = 06:00 UTC the next morning
        (23, at(6)),
        (5, at(6, day=7)),  # 06:00 Berlin, the same morning
        (6, None),  # 07:00 Berlin: over
    ],
)
def test_quiet_hours_across_midnight_hold_notices_until_they_end_in_the_users_zone(rep, utc_hour, held_until):
    UserProfile.objects.create(user=rep, time_zone="Europe/Berlin")
    NotificationPreferences.objects.create(user=rep, quiet_from=time(20), quiet_until=time(7))
    day = 6 if utc_hour >= 19 else 7

    decision = preferences.decide(rep, NoticeKind.NEW_MQL, "chat", at(utc_hour, day=day))

    assert decision.send
    assert decision.not_before == held_until


def test_system_notices_always_go(admin):
    NotificationPreferences.objects.create(user=admin, quiet_from=time(0), quiet_until=time(23, 59))
    assert preferences.decide(admin, None, "email", at(12)) == preferences.SEND


def test_the_assignment_e_mail_follows_the_owners_choice(rep, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    NotificationPreferences.objects.create(user=rep, new_mql_email=False)
    lead_in_stage(Stage.MQL, owner=rep)

    assert notifications.deliver_outbox() == 0

    assert mail.outbox == []
    message = OutboxMessage.objects.get(kind=OutboxMessage.Kind.ASSIGNED)
    assert "turned these e-mails off" in message.last_error and message.sent_at


def test_an_e_mail_due_in_quiet_hours_waits_and_goes_out_when_they_end(rep, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    NotificationPreferences.objects.create(user=rep, quiet_from=time(22), quiet_until=time(6))
    lead_in_stage(Stage.MQL, owner=rep)
    night = at(23)

    assert notifications.deliver_outbox(now=night) == 0
    message = OutboxMessage.objects.get(kind=OutboxMessage.Kind.ASSIGNED)
    assert message.sent_at is None and message.not_before == at(6, day=8)
    assert notifications.deliver_outbox(now=night + timedelta(hours=1)) == 0

    assert notifications.deliver_outbox(now=at(6, day=8)) == 1
    assert len(mail.outbox) == 1


def test_the_preferences_page_saves_channels_and_quiet_hours(client, rep):
    client.force_login(rep)
    assert client.get("/settings/notifications/").status_code == 200

    response = client.post(
        "/settings/notifications/",
        {"quiet_from": "20:00", "quiet_until": "07:00", "new_mql_chat": "on"},
    )

    assert response.status_code == 302
    saved = NotificationPreferences.objects.get(user=rep)
    assert (saved.quiet_from, saved.quiet_until, saved.time_zone) == (time(20), time(7), "UTC")
    assert saved.new_mql_chat and not saved.new_mql_email and not saved.sla_breach_email


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"quiet_from": "20:00"}, "both ends"),
        ({"quiet_from": "25:00", "quiet_until": "07:00"}, "valid time"),
    ],
)
def test_bad_preferences_are_refused_with_a_message_and_nothing_saved(client, rep, data, message):
    client.force_login(rep)

    response = client.post("/settings/notifications/", data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not NotificationPreferences.objects.filter(user=rep).exists()


def test_the_preferences_page_needs_a_login(client, db):
    response = client.get("/settings/notifications/")
    assert response.status_code == 302 and "/login/" in response["Location"]
