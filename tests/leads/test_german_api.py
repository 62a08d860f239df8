"""German and English for the API's errors, the e-mails and the Slack messages.

API errors follow Accept-Language (a token client has no page to pick a language on); an
e-mail is written in its recipient's language and time zone; a Slack direct message in its
addressee's language. Test data holds no English word, so any English the checkers find is ours.
"""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from leads import activities, chat, notifications, sla, transitions
from leads.models import ChatNotice, Lead, OutboxMessage, SLAPolicy, Stage, TeamMember, UserProfile

from ..factories import german, lead_in_stage, make_user
from ..support.german import english_in_text, english_words
from .test_slack import click, posted_message, slack_api, slack_request  # noqa: F401 (fixture)

# Saturday 5 December 2026, 13:30 UTC: 14:30 in Berlin, 08:30 in New York.
DUE = datetime(2026, 12, 5, 13, 30, tzinfo=UTC)


def api(user=None, language=None):
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    if language:
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def messages_of(body):
    """Every message string of an error body, however nested."""
    if isinstance(body, dict):
        return [text for key, value in body.items() if key != "code" for text in messages_of(value)]
    if isinstance(body, list):
        return [text for value in body for text in messages_of(value)]
    return [str(body)]


# Addresses, and Slack's markup for times, are not words anyone reads.
ADDRESS = re.compile(r"https?://\S+|<!date\^[^>]*>")
SLACK_LINK = re.compile(r"<[^|>]*\|([^>]*)>")


def english_left(text, *, allow=()):
    """``english_in_text`` of what a person reads in ``text``: links keep their label only."""
    return english_in_text(ADDRESS.sub("", SLACK_LINK.sub(r"\1", text)), allow=allow)


def assert_german(response, expected, *, fields=()):
    """Every message of the error body German (``fields``: field names the messages quote), one saying ``expected``."""
    texts = messages_of(response.json())
    assert texts, response.content
    assert all(english_left(text, allow=fields) == [] for text in texts), texts
    assert any(expected in text for text in texts), texts


# --- API errors ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_bad_filter_and_page_size_in_german(rep):
    client = api(rep, "de")
    assert_german(client.get(reverse("api:lead-list"), {"sla_breached": "vielleicht"}), "true oder false")
    assert_german(client.get(reverse("api:lead-list"), {"page_size": "0"}), "ganze Zahl von 1 bis 200")
    assert_german(client.get(reverse("api:lead-list"), {"stage": "irgendwas"}), "irgendwas")
    assert_german(client.get(reverse("api:events"), {"after": "kaputt"}), "Cursor")


@pytest.mark.django_db
def test_the_same_bad_filter_stays_english_without_the_header(rep):
    response = api(rep).get(reverse("api:lead-list"), {"sla_breached": "vielleicht"})

    assert response.status_code == 400
    assert response.json() == {"sla_breached": ["Use true or false."]}


@pytest.mark.django_db
def test_a_token_users_profile_language_wins_over_the_header(rep):
    german(rep)

    response = api(rep, "en").get(reverse("api:lead-list"), {"sla_breached": "vielleicht"})

    assert response["Content-Language"] == "de"
    assert_german(response, "true oder false")


@pytest.mark.django_db
def test_a_token_user_without_a_profile_language_gets_the_headers(rep):
    UserProfile.objects.create(user=rep, time_zone="Europe/Berlin")

    assert_german(api(rep, "de").get(reverse("api:lead-list"), {"sla_breached": "vielleicht"}), "true oder false")
    english = api(rep, "en").get(reverse("api:lead-list"), {"sla_breached": "vielleicht"})
    assert english.json() == {"sla_breached": ["Use true or false."]}


@pytest.mark.django_db
def test_a_validation_error_is_german_and_its_field_names_and_codes_stay(marketer):
    response = api(marketer, "de").post(
        reverse("api:lead-list"), {"name": "Mona Schulz", "email": "kein-postfach", "country": "Deutschland"}
    )

    assert response.status_code == 400
    body = response.json()
    assert {"email", "country"} <= set(body)
    assert body["country"] == ["Verwenden Sie einen zweibuchstabigen Ländercode nach ISO 3166-1, z. B. DE."]
    assert_german(response, "E-Mail-Adresse")


@pytest.mark.django_db
def test_activity_ingest_errors_in_german(marketer):
    client = api(marketer, "de")
    url = reverse("api:activities")

    assert_german(client.post(url, [], format="json"), "Die Liste ist leer")
    response = client.post(url, {"kind": "website_visit", "url": "/preise"}, format="json")
    assert_german(response, "Geben Sie den Lead an", fields=["email"])
    response = client.post(url, {"email": "niemand@mueller.example", "kind": "webinar"}, format="json")
    assert response.json() == {"email": ["Kein Lead hat die E-Mail-Adresse niemand@mueller.example."]}
    response = client.post(url, [{"lead": 1, "kind": "webinar"}] * 1001, format="json")
    assert response.json() == {
        "non_field_errors": ["Senden Sie höchstens 1.000 Aktivitäten pro Anfrage; diese enthält 1.001."]
    }


@pytest.mark.django_db
def test_json_that_cannot_be_read_is_refused_in_german(marketer):
    response = api(marketer, "de").post(
        reverse("api:activities"), data='{"kind": NaN}', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON-Fehler – NaN ist keine Zahl, die JSON erlaubt")


@pytest.mark.django_db
def test_unauthenticated_and_forbidden_are_german(rep):
    response = api(language="de").get(reverse("api:lead-list"))
    assert response.status_code in (401, 403)
    assert_german(response, "Anmeldedaten")

    response = api(rep, "de").post(reverse("api:lead-list"), {"name": "Mona Schulz"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Nur Marketing und Administratoren dürfen Leads anlegen."}

    response = api(rep, "de").get(reverse("api:webhook-list"))
    assert response.status_code == 403
    assert_german(response, "Administratoren")


@pytest.mark.django_db
def test_an_unknown_api_address_is_german(rep):
    response = api(rep, "de").get("/api/gibt-es-nicht")

    assert response.status_code == 404
    assert response.json()["detail"] == "Diesen API-Endpunkt gibt es nicht. API-URLs enden mit einem Schrägstrich."


@pytest.mark.django_db
def test_a_mismatched_if_match_is_german(rep):
    lead = lead_in_stage(Stage.MQL, owner=rep, name="Jonas Becker", company="Müller Maschinenbau GmbH")

    response = api(rep, "de").post(
        reverse("api:lead-accept", args=[lead.pk]), {}, format="json", HTTP_IF_MATCH='"lead-999-v1"'
    )

    assert response.status_code == 400
    assert response.json() == {"If-Match": [f"Dies ist das ETag von Lead 999, nicht von Lead {lead.pk}."]}


@pytest.mark.django_db
def test_a_delivery_race_is_a_german_409(marketer, monkeypatch):
    lead = lead_in_stage(Stage.LEAD, name="Jonas Becker", company="Müller Maschinenbau GmbH")

    def raced(*args, **kwargs):
        raise activities.DeliveryRaced()

    monkeypatch.setattr(activities, "record_activities", raced)
    response = api(marketer, "de").post(reverse("api:activities"), {"lead": lead.pk, "kind": "webinar"}, format="json")

    assert response.status_code == 409
    assert_german(response, "Dieselben Aktivitäten")


@pytest.mark.django_db
def test_a_refused_accept_is_a_german_409_and_english_without_the_header(rep):
    lead = lead_in_stage(Stage.REJECTED, owner=rep, name="Jonas Becker", company="Müller Maschinenbau GmbH")
    url = reverse("api:lead-accept", args=[lead.pk])

    german = api(rep, "de").post(url, {}, format="json")
    english = api(rep).post(url, {}, format="json")

    assert german.status_code == english.status_code == 409
    assert german.json()["code"] == english.json()["code"] == "conflict"
    assert english_in_text(german.json()["detail"]) == [], german.json()
    assert german.json()["detail"] != english.json()["detail"]
    assert english.json()["detail"].startswith("Cannot accept")


@pytest.mark.django_db
def test_a_refused_webhook_url_is_german(admin):
    response = api(admin, "de").post(
        reverse("api:webhook-list"),
        {"url": "ftp://empfang.mueller.example/", "event_types": ["lead.accepted"]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["url"] == ["Verwenden Sie eine http://- oder https://-URL mit einem Hostnamen."]


# --- e-mails ------------------------------------------------------------------------------------


@pytest.fixture
def german_rep(team):
    user = make_user("jonas", role="rep", team=team, first_name="Jonas", last_name="Becker")
    german(user)
    return user


@pytest.fixture
def english_rep(team):
    user = make_user("dana", role="rep", team=team, first_name="Dana", last_name="Brooks")
    UserProfile.objects.create(user=user, language="en", time_zone="America/New_York")
    return user


def mql(owner, **fields):
    lead = lead_in_stage(Stage.MQL, owner=owner, **fields)
    Lead.objects.filter(pk=lead.pk).update(sla_due_at=DUE)
    lead.refresh_from_db()
    return lead


def german_leads(owner):
    policy = SLAPolicy.objects.create(name="Eilig", position=99, response_minutes=60, reassign_on_breach=True)
    leads = [
        mql(owner, name="Mona Schulz", company="Müller Maschinenbau GmbH", email="mona@mueller.example"),
        mql(owner, name="Lukas Weber", company="Weber Logistik AG", email="lukas@weber.example"),
    ]
    Lead.objects.filter(pk=leads[0].pk).update(sla_policy=policy)
    return [Lead.objects.get(pk=lead.pk) for lead in leads]


def outbox(kind, recipient, *, lead=None, context=None):
    return OutboxMessage.objects.create(
        kind=kind,
        lead=lead,
        recipient=recipient,
        to_email=recipient.email,
        dedupe_key=f"{kind}:{recipient.pk}:{lead.pk if lead else 0}",
        context=context or {},
    )


def parts(message):
    email = notifications.render(message)
    html = email.alternatives[0][0] if isinstance(email.alternatives[0], tuple) else email.alternatives[0].content
    return email.subject, email.body, html


def webhook_context():
    return {
        "subscription_id": 7,
        "subscription_url": "https://empfang.mueller.example/funnel",
        "error": "HTTP 503",
        "url": "https://funnel.mueller.example/admin/leads/webhooksubscription/7/change/",
    }


def each_kind(recipient):
    """One outbox row of every e-mail kind to ``recipient``."""
    leads = german_leads(recipient)
    digest = {"lead_ids": [lead.pk for lead in leads]}
    manager = TeamMember.objects.filter(role=TeamMember.Role.MANAGER).first()
    return {
        "assigned": outbox(OutboxMessage.Kind.ASSIGNED, recipient, lead=leads[0]),
        "sla_risk": outbox(OutboxMessage.Kind.SLA_RISK, recipient, lead=leads[1]),
        "sla_breach_owner": outbox(OutboxMessage.Kind.SLA_BREACH_OWNER, recipient, context=digest),
        "sla_breach_manager": outbox(OutboxMessage.Kind.SLA_BREACH_MANAGER, recipient, context=digest),
        "webhook_disabled": outbox(OutboxMessage.Kind.WEBHOOK_DISABLED, recipient, context=webhook_context()),
        "manager": manager,
    }


@pytest.mark.parametrize("kind", ["assigned", "sla_risk", "sla_breach_owner", "sla_breach_manager", "webhook_disabled"])
def test_every_e_mail_is_german_in_berlin_time_for_a_german_recipient(kind, german_rep):
    subject, text, html = parts(each_kind(german_rep)[kind])

    assert english_left(subject) == [], subject
    assert english_left(text) == [], text
    assert english_words(html) == [], html
    assert "Guten Tag Jonas," in text and "Guten Tag Jonas," in html
    assert '<html lang="de">' in html
    if kind != "webhook_disabled":
        # 13:30 UTC is 14:30 in Berlin on Saturday 5 December, the zone named in words.
        for part in (text, html):
            assert "5. Dez., 14:30" in part and "(Europe/Berlin)" in part, part
            assert "13:30" not in part and "UTC" not in part


def test_german_e_mails_say_what_happened(german_rep):
    rows = each_kind(german_rep)

    assert parts(rows["assigned"])[0] == "Neuer MQL für Sie: Mona Schulz (Müller Maschinenbau GmbH)"
    subject, text, html = parts(rows["sla_breach_owner"])
    assert subject == "SLA-Verstoß: 2 Ihrer MQLs warten auf Ihre Antwort"
    assert "Diese 2 MQLs wurden nicht innerhalb der Antwortfrist beantwortet:" in text
    assert "er geht an einen anderen Vertriebsmitarbeiter" in html
    subject, text, _html = parts(rows["sla_breach_manager"])
    assert subject == "SLA-Verstoß bei 2 MQLs in Ihrem Team"
    assert "Inhaber: Jonas Becker" in text
    subject, text, html = parts(rows["webhook_disabled"])
    assert subject == "Webhook abgeschaltet: https://empfang.mueller.example/funnel"
    assert "Letzter Fehler: HTTP 503" in text


@pytest.mark.parametrize("kind", ["assigned", "sla_risk", "sla_breach_owner", "sla_breach_manager"])
def test_an_english_recipient_in_new_york_gets_english_and_new_york_time(kind, english_rep):
    subject, text, html = parts(each_kind(english_rep)[kind])

    assert "Hello Dana," in text and "Hello Dana," in html
    assert '<html lang="en">' in html
    for part in (text, html):
        assert "Sat 5 Dec, 08:30" in part and "(America/New_York)" in part, part
    if kind == "assigned":
        assert subject == "New MQL for you: Mona Schulz (Müller Maschinenbau GmbH)"
        assert "Please accept or reject before Sat 5 Dec, 08:30 (America/New_York)." in text


def test_a_recipient_without_a_profile_gets_the_site_language_in_utc(team):
    user = make_user("anna", role="rep", team=team, first_name="Anna")
    lead = mql(user, name="Mona Schulz", company="Müller Maschinenbau GmbH", email="mona@mueller.example")

    subject, text, _html = parts(outbox(OutboxMessage.Kind.ASSIGNED, user, lead=lead))

    assert subject.startswith("New MQL for you")
    assert "Sat 5 Dec, 13:30 (UTC)" in text


def test_the_language_of_the_e_mail_is_the_recipients_not_the_senders(german_rep, english_rep, settings, mailoutbox):
    from django.utils import translation

    # Promoting an MQL queues the e-mail to its owner; the deliverer runs in English.
    mql(german_rep, name="Mona Schulz", company="Müller Maschinenbau GmbH", email="mona@mueller.example")
    mql(english_rep, name="Lukas Weber", company="Weber Logistik AG", email="lukas@weber.example")

    with translation.override("en"):
        assert notifications.deliver_outbox(now=timezone.now() + timedelta(seconds=1)) >= 2
        assert translation.get_language() == "en"

    subjects = {message.to[0]: message.subject for message in mailoutbox}
    assert subjects[german_rep.email] == "Neuer MQL für Sie: Mona Schulz (Müller Maschinenbau GmbH)"
    assert subjects[english_rep.email] == "New MQL for you: Lukas Weber (Weber Logistik AG)"


# --- Slack --------------------------------------------------------------------------------------


def slack_texts(blocks):
    """What a reader of a Slack message sees: every text of its blocks."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            if isinstance(value.get("text"), str):
                found.append(value["text"])
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(blocks)
    return found


@pytest.fixture
def german_rita(rep):
    german(rep)
    return rep


def test_a_slack_message_to_a_german_addressee_is_german(slack_api, german_rita):  # noqa: F811
    lead_in_stage(Stage.MQL, owner=german_rita, name="Mona Schulz", company="Müller Maschinenbau GmbH")

    assert chat.deliver_chat_notices() == 1

    message = posted_message(slack_api)
    texts = [message["text"], *slack_texts(message["blocks"])]
    assert all(english_left(text) == [] for text in texts), texts
    assert message["text"] == "Neuer MQL für Sie: Mona Schulz"
    assert {"Annehmen", "Ablehnen…"} <= set(texts)
    assert any("fällig" in text for text in texts)


def test_a_german_click_gets_german_answers_and_modal(slack_api, german_rita, manager, client):  # noqa: F811
    lead = lead_in_stage(Stage.MQL, owner=german_rita, name="Mona Schulz", company="Müller Maschinenbau GmbH")
    chat.deliver_chat_notices()
    message = posted_message(slack_api)

    slack_request(client, click(message, "reject"))
    [opened] = slack_api.called("views.open")
    view = json.loads(opened["view"]) if isinstance(opened["view"], str) else opened["view"]
    assert view["title"]["text"] == "MQL ablehnen"
    assert all(english_left(text) == [] for text in slack_texts(view["blocks"]))

    transitions.reject_lead(lead, by=manager, reason="no-budget")
    slack_request(client, click(message, "accept"))
    [note] = slack_api.called("chat.postEphemeral")
    assert note["text"].startswith("Jemand anderes hat diesen Lead zuerst bearbeitet")
    [update] = slack_api.called("chat.update")
    update_texts = slack_texts(json.loads(update["blocks"]) if isinstance(update["blocks"], str) else update["blocks"])
    assert any(text.startswith("Abgelehnt von Mona") for text in update_texts), update_texts
    assert all(english_left(text) == [] for text in update_texts), update_texts


def test_a_team_channel_message_is_in_the_site_language_though_its_rep_reads_german(
    slack_api,  # noqa: F811
    german_rita,
):
    lead = lead_in_stage(Stage.MQL, owner=german_rita, name="Mona Schulz", company="Müller Maschinenbau GmbH")
    ChatNotice.objects.update(sent_at=timezone.now())  # the direct message is not what this test reads
    Lead.objects.filter(pk=lead.pk).update(sla_due_at=timezone.now() - timedelta(minutes=1))
    sla.flag_overdue_leads()

    assert chat.deliver_chat_notices() == 1

    message = posted_message(slack_api)
    assert message["channel"] == "CTEAM"
    assert message["text"] == "SLA breached: no answer within the response window: Mona Schulz"
