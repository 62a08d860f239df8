"""The weekly digest: Monday morning in each recipient's zone, managers and marketers, once a week, opt-out."""

from datetime import UTC, datetime, timedelta

from django.core import mail
from django.urls import reverse

from leads.models import Lead, MqlEpisode, Stage, UserProfile
from reports import digest
from reports.models import DigestOptOut, WeeklyDigest

# Monday 30 November 2026, 07:30 UTC: 08:30 in Berlin, 02:30 in New York.
MONDAY = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)


def mqls(days, *, team, answered=None):
    for n, day in enumerate(days):
        mql_at = datetime(2026, 11, day, 10, tzinfo=UTC)
        lead = Lead.objects.create(name=f"D{day}-{n}", email=f"d{day}-{n}@example.com", stage=Stage.LEAD, team=team)
        MqlEpisode.objects.create(
            lead=lead,
            number=1,
            team=team,
            mql_at=mql_at,
            due_at=mql_at + timedelta(hours=1),
            first_follow_up_at=mql_at + answered if answered else None,
        )


def zone(user, name):
    UserProfile.objects.update_or_create(user=user, defaults={"time_zone": name})


def test_digest_goes_on_monday_morning_in_each_recipients_zone_once(manager, marketer, rep, team):
    zone(manager, "Europe/Berlin")
    zone(marketer, "America/New_York")
    assert digest.send_weekly_digests(MONDAY - timedelta(hours=1)) == 0  # 07:30 in Berlin
    assert digest.send_weekly_digests(MONDAY) == 1
    assert mail.outbox[0].to == [manager.email]
    # Again, or in a second worker: nothing more.
    assert digest.send_weekly_digests(MONDAY + timedelta(minutes=5)) == 0
    # New York's morning comes later; the rep never gets one.
    assert digest.send_weekly_digests(MONDAY + timedelta(hours=6)) == 1
    assert [message.to for message in mail.outbox] == [[manager.email], [marketer.email]]
    assert set(WeeklyDigest.objects.values_list("user_id", "week")) == {
        (manager.pk, MONDAY.date()),
        (marketer.pk, MONDAY.date()),
    }
    # Tuesday: no digest.
    assert digest.send_weekly_digests(MONDAY + timedelta(days=1)) == 0


def test_digest_gives_last_weeks_headlines_with_the_change(manager, team):
    zone(manager, "UTC")
    # Last week (23 to 29 November): 4 MQLs, 1 ignored: 25%. The week before: 2 MQLs, both ignored: 100%.
    mqls([23, 24, 25], team=team, answered=timedelta(minutes=10))
    mqls([26], team=team)
    mqls([17, 18], team=team)
    digest.send_weekly_digests(MONDAY + timedelta(hours=1))  # 08:30 UTC
    body = mail.outbox[0].body
    assert "Your Funnel week: 23 Nov – 29 Nov 2026" in body
    assert "Ignore rate: 25.0% (-75.0 pts against the week before)" in body
    assert "MQLs: 4 (+2 against the week before)" in body
    assert "/reports/digest/" in body


def test_a_user_who_opted_out_gets_none(as_user, manager, marketer):
    client = as_user(manager)
    assert client.post(reverse("reports:digest"), {"digest": "off"}).status_code == 302
    assert DigestOptOut.objects.filter(user=manager).exists()
    assert "Send me the weekly digest" in client.get(reverse("reports:digest")).content.decode()
    zone(marketer, "UTC")
    digest.send_weekly_digests(MONDAY + timedelta(hours=1))
    assert [message.to for message in mail.outbox] == [[marketer.email]]
    client.post(reverse("reports:digest"), {"digest": "on"})
    assert not DigestOptOut.objects.filter(user=manager).exists()
