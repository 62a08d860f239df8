"""The page shell and the lead pages outside the triage workspace, in German and in the viewer's time zone.

Every page is rendered for a user whose profile says German and asserts that no English word is left
(``tests.support.german``), plus one German sentence it must show. Also: the profile, the header's language
switcher, the browser's time zone and the sign-in form's zone, and the answers given before a user is known
(sign-in page, lockout, malformed input) in the browser's language.
"""

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from pghistory import context as history_context

from leads import audit
from leads.models import OutOfOffice, SLAPolicy, Stage, TeamMember, UserProfile

from ..factories import german, lead_in_stage, make_team, make_user
from ..support.german import english_words

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Funnel-2026"

# Patterns of other areas' text to leave out: none since every area speaks German (kept so a page
# that shows someone else's partial can name it while that is being translated).
OTHERS_PARTIALS = ()
OTHERS_FIELDS = {"rejected": None, "fairness": None, "audit kinds": None, "stage": None}


def page_text(response, others=()):
    html = response.content.decode()
    for pattern in (*OTHERS_PARTIALS, *(OTHERS_FIELDS[name] for name in others)):
        if pattern is not None:
            html = pattern.sub("", html)
    return html


@pytest.fixture
def nord(db):
    return make_team("Nord")


@pytest.fixture
def rita(nord):
    return german(make_user("rita", role="rep", team=nord, first_name="Rita", last_name="Becker"))


@pytest.fixture
def jonas(nord):
    return german(make_user("jonas", role="rep", team=nord, first_name="Jonas", last_name="Wagner"))


@pytest.fixture
def mona(nord):
    return german(
        make_user(
            "mona", role="manager", team=nord, team_role=TeamMember.Role.MANAGER, first_name="Mona", last_name="Schulz"
        )
    )


@pytest.fixture
def markus(db):
    return german(make_user("markus", role="marketer", first_name="Markus", last_name="Weber"))


@pytest.fixture
def ada(db):
    return german(make_user("ada", role="admin", is_staff=True, first_name="Ada", last_name="Krüger"))


@pytest.fixture
def leads_of_nord(nord, rita, jonas):
    """An accepted lead of Rita's, a rejected one, an MQL past its SLA, and an MQL nobody can take."""
    accepted = lead_in_stage(
        Stage.SAL,
        owner=rita,
        team=nord,
        name="Lena Hoffmann",
        email="lena.hoffmann@mueller-maschinenbau.de",
        company="Müller Maschinenbau GmbH",
        job_title="Einkaufsleiterin",
    )
    rejected = lead_in_stage(
        Stage.REJECTED,
        owner=jonas,
        team=nord,
        name="Peter Braun",
        email="peter.braun@braun-logistik.de",
        company="Braun Logistik AG",
    )
    long_ago = timezone.now() - timedelta(days=2)
    breached = lead_in_stage(
        Stage.MQL,
        owner=jonas,
        team=nord,
        now=long_ago,
        name="Sabine Krause",
        email="sabine.krause@mueller-maschinenbau.de",
        company="Müller Maschinenbau GmbH",
    )
    return accepted, rejected, breached


def get(client, user, url, query=None):
    client.force_login(user)
    return client.get(url, query or {})


def assert_german(response, expected, *, status=200, allow=(), others=()):
    assert response.status_code == status
    html = page_text(response, others)
    assert english_words(html, allow=allow) == []
    assert expected in unescape(html), expected
    assert '<html lang="de"' in html


def test_accepted_leads_in_german(client, rita, leads_of_nord):
    response = get(client, rita, reverse("leads:accepted"))
    assert_german(response, "Lead, den Sie angenommen haben und bearbeiten, neueste zuerst")
    assert "Lena Hoffmann" in response.content.decode()


def test_no_accepted_leads_in_german(client, rita):
    assert_german(get(client, rita, reverse("leads:accepted")), "Noch nichts angenommen")


def test_breached_leads_in_german(client, mona, leads_of_nord):
    response = get(client, mona, reverse("leads:breached"))
    assert_german(response, "MQL Ihrer Teams hat die SLA-Frist verpasst")
    assert "Sabine Krause" in response.content.decode()


def test_breached_page_without_breaches_and_an_unassigned_mql_in_german(client, mona, nord):
    # Nobody in the team can take an MQL: no rep is in it.
    empty = make_team("Süd")
    TeamMember.objects.create(team=empty, user=mona, role=TeamMember.Role.MANAGER)
    lead_in_stage(Stage.MQL, team=empty, name="Klaus Richter", email="klaus@richter-bau.de", company="Richter Bau")

    response = get(client, mona, reverse("leads:breached"))

    assert_german(response, "1 MQL wartet auf einen Vertriebsmitarbeiter.")
    assert "Keine SLA-Verstöße" in response.content.decode()


def test_team_queue_in_german(client, mona, leads_of_nord):
    response = get(client, mona, reverse("leads:team"))
    assert_german(response, "Team-Eingang")
    assert "1 SLA-Verstoß" in response.content.decode()


def test_empty_team_queue_in_german(client, mona):
    response = get(client, mona, reverse("leads:team"))
    assert_german(response, "Keine offenen MQLs in Ihren Teams.")


@pytest.mark.parametrize("who", ["mona", "markus"])
def test_rejected_leads_in_german(client, request, who, leads_of_nord):
    response = get(client, request.getfixturevalue(who), reverse("leads:rejected"))
    assert_german(response, "abgelehnter Lead", others=["rejected"])
    assert "Peter Braun" in response.content.decode()


def test_account_page_in_german(client, mona, leads_of_nord):
    accepted = leads_of_nord[0]
    response = get(client, mona, reverse("leads:account", args=[accepted.account_id]))
    assert_german(response, "Leads, die Sie sehen können", others=["stage"])
    html = response.content.decode()
    assert "Lena Hoffmann" in html and "Sabine Krause" in html
    # The named date format of German, in the viewer's zone.
    with translation.override("de"):
        shown = date_format(accepted.created_at.astimezone(ZoneInfo("Europe/Berlin")), "DATE_FORMAT")
    assert f">{shown}<" in html and re.search(r">\d{1,2}\. \w+\.? \d{4}<", html)


def test_audit_log_in_german(client, ada, markus):
    with history_context(user=ada.pk):
        SLAPolicy.objects.filter(is_default=True).update(response_minutes=45)
    response = get(client, ada, reverse("leads:audit"), {"user": markus.pk})
    # The log's entries (kinds, actions, field names) are leads.audit's words, tested there.
    assert_german(response, "Für diesen Filter sind keine Änderungen aufgezeichnet.", others=["audit kinds"])
    assert "Jede Änderung an SLA-Richtlinien" in response.content.decode()


def test_audit_log_times_are_in_the_viewers_zone_and_format(client, ada):
    with history_context(user=ada.pk):
        SLAPolicy.objects.filter(is_default=True).update(response_minutes=45)
    at = audit.entries(audit.events(kind="", user_id=None)[:1])[0].at
    UserProfile.objects.filter(user=ada).update(time_zone="Asia/Tokyo")

    html = get(client, ada, reverse("leads:audit")).content.decode()

    assert f">{date_format(at.astimezone(ZoneInfo('Asia/Tokyo')), 'DATETIME_FORMAT', use_l10n=True)}<" in html


def test_no_role_page_in_german(client, db):
    nobody = german(make_user("lotte", first_name="Lotte", last_name="Neumann"))
    response = get(client, nobody, reverse("leads:home"))
    assert_german(response, "Sie haben noch keine Rolle", status=403)


def test_out_of_office_in_german_with_times_in_the_viewers_zone(client, rita):
    UserProfile.objects.filter(user=rita).update(time_zone="America/Sao_Paulo")
    now = timezone.now()
    start = (now + timedelta(days=3)).replace(hour=13, minute=30, second=0, microsecond=0)
    OutOfOffice.objects.create(
        user=rita, starts_at=start, ends_at=start + timedelta(days=5), note="Urlaub an der Ostsee", hand_on=True
    )

    response = get(client, rita, reverse("leads:out_of_office"))

    assert_german(response, "Offene MQLs werden zu Beginn weitergegeben")
    local = start.astimezone(ZoneInfo("America/Sao_Paulo"))
    assert local.strftime("%H:%M") == "10:30"
    with translation.override("de"):
        assert f">{date_format(local, 'DATETIME_FORMAT')}<" in response.content.decode()


def test_out_of_office_errors_and_message_in_german(client, rita):
    client.force_login(rita)
    url = reverse("leads:out_of_office")
    start = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    before = (timezone.localtime() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")

    refused = client.post(url, {"starts_at": start, "ends_at": before, "note": ""})
    assert_german(refused, "Die Abwesenheit muss nach ihrem Beginn enden.", status=400)

    end = (timezone.localtime() + timedelta(days=4)).strftime("%Y-%m-%dT%H:%M")
    saved = client.post(url, {"starts_at": start, "ends_at": end, "note": "Messe in Hannover"}, follow=True)
    assert_german(saved, "Abwesenheit gespeichert: Solange sie dauert, erhalten Sie keine neuen MQLs.")


def test_notification_preferences_in_german(client, rita):
    response = get(client, rita, reverse("leads:notification_preferences"))
    # The kinds of notice are leads.models.notices' labels (another module's strings).
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ruhezeiten gelten in Ihrer Zeitzone, Europe/Berlin" in html
    kinds = re.findall(r'<th scope="row">(.*?)</th>', html)
    assert english_words(html, allow=" ".join(kinds).split()) == []

    client.post(reverse("leads:notification_preferences"), {"new_mql_email": "on", "quiet_from": "", "quiet_until": ""})
    saved = client.get(reverse("leads:notification_preferences"))
    assert "Ihre Einstellungen für Benachrichtigungen sind gespeichert." in saved.content.decode()


@pytest.mark.parametrize("who", ["mona", "ada"])
def test_routing_fairness_in_german(client, request, who, nord, leads_of_nord):
    user = request.getfixturevalue(who)
    response = get(client, user, reverse("leads:routing_fairness"), {"team": nord.pk})
    assert_german(response, "Round-Robin-Entscheidung", others=["fairness"])


def test_profile_page_in_german(client, rita):
    assert_german(get(client, rita, reverse("leads:profile")), "Ihr Profil")


def test_a_saved_language_and_zone_change_what_the_next_page_shows(client, db, nord):
    vera = make_user("vera", role="rep", team=nord, first_name="Vera", last_name="Lorenz")
    start = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
    OutOfOffice.objects.create(user=vera, starts_at=start, ends_at=start + timedelta(days=2))
    client.force_login(vera)
    english = client.get(reverse("leads:out_of_office")).content.decode()
    assert "Away from" in english and "10 Mar 2027, 12:00" in english

    saved = client.post(reverse("leads:profile"), {"language": "de", "time_zone": "Asia/Kolkata"})

    assert saved.status_code == 302 and saved.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert UserProfile.objects.filter(user=vera, language="de", time_zone="Asia/Kolkata").exists()
    html = client.get(reverse("leads:out_of_office")).content.decode()
    assert "Abwesend ab" in html and "10. März 2027, 17:30" in html


def test_404_and_403_pages_in_german(client, rita, markus):
    assert_german(get(client, rita, "/leads/987654/"), "Hier ist nichts", status=404)
    assert_german(get(client, markus, reverse("leads:team")), "Diese Seite ist nicht für Ihre Rolle", status=403)


def test_the_header_in_german_for_every_role(client, rita, mona, markus, ada):
    expected = {
        rita: ["Eingang", "Angenommen", "Abwesenheit", "Abmelden"],
        mona: ["Team", "Abgelehnt", "Berichte"],
        markus: ["Was-wäre-wenn", "Import", "Scoring"],
        ada: ["Audit-Log", "Administration", "Benachrichtigungen"],
    }
    for user, words in expected.items():
        html = get(client, user, reverse("leads:profile")).content.decode()
        assert english_words(html) == [], user
        assert "Zum Inhalt springen" in html and 'aria-label="Funnel-Startseite"' in html
        for word in words:
            assert f">{word}<" in html, (user, word)


def test_the_500_page_in_german():
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("de"):
        html = render_to_string("500.html")
    assert english_words(html) == []
    assert "Etwas ist schiefgegangen" in html and '<html lang="de">' in html


def test_the_sign_in_page_follows_accept_language(client, db):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="de")
    assert_german(response, "Bei Funnel anmelden")


def test_a_wrong_password_is_refused_in_german(client, rita):
    response = client.post(reverse("login"), {"username": "rita", "password": "falsch"}, HTTP_ACCEPT_LANGUAGE="de")
    assert_german(response, "Benutzername")
    assert 'role="alert"' in response.content.decode()


def test_the_lockout_answer_in_german(client, rita):
    for _ in range(5):
        client.post(reverse("login"), {"username": "rita", "password": "falsch"}, HTTP_ACCEPT_LANGUAGE="de")

    response = client.post(reverse("login"), {"username": "rita", "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="de")

    assert_german(response, "Zu viele fehlgeschlagene Anmeldungen für diesen Benutzernamen", status=429)
    assert "für 15 Minuten gesperrt" in response.content.decode()


def test_the_api_lockout_answer_in_german(rita):
    from rest_framework.test import APIClient

    api = APIClient()
    for _ in range(5):
        api.post("/api/auth/token/", {"username": "rita", "password": "falsch"})
    response = api.post("/api/auth/token/", {"username": "rita", "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert response.json()["detail"].startswith("Zu viele fehlgeschlagene Anmeldungen")


def test_malformed_input_is_refused_in_the_browsers_language(client, db):
    response = client.get("/login/", {"next": "a\x00b"}, HTTP_ACCEPT_LANGUAGE="de")
    assert_german(response, "Der Abfrageparameter 'next' enthält ein NUL-Zeichen", status=400, allow=["next"])

    api = client.get("/api/leads/", {"q": "a\x00b"}, HTTP_ACCEPT_LANGUAGE="de")
    assert api.status_code == 400
    assert api.json() == {
        "q": ["Der Abfrageparameter 'q' enthält ein NUL-Zeichen (\\0), das in keinem Text stehen darf."]
    }


# The language switcher


def test_the_switcher_saves_the_profile_and_the_cookie(client, nord):
    vera = make_user("vera", role="rep", team=nord, first_name="Vera")
    client.force_login(vera)

    response = client.post(reverse("leads:set_language"), {"language": "de", "next": "/settings/profile/?tab=1"})

    assert response.status_code == 302 and response["Location"] == "/settings/profile/?tab=1"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert UserProfile.objects.get(user=vera).language == "de"
    assert "Ihr Profil" in client.get("/settings/profile/").content.decode()


def test_the_switcher_works_before_sign_in_with_the_cookie(client, db):
    response = client.post(reverse("leads:set_language"), {"language": "de", "next": "/login/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert "Bei Funnel anmelden" in client.get("/login/").content.decode()


def test_a_bad_language_is_a_400_with_a_sentence_and_changes_nothing(client, rita):
    client.force_login(rita)

    response = client.post(reverse("leads:set_language"), {"language": "fr", "next": "/"})

    assert response.status_code == 400
    assert response.content.decode() == "Unbekannte Sprache 'fr': wählen Sie eine von en, de."
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert UserProfile.objects.get(user=rita).language == "de"


@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example/", "http://evil.example"])
def test_a_next_on_another_host_is_refused(client, rita, target):
    client.force_login(rita)
    response = client.post(reverse("leads:set_language"), {"language": "en", "next": target})
    assert response.status_code == 302 and response["Location"] == reverse("leads:home")
    assert UserProfile.objects.get(user=rita).language == "en"


# The browser's time zone


def test_the_browser_zone_is_saved_once(client, nord):
    vera = make_user("vera", role="rep", team=nord)
    client.force_login(vera)
    url = reverse("leads:browser_time_zone")

    first = client.post(url, {"time_zone": "Europe/Vienna"})
    again = client.post(url, {"time_zone": "America/Chicago"})

    assert first.json() == {"time_zone": "Europe/Vienna", "changed": True}
    assert again.json() == {"time_zone": "Europe/Vienna", "changed": False}
    assert UserProfile.objects.get(user=vera).time_zone == "Europe/Vienna"


def test_an_invalid_browser_zone_is_a_400(client, nord):
    vera = make_user("vera", role="rep", team=nord)
    UserProfile.objects.create(user=vera, language="de")
    client.force_login(vera)

    response = client.post(reverse("leads:browser_time_zone"), {"time_zone": "Mars/Olympus_Mons"})

    assert response.status_code == 400
    # The sentence is leads.models.validate_time_zone's (translated with the models).
    assert list(response.json()) == ["time_zone"] and "Mars/Olympus_Mons" in response.json()["time_zone"][0]
    assert UserProfile.objects.get(user=vera).time_zone == ""


def test_the_browser_zone_never_overwrites_a_chosen_zone(client, rita):
    client.force_login(rita)
    response = client.post(reverse("leads:browser_time_zone"), {"time_zone": "Asia/Tokyo"})
    assert response.json() == {"time_zone": "Europe/Berlin", "changed": False}
    assert UserProfile.objects.get(user=rita).time_zone == "Europe/Berlin"


def test_the_sign_in_forms_zone_is_saved_on_the_first_sign_in(client, nord):
    vera = make_user("vera", role="rep", team=nord)

    response = client.post(
        reverse("login"), {"username": "vera", "password": PASSWORD, "next": "/", "time_zone": "Europe/Zurich"}
    )

    assert response.status_code == 302
    assert UserProfile.objects.get(user=vera).time_zone == "Europe/Zurich"
    client.logout()
    client.post(reverse("login"), {"username": "vera", "password": PASSWORD, "next": "/", "time_zone": "Asia/Tokyo"})
    assert UserProfile.objects.get(user=vera).time_zone == "Europe/Zurich"


def test_an_invalid_sign_in_zone_is_ignored(client, nord):
    vera = make_user("vera", role="rep", team=nord)
    response = client.post(reverse("login"), {"username": "vera", "password": PASSWORD, "time_zone": "Nowhere/Else"})
    assert response.status_code == 302
    assert not UserProfile.objects.filter(user=vera).exclude(time_zone="").exists()
