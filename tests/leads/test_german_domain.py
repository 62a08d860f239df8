"""The domain layer speaks German: choice labels, every refusal of a transition, model validation."""

from datetime import datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from leads import transitions
from leads.business_hours import BusinessCalendar
from leads.company_sizes import CompanySizeError, parse_company_size
from leads.models import (
    ActivityKind,
    BusinessHours,
    ChatNotice,
    EventKind,
    ImportJob,
    ImportRowFate,
    MqlEpisode,
    NoticeKind,
    NotificationPreferences,
    OptOut,
    OutboxMessage,
    Priority,
    ScoringRule,
    ScoringRun,
    SLAPolicy,
    Stage,
    TeamMember,
    validate_time_zone,
)
from leads.privacy import refusal

from ..factories import lead_in_stage, make_lead, make_team, make_user
from ..support.german import english_in_text

NOW = datetime.fromisoformat("2026-12-05T13:00:00+00:00")

# Labels spelled the same in both languages (product terms, brand names).
SAME_IN_GERMAN = {"Lead", "MQL", "Normal", "Slack", "Microsoft Teams"}
CHOICES = [
    Stage,
    Priority,
    EventKind,
    ActivityKind,
    NoticeKind,
    TeamMember.Role,
    MqlEpisode.RejectedFrom,
    OptOut.Source,
    OutboxMessage.Kind,
    ChatNotice.Target,
    ImportJob.Status,
    ImportRowFate.Fate,
    ScoringRule.Category,
    ScoringRule.Field,
    ScoringRule.Operator,
    ScoringRun.Status,
]


@pytest.fixture
def team(db):
    return make_team("Vertrieb Süd")


@pytest.fixture
def jonas(team):
    return make_user("jonas", role="rep", team=team, first_name="Jonas", last_name="Becker")


@pytest.fixture
def lena(team):
    return make_user("lena", role="rep", team=team, first_name="Lena", last_name="Vogel")


@pytest.fixture
def mona(team):
    return make_user(
        "mona", role="manager", team=team, team_role=TeamMember.Role.MANAGER, first_name="Mona", last_name="Schulz"
    )


@pytest.fixture
def karl(db):
    return make_user("karl", role="marketer", first_name="Karl", last_name="Wagner")


@pytest.fixture
def german():
    with translation.override("de"):
        yield


def refusal_of(call):
    """The message of the LeadError ``call`` raises."""
    with pytest.raises(transitions.LeadError) as caught:
        call()
    return caught.value.message


def german_sentence(message, expected):
    assert message == expected
    assert english_in_text(message) == []


@pytest.mark.parametrize("choices", CHOICES, ids=lambda c: c.__qualname__)
def test_every_label_is_german(choices):
    with translation.override("en"):
        english = {member: str(member.label) for member in choices}
    with translation.override("de"):
        for member in choices:
            label = str(member.label)
            assert english_in_text(label) == [], (member, label)
            assert label != english[member] or english[member] in SAME_IN_GERMAN, (member, label)


def test_labels_in_english_are_unchanged():
    with translation.override("en"):
        assert [str(label) for label in Stage.labels] == [
            "Lead",
            "MQL",
            "SAL (accepted)",
            "SQL (qualified)",
            "Rejected",
            "Merged",
        ]
        assert str(EventKind.RECYCLED.label) == "Recycled to nurture"
        assert str(ActivityKind.EMAIL_CLICK.label) == "E-mail click-through"
        assert str(NoticeKind.SLA_RISK.label) == "An MQL of mine has a quarter of its SLA window left"


def test_some_labels_read_as_expected(german):
    assert str(Stage.SAL.label) == "SAL (angenommen)"
    assert str(Stage.REJECTED.label) == "Abgelehnt"
    assert str(EventKind.ACCEPTED.label) == "Angenommen"
    assert str(ActivityKind.CALL.label) == "Anruf"
    assert str(NoticeKind.SLA_BREACH.label) == "Ein MQL hat seine SLA-Frist überschritten"
    assert str(TeamMember.Role.REP.label) == "Vertriebsmitarbeiter"


def test_verbose_names_and_help_texts_are_german(german):
    assert str(SLAPolicy._meta.verbose_name_plural) == "SLA-Richtlinien"
    help_text = str(SLAPolicy._meta.get_field("reassign_on_breach").help_text)
    assert help_text == "Den Lead nach einem SLA-Verstoß einem anderen Vertriebsmitarbeiter geben."


def test_accepting_a_lead_that_is_no_mql_is_refused_in_german(german, jonas, team):
    lead = lead_in_stage(Stage.SAL, owner=jonas, team=team)

    german_sentence(
        refusal_of(lambda: transitions.accept_lead(lead, by=jonas)),
        "Ein Lead in der Phase SAL (angenommen) kann nicht angenommen werden: Das geht nur in der Phase MQL.",
    )


def test_qualifying_from_the_wrong_stage_is_refused_in_german(german, jonas, team):
    lead = lead_in_stage(Stage.MQL, owner=jonas, team=team)

    german_sentence(
        refusal_of(lambda: transitions.qualify_lead(lead, by=jonas)),
        "Ein Lead in der Phase MQL kann nicht qualifiziert werden: Das geht nur in der Phase SAL (angenommen).",
    )


def test_several_allowed_stages_are_joined_in_german(german, team):
    admin = make_user("petra", role="admin", first_name="Petra", last_name="Lange")
    lead = lead_in_stage(Stage.MERGED, team=team)

    message = refusal_of(lambda: transitions.merge_lead(lead, by=admin, into=make_lead()))

    assert message.startswith("Ein Lead in der Phase Zusammengeführt kann nicht zusammengeführt werden")
    assert " oder " in message
    assert english_in_text(message) == []


def test_rejecting_without_a_reason_is_refused_in_german(german, jonas, team):
    lead = lead_in_stage(Stage.MQL, owner=jonas, team=team)

    german_sentence(
        refusal_of(lambda: transitions.reject_lead(lead, by=jonas, reason="")), "Ein Ablehnungsgrund ist erforderlich."
    )


def test_acting_without_permission_is_refused_in_german(german, jonas, lena, karl, team):
    lead = lead_in_stage(Stage.MQL, owner=lena, team=team)

    german_sentence(
        refusal_of(lambda: transitions.accept_lead(lead, by=jonas)), "Sie dürfen diesen Lead nicht annehmen."
    )
    german_sentence(
        refusal_of(lambda: transitions.create_lead(by=jonas, name="Anna Roth", email="anna.roth@beispiel.de")),
        "Nur Marketing und Administratoren dürfen Leads anlegen.",
    )
    german_sentence(
        refusal_of(lambda: transitions.reassign_lead(lead, by=karl, to=jonas)),
        "Sie dürfen diesen Lead nicht neu zuweisen.",
    )


def test_input_errors_are_german(german, jonas, karl, team):
    make_lead(by=karl, name="Anna Roth", email="anna.roth@beispiel.de")
    lead = lead_in_stage(Stage.MQL, owner=jonas, team=team)

    german_sentence(
        refusal_of(lambda: transitions.create_lead(by=karl, name="Anna Roth", email="anna.roth@beispiel.de")),
        "Ein Lead mit der E-Mail-Adresse anna.roth@beispiel.de existiert bereits.",
    )
    german_sentence(
        refusal_of(lambda: transitions.accept_lead(lead, by=jonas, note="x" * 2001)),
        "Die Notiz ist zu lang (2001 Zeichen; höchstens 2000).",
    )
    german_sentence(
        refusal_of(lambda: transitions.update_lead(lead, by=karl, company_size="viele")),
        "Die Unternehmensgröße muss eine Anzahl von Beschäftigten oder ein Bereich wie 51-200, 1.001-5.000 "
        "oder 10k+ sein, nicht 'viele'.",
    )
    later = timezone.now() + timedelta(days=1)
    german_sentence(
        refusal_of(lambda: transitions.log_activity(lead, by=jonas, kind="call", occurred_at=later)),
        "Eine Aktivität kann nicht in der Zukunft stattgefunden haben.",
    )


def test_reassigning_to_the_owner_is_refused_in_german(german, jonas, mona, team):
    lead = lead_in_stage(Stage.MQL, owner=jonas, team=team)

    german_sentence(
        refusal_of(lambda: transitions.reassign_lead(lead, by=mona, to=jonas)),
        "Inhaber dieses Leads ist bereits Jonas Becker.",
    )
    german_sentence(
        refusal_of(lambda: transitions.reassign_lead(lead, by=mona, to=None)),
        "Wählen Sie den Vertriebsmitarbeiter, der diesen Lead erhalten soll.",
    )


def test_undo_refusals_are_german(german, jonas, team):
    now = timezone.now()
    lead = lead_in_stage(Stage.MQL, owner=jonas, team=team, now=now)

    german_sentence(
        refusal_of(lambda: transitions.undo_lead(lead, by=jonas, now=now)),
        "Nichts rückgängig zu machen: Sie haben diesen Lead weder angenommen noch abgelehnt noch qualifiziert.",
    )
    lead = transitions.accept_lead(lead, by=jonas, now=now)
    german_sentence(
        refusal_of(lambda: transitions.undo_lead(lead, by=jonas, now=now + timedelta(minutes=12))),
        "Zu spät zum Rückgängigmachen: Sie haben diesen Lead vor 12 Minuten angenommen, "
        "und eine Aktion lässt sich nur 10 Minuten lang rückgängig machen.",
    )
    lead = transitions.undo_lead(lead, by=jonas, now=now + timedelta(minutes=1))
    german_sentence(
        refusal_of(lambda: transitions.undo_lead(lead, by=jonas, now=now + timedelta(minutes=2))),
        "Nichts rückgängig zu machen: Sie haben Ihre letzte Aktion hier bereits rückgängig gemacht "
        "(Sie hatten den Lead angenommen).",
    )


def test_someone_acting_since_is_said_in_german_at_the_viewers_time(german, jonas, lena, mona, team):
    lead = lead_in_stage(Stage.MQL, owner=jonas, team=team, now=NOW)
    lead = transitions.accept_lead(lead, by=jonas, now=NOW)
    transitions.reassign_lead(lead, by=mona, to=lena, now=NOW + timedelta(minutes=1))

    with timezone.override("Europe/Berlin"):
        message = refusal_of(lambda: transitions.undo_lead(lead, by=jonas, now=NOW + timedelta(minutes=2)))

    # 13:01 UTC is 14:01 in Berlin.
    german_sentence(
        message,
        "Rückgängigmachen nicht möglich: Mona Schulz hat diesen Lead um 14:01 neu zugewiesen, "
        "nachdem Sie ihn angenommen hatten.",
    )


def test_the_same_refusals_stay_english(jonas, team):
    lead = lead_in_stage(Stage.SAL, owner=jonas, team=team)

    with translation.override("en"):
        assert refusal_of(lambda: transitions.accept_lead(lead, by=jonas)) == (
            "Cannot accept a lead in stage SAL (accepted): only a lead in stage MQL can."
        )
        assert refusal_of(lambda: transitions.undo_lead(lead, by=jonas)) == (
            "Nothing to undo: you have not accepted, rejected or qualified this lead."
        )


def test_the_history_stores_english_labels_whatever_the_language(german, jonas, team):
    lead = lead_in_stage(Stage.MQL, owner=jonas, team=team)

    transitions.log_activity(lead, by=jonas, kind=ActivityKind.CALL)

    assert lead.events.filter(kind=EventKind.ACTIVITY).get().payload["label"] == "Call"


def test_model_validation_is_german(german, jonas):
    hours = BusinessHours(name="Büro München", time_zone="Europe/Berlin", opens=time(17), closes=time(9))
    with pytest.raises(ValidationError) as caught:
        hours.clean()
    assert caught.value.message_dict["closes"] == [
        "Das Ende muss nach dem Beginn der Geschäftszeit liegen (Zeiten über Mitternacht werden nicht unterstützt)."
    ]

    no_days = BusinessHours(name="Büro Köln", time_zone="Europe/Berlin", opens=time(9), closes=time(17))
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"):
        setattr(no_days, day, False)
    with pytest.raises(ValidationError) as caught:
        no_days.clean()
    assert caught.value.messages == ["Wählen Sie mindestens einen Werktag."]

    policy = SLAPolicy(name="Standard", is_default=True, source="messe")
    with pytest.raises(ValidationError) as caught:
        policy.clean()
    assert caught.value.messages == [
        "Die Standardrichtlinie gilt für jeden Lead: Lassen Sie Quelle und Priorität leer."
    ]

    with pytest.raises(ValidationError) as caught:
        validate_time_zone("Mars/Olympus")
    assert caught.value.messages == [
        "Unbekannte Zeitzone 'Mars/Olympus'; verwenden Sie einen IANA-Namen wie „Europe/Berlin“."
    ]

    prefs = NotificationPreferences(user=jonas, quiet_from=time(22))
    with pytest.raises(ValidationError) as caught:
        prefs.full_clean()
    assert caught.value.messages == ["Geben Sie Beginn und Ende Ihrer Ruhezeiten an oder keines von beiden."]
    for message in caught.value.messages:
        assert english_in_text(message) == []


def test_model_validation_stays_english():
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        SLAPolicy(name="Standard", is_default=True, is_active=False).clean()
    assert caught.value.message_dict == {"is_active": ["The default policy must stay active."]}


def test_calendar_and_company_size_messages_are_german(german):
    with pytest.raises(ValueError) as caught:
        BusinessCalendar("Europe/Berlin", frozenset(), time(9), time(17))
    assert str(caught.value) == "Ein Geschäftszeitenkalender braucht mindestens einen Werktag."

    with pytest.raises(CompanySizeError) as caught:
        parse_company_size("20000000")
    assert caught.value.sentence == "Die Unternehmensgröße '20000000' liegt über 10.000.000 Beschäftigten."

    message = refusal("anna.roth@beispiel.de", NOW)
    assert message.startswith("anna.roth@beispiel.de gehört zu einer Person, deren Daten am 2026-12-05 gelöscht")
    assert english_in_text(message) == []


def test_policy_window_is_described_in_german(german):
    assert SLAPolicy(name="Schnell", response_minutes=90).describe_window() == "1 Std. 30 Min., rund um die Uhr"
    with translation.override("en"):
        assert SLAPolicy(name="Schnell", response_minutes=90).describe_window() == "1 h 30 min, round the clock"


def test_records_name_themselves_in_german(german, jonas, team):
    lead = lead_in_stage(Stage.MQL, owner=jonas, team=team)
    episode = MqlEpisode.objects.get(lead=lead)

    assert str(episode) == f"MQL-Episode 1 von Lead {lead.pk}"
    assert str(NotificationPreferences(user=jonas)) == "Benachrichtigungseinstellungen von jonas"
    with translation.override("en"):
        assert str(episode) == f"MQL episode 1 of lead {lead.pk}"


def test_the_api_refuses_in_the_language_asked_for(jonas, team):
    lead = lead_in_stage(Stage.SAL, owner=jonas, team=team)
    token, _created = Token.objects.get_or_create(user=jonas)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.post(reverse("api:lead-accept", args=[lead.pk]), {}, format="json", HTTP_ACCEPT_LANGUAGE="de")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Ein Lead in der Phase SAL (angenommen) kann nicht angenommen werden: Das geht nur in der Phase MQL.",
        "code": "conflict",
    }
