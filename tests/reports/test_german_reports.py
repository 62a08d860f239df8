"""The reports in German and in each viewer's time zone: every page, the drill-downs, the targets,
the digest settings and the weekly digest e-mail, with data that holds no English word."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from leads import transitions
from leads.models import Activity, ActivityKind, Lead, MqlEpisode, TeamMember, UserProfile
from reports import digest
from reports.models import MonthlyTarget
from tests.factories import german, make_team, make_user
from tests.support.german import english_in_text, english_words

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30", "as_of": "2026-12-15T00:00:00+00:00"}
START = datetime(2026, 11, 2, 9, tzinfo=UTC)
REPORTS = (
    "reports:overview",
    "reports:ignore_rate",
    "reports:conversion",
    "reports:speed_to_lead",
    "reports:sla_compliance",
    "reports:rejection_reasons",
    "reports:conversation_rate",
    "reports:mql_target",
    "reports:waterfall",
    "reports:response_effect",
)
# Which numbers' leads the drill-down test lists: episodes and, for the conversation rate, leads.
DRILL_DOWNS = (
    ("ignore_rate", "ignored", {}),
    ("ignore_rate", "mqls", {"view": "cohort"}),
    ("conversion", "sqls", {}),
    ("speed_to_lead", "band_0", {}),
    ("sla_compliance", "late", {}),
    ("rejection_reasons", "rejected", {"reason": "no-budget"}),
    ("rejection_reasons", "with_notes", {}),
    ("conversation_rate", "mql_conversations", {}),
    ("mql_target", "mqls", {}),
    ("response_effect", "fast_sqls", {}),
    ("waterfall", "sals", {}),
)


@pytest.fixture
def people(db):
    """A team with two German reps, its German manager and a German marketer."""
    team = make_team("Vertrieb Nord")
    jonas = make_user("jonas", role="rep", team=team, first_name="Jonas", last_name="Becker")
    lena = make_user("lena", role="rep", team=team, first_name="Lena", last_name="Hofmann")
    mona = make_user(
        "mona", role="manager", team=team, team_role=TeamMember.Role.MANAGER, first_name="Mona", last_name="Schulz"
    )
    petra = make_user("petra", role="marketer", first_name="Petra", last_name="Wagner")
    for user in (jonas, lena, mona, petra):
        german(user)
    return {"team": team, "jonas": jonas, "lena": lena, "mona": mona, "petra": petra}


def mql(name, company, *, team, owner, at, source="Messe", campaign="Frühjahrsaktion"):
    slug = re.sub(r"[^a-z]", "", name.lower())
    lead = transitions.create_lead(
        by=None, now=at - timedelta(days=3), name=name, company=company, email=f"{slug}@beispiel.de",
        source=source, campaign=campaign, team=team,
    )  # fmt: skip
    lead = transitions.promote_to_mql(lead, by=None, team=team, now=at)
    Lead.objects.filter(pk=lead.pk).update(owner=owner)
    MqlEpisode.objects.filter(lead=lead).update(owner=owner)
    lead.refresh_from_db()
    return lead


@pytest.fixture
def november(people):
    """November 2026 of the team: answered fast and late, ignored, rejected with a note, qualified, talked to."""
    team, jonas, lena = people["team"], people["jonas"], people["lena"]
    day = timedelta(days=1)
    # Answered within minutes, accepted and qualified after a conversation.
    lead = mql("Anna Krüger", "Müller Maschinenbau GmbH", team=team, owner=jonas, at=START)
    transitions.log_activity(lead, by=jonas, kind=ActivityKind.CONVERSATION, note="Bedarf für 40 Arbeitsplätze", now=START + timedelta(minutes=4))  # fmt: skip
    lead = transitions.accept_lead(Lead.objects.get(pk=lead.pk), by=jonas, now=START + timedelta(minutes=5))
    transitions.qualify_lead(lead, by=jonas, note="Angebot folgt", now=START + 2 * day)
    # Answered after three hours, accepted.
    lead = mql("Bernd Vogel", "Schneider Logistik AG", team=team, owner=lena, at=START + 3 * day, source="Webseite")
    transitions.accept_lead(lead, by=lena, now=START + 3 * day + timedelta(hours=3))
    # Rejected with a note.
    lead = mql("Clara Neumann", "Fischer Bau KG", team=team, owner=jonas, at=START + 5 * day, campaign="Herbstmailing")
    transitions.reject_lead(lead, by=jonas, reason="no-budget", note="Kein Budget bis zum dritten Quartal", now=START + 5 * day + timedelta(minutes=20))  # fmt: skip
    # Never answered: ignored.
    mql("Dieter Braun", "Zimmermann Elektro GmbH", team=team, owner=lena, at=START + 8 * day)
    mql("Eva Lange", "Hartmann Druck GmbH", team=team, owner=jonas, at=START + 9 * day, source="Webseite")
    MonthlyTarget.objects.create(month=date(2026, 11, 1), mql_target=12)
    MonthlyTarget.objects.create(month=date(2026, 12, 1), mql_target=1500)
    MonthlyTarget.objects.create(month=date(2026, 11, 1), team=team, mql_target=8)
    MonthlyTarget.objects.create(month=date(2026, 12, 1), team=team, mql_target=10)
    assert Activity.objects.filter(kind=ActivityKind.CONVERSATION).exists()
    return people


def chart_texts(html):
    """The titles and labels of the page's charts (JSON the script draws; the checker skips scripts)."""
    texts = []
    for blob in re.findall(r'<script id="[^"]*chart[^"]*" type="application/json">(.*?)</script>', html, re.S):
        spec = json.loads(blob)
        texts += [spec["title"], *map(str, spec["labels"]), *(d["label"] for d in spec["datasets"])]
    return "\n".join(texts)


def own_parts(html):
    """The page's title and <main>: what the reports render (the header and its navigation are base.html's)."""
    assert re.search(r"<main\b.*?</main>", html, re.S), "the page has a <main>"
    return html  # the whole page: the layout around <main> speaks German too


def assert_german(response, *expected):
    assert response.status_code == 200, response.content.decode()[:2000]
    html = response.content.decode()
    assert english_words(own_parts(html)) == [], "\n".join(english_words(own_parts(html)))
    assert english_in_text(chart_texts(html)) == []
    for text in expected:
        assert text in html, text
    return html


VARIANTS = ({}, {"by": "rep"}, {"by": "team"}, {"by": "source"}, {"by": "campaign"}, {"view": "cohort"})


@pytest.mark.parametrize("who", ["mona", "petra", "jonas"])
@pytest.mark.parametrize("name", REPORTS)
def test_every_report_page_is_german(client, november, who, name):
    client.force_login(november[who])
    for variant in VARIANTS:
        response = client.get(reverse(name), {**NOVEMBER, **variant})
        html = assert_german(response, "Vorperiode", "Zeitzone", "Anwenden")
        if variant.get("by") == "rep":
            assert "Aufschlüsselung nach Vertriebsmitarbeiter" in html


def test_the_pages_say_it_in_german_words_and_numbers(client, november):
    client.force_login(november["petra"])
    get = lambda name, **extra: client.get(reverse(name), {**NOVEMBER, **extra}).content.decode()  # noqa: E731
    assert "Ignorierquote" in get("reports:overview")
    # 2 of the 5 MQLs ignored: 40 %, one decimal where it has one.
    assert "40 %" in get("reports:ignore_rate")
    assert "2 von 5 MQLs ignoriert" in get("reports:ignore_rate")
    speed = get("reports:speed_to_lead")
    assert "0–5 Min." in speed and "SLA" in speed
    effect = get("reports:response_effect")
    assert "Innerhalb einer Stunde beantwortet" in effect
    rejections = get("reports:rejection_reasons")
    assert "Kein Budget bis zum dritten Quartal" in rejections
    assert "Als MQL abgelehnt von Jonas Becker" in rejections
    target = get("reports:mql_target")
    # German month names and the German decimal comma.
    assert "November 2026" in target and "Zielerreichung" in target
    assert "41,7 %" in target  # 5 MQLs of the target of 12


@pytest.mark.parametrize("who", ["mona", "petra"])
def test_every_drill_down_is_german(client, november, who):
    client.force_login(november[who])
    for metric, bucket, extra in DRILL_DOWNS:
        response = client.get(reverse("reports:leads"), {**NOVEMBER, "metric": metric, "bucket": bucket, **extra})
        assert_german(response, "CSV exportieren", "Stand")


def test_drill_down_shows_times_in_the_viewers_zone(client, november):
    # Anna Krüger became an MQL at 09:00 UTC on 2 November: 10:00 in Berlin, 22:00 in Auckland.
    client.force_login(november["mona"])
    params = {**NOVEMBER, "metric": "conversion", "bucket": "sqls"}
    assert "2. Nov. 2026, 10:00" in client.get(reverse("reports:leads"), params).content.decode()
    german(november["mona"], "Pacific/Auckland")
    assert "2. Nov. 2026, 22:00" in client.get(reverse("reports:leads"), params).content.decode()


def test_targets_and_digest_settings_are_german(client, november):
    client.force_login(november["petra"])
    for params in ({}, {"year": "2026", "team": str(november["team"].pk)}, {"rep": str(november["jonas"].pk)}):
        assert_german(client.get(reverse("reports:targets"), params), "MQL-Ziele 2026", "Dezember 2026")
    response = client.post(reverse("reports:targets"), {"target_2026_01": "-3"})
    assert response.status_code == 400
    assert english_words(own_parts(response.content.decode())) == []
    assert "Ein Ziel kann nicht negativ sein." in response.content.decode()
    for who in ("petra", "mona"):
        client.force_login(november[who])
        assert_german(client.get(reverse("reports:digest")), "Wochenübersicht")
        response = client.post(reverse("reports:digest"), {"digest": "off"}, follow=True)
        assert_german(response, "Sie erhalten keine Wochenübersicht mehr.", "Wochenübersicht senden")


def test_bad_input_is_refused_in_german(client, november):
    client.force_login(november["mona"])
    response = client.get(reverse("reports:ignore_rate"), {"from": "2026-11-30", "to": "2026-11-01"})
    assert response.status_code == 400
    html = response.content.decode()
    assert english_words(own_parts(html)) == []
    assert "Der Zeitraum endet, bevor er beginnt" in html
    response = client.get(reverse("reports:overview"), {"tz": "Mars/Olympus"})
    assert response.status_code == 400 and "Unbekannte Zeitzone" in response.content.decode()


def test_the_api_refuses_a_bad_zone_with_a_sentence_and_takes_any_iana_name(client, api, november):
    url = reverse("reports_api:ignore-rate")
    # A token client gets its errors in its profile's language, else the Accept-Language's; codes and keys
    # stay as they are.
    response = api(november["petra"]).get(url, {"tz": "Mars/Olympus"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == {"tz": ["Unbekannte Zeitzone 'Mars/Olympus'."]}
    UserProfile.objects.filter(user=november["petra"]).update(language="")
    response = api(november["petra"]).get(url, {"tz": "Mars/Olympus"}, HTTP_ACCEPT_LANGUAGE="de")
    assert response.json() == {"tz": ["Unbekannte Zeitzone 'Mars/Olympus'."]}
    response = api(november["petra"]).get(url, {"tz": "Mars/Olympus"})
    assert response.json() == {"tz": ["Unknown time zone 'Mars/Olympus'."]}
    client.force_login(november["petra"])
    # EST is a valid IANA name the select leaves out.
    body = client.get(url, {"tz": "EST", "from": "2026-11-01", "to": "2026-11-30"}).json()
    assert body["period"]["tz"] == "EST"


# The default period and "today" follow the viewer's zone.

# 30 November 2026, 11:30 UTC: already 1 December, 00:30, in Auckland; 03:30 on 30 November in Los Angeles.
MIDNIGHT_IN_AUCKLAND = datetime(2026, 11, 30, 11, 30, tzinfo=UTC)


def test_the_default_period_ends_on_the_viewers_today(client, people, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: MIDNIGHT_IN_AUCKLAND)
    mona = people["mona"]
    client.force_login(mona)
    german(mona, "Pacific/Auckland")
    html = client.get(reverse("reports:ignore_rate")).content.decode()
    assert 'name="to" value="2026-12-01"' in html
    assert "2. Nov. 2026 – 1. Dez. 2026" in html
    german(mona, "America/Los_Angeles")
    html = client.get(reverse("reports:ignore_rate")).content.decode()
    assert 'name="to" value="2026-11-30"' in html
    assert "1. Nov. 2026 – 30. Nov. 2026" in html
    # The API answers in the same zone, with the period's zone named.
    body = client.get(reverse("reports_api:ignore-rate")).json()
    assert body["period"] == {"from": "2026-11-01", "to": "2026-11-30", "tz": "America/Los_Angeles", "days": 30}


def test_the_zone_select_lists_zones_and_preselects_the_viewers(client, people):
    mona = german(people["mona"], "Pacific/Auckland")
    client.force_login(mona)
    html = client.get(reverse("reports:overview")).content.decode()
    select = re.search(r'<select name="tz"[^>]*>(.*?)</select>', html, re.S)
    assert select, "the time zone is a select"
    assert 'translate="no"' in select.group(0)
    assert '<option value="Pacific/Auckland" selected>' in select.group(1)
    assert '<option value="Europe/Berlin">' in select.group(1)
    assert select.group(1).count("<option") > 300
    # Another zone asked for is the one selected.
    html = client.get(reverse("reports:overview"), {"tz": "Europe/Berlin"}).content.decode()
    assert '<option value="Europe/Berlin" selected>' in html


# The weekly digest e-mail, in each recipient's language and zone.

MONDAY = datetime(2026, 11, 30, 7, 30, tzinfo=UTC)  # 08:30 in Berlin


def without_addresses(text):
    return re.sub(r"https?://\S+", "", text)


def test_the_digest_goes_to_a_german_recipient_in_german(november):
    petra = november["petra"]
    UserProfile.objects.filter(user=november["mona"]).update(time_zone="America/New_York")
    assert digest.send_weekly_digests(MONDAY) == 1
    message = mail.outbox[0]
    assert message.to == [petra.email]
    assert english_in_text(message.subject) == []
    assert english_in_text(without_addresses(message.body)) == []
    assert message.subject == "Funnel-Wochenübersicht: Woche ab 23. Nov."
    assert "Ihre Funnel-Woche: 23. Nov. – 29. Nov. 2026" in message.body
    assert "Ignorierquote:" in message.body and "gegenüber der Vorwoche" in message.body
    assert "MQL-Ziel für November" in message.body


def test_the_digest_goes_to_an_english_recipient_in_english(november):
    mona = november["mona"]
    UserProfile.objects.filter(user=mona).update(language="en")
    UserProfile.objects.filter(user=november["petra"]).update(time_zone="America/New_York")
    assert digest.send_weekly_digests(MONDAY) == 1
    message = mail.outbox[0]
    assert message.to == [mona.email]
    assert message.subject == "Funnel weekly digest: week of 23 Nov"
    assert "Your Funnel week: 23 Nov – 29 Nov 2026" in message.body
    assert "Ignore rate: " in message.body and "against the week before" in message.body


def test_the_digest_week_is_the_recipients(november):
    # 23:30 UTC on Sunday 29 November is already Monday 08:30 in Tokyo: the Tokyo recipient's digest is due.
    UserProfile.objects.filter(user=november["mona"]).update(time_zone="Asia/Tokyo")
    UserProfile.objects.filter(user=november["petra"]).update(time_zone="America/New_York")
    assert digest.send_weekly_digests(datetime(2026, 11, 29, 23, 30, tzinfo=UTC)) == 1
    assert mail.outbox[0].to == [november["mona"].email]
    assert "23. Nov. – 29. Nov. 2026" in mail.outbox[0].body
