"""The marketing pages in German: scoring matrix, rule form, what-if, CSV import, rescore, admin pages.

A marketer whose profile says German (and Berlin time) sees no English word on any of them;
the data the tests write is German too.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from funnelapp import jsi18n
from leads import activities, imports, scoring
from leads.models import (
    Activity,
    ActivityKind,
    ImportJob,
    LeadRuleScore,
    ScoringConfig,
    ScoringRule,
    ScoringRun,
    Stage,
    TeamMember,
    WebhookSubscription,
)
from tests.factories import german, make_lead, make_team, make_user
from tests.support.german import english_in_text, english_words

HTMX = {"HTTP_HX_REQUEST": "true"}
B = ScoringRule.Category.BEHAVIOUR
D = ScoringRule.Category.DEMOGRAPHIC


@pytest.fixture
def monika(db):
    """A marketer who reads Funnel in German, in Berlin."""
    return german(make_user("monika", role="marketer", first_name="Monika", last_name="Schulz"))


@pytest.fixture
def client_de(client, monika):
    client.force_login(monika)
    return client


def ours(html):
    """What the marketing pages put on a page: its title and main region (the header, navigation and
    language switcher around them are the layout's, checked with it); a partial as it is."""
    return html  # the whole page: the layout around <main> speaks German too


def page(response, status=200, allow=()):
    assert response.status_code == status, response.content.decode()[:2000]
    html = response.content.decode()
    words = english_words(ours(html), allow=allow)
    assert words == [], "\n".join(words)
    return html


@pytest.fixture
def rules(monika):
    pricing = ScoringRule.objects.create(
        name="Preisseite besucht",
        category=B,
        activity_kind=ActivityKind.WEBSITE_VISIT,
        url_contains="/preise",
        points=15,
        cap=45,
        half_life_days=14,
    )
    webinar = ScoringRule.objects.create(
        name="Webinar besucht", category=B, activity_kind=ActivityKind.WEBINAR, points=10, is_active=False
    )
    boss = ScoringRule.objects.create(
        name="Geschäftsführung", category=D, field="job_title", operator="contains", value="Geschäftsführer", points=20
    )
    size = ScoringRule.objects.create(
        name="Mittelstand",
        category=D,
        field="company_size",
        operator="between",
        min_value=50,
        max_value=1000,
        points=10,
    )
    freemail = ScoringRule.objects.create(
        name="Freemail-Adresse", category=D, field="email_domain", operator="free_mail", points=-20
    )
    ScoringConfig.objects.update(mql_threshold=60, updated_by=monika, updated_at=timezone.now() - timedelta(days=3))
    return {"pricing": pricing, "webinar": webinar, "boss": boss, "size": size, "freemail": freemail}


# ---------- scoring matrix and rules ----------


def test_matrix_with_rules_runs_and_threshold_in_german(client_de, monika, rules):
    ScoringRun.objects.create(requested_by=monika, status=ScoringRun.Status.DONE, total=40, done=40, changed=7)
    ScoringRun.objects.create(requested_by=None, status=ScoringRun.Status.FAILED, total=40, done=12, error="Zeitlimit")
    ScoringRule.objects.filter(pk=rules["boss"].pk).update(updated_at=timezone.now() + timedelta(minutes=1))

    html = page(client_de.get(reverse("scoring:matrix")))

    assert "<h1>Scoring-Matrix</h1>" in html
    assert "Website-Besuch mit URL, die /preise enthält" in html
    assert "Halbwertszeit 14 Tage" in html
    assert "Position enthält Geschäftsführer" in html
    assert "Unternehmensgröße zwischen 50 und 1000" in html
    assert "E-Mail-Domain ist ein Freemail-Anbieter" in html
    assert "Score, ab dem ein Lead MQL wird" in html
    assert "Zuletzt geändert von Monika Schulz" in html and "vor 3\xa0Tagen" in html  # a no-break space
    assert "Änderungen noch nicht angewendet." in html
    assert "Vorherige Läufe" in html and "von Monika Schulz" in html
    assert "Die Neubewertung wurde abgebrochen: Zeitlimit." in html


def test_matrix_without_rules_in_german(client_de):
    html = page(client_de.get(reverse("scoring:matrix")))
    assert "Noch keine Verhaltensregeln." in html
    assert "Es lief noch keine Neubewertung." in html


def test_toggling_a_rule_answers_in_german(client_de, rules):
    response = client_de.post(reverse("scoring:rule_toggle", args=[rules["pricing"].pk]), **HTMX)
    html = page(response)
    assert "„Preisseite besucht“ ausgeschaltet. Bewerten Sie alle Leads neu" in html


def test_empty_rule_form_in_german(client_de):
    html = page(client_de.get(reverse("scoring:rule_create")), allow=["AT"])  # the country code of Austria
    assert "Neue Bewertungsregel" in html
    assert "Verhaltensregeln zählen, was ein Lead tut" in html
    assert 'placeholder="z. B. Preisseite besucht"' in html
    assert "Aktivität wählen…" in html and "Website-Besuch" in html
    assert "ist eines von (durch Kommas getrennt)" in html


def test_rule_form_with_errors_in_german(client_de):
    data = {
        "name": "",
        "category": "demographic",
        "field": "job_title",
        "operator": "one_of",
        "value": " , ",
        "points": "0",
        "cap": "-3",
        "is_active": "on",
    }
    html = page(client_de.post(reverse("scoring:rule_create"), data), status=400, allow=["AT"])
    assert "Bitte korrigieren Sie die 4 unten markierten Felder; nichts wurde gespeichert." in html
    assert "Geben Sie der Regel einen Namen, den das Marketing wiedererkennt." in html
    assert "Eine Regel mit 0 Punkten ändert nichts" in html
    assert "Die Obergrenze muss eine positive Zahl von Punkten sein" in html
    assert "Geben Sie die passenden Werte durch Kommas getrennt an, z. B. DE, AT, CH." in html


def test_rule_form_range_errors_in_german(client_de):
    data = {
        "name": "Großunternehmen",
        "category": "demographic",
        "field": "company_size",
        "operator": "between",
        "min_value": "500",
        "max_value": "20000000",
        "points": "5",
    }
    html = page(client_de.post(reverse("scoring:rule_create"), data), status=400, allow=["AT"])
    assert "Geben Sie eine Zahl bis 10.000.000 ein." in html


def test_edit_form_and_saved_message_in_german(client_de, rules):
    html = page(client_de.get(reverse("scoring:rule_edit", args=[rules["boss"].pk])), allow=["AT"])
    assert "„Geschäftsführung“ bearbeiten" in html
    data = {
        "name": "Geschäftsführung",
        "category": "demographic",
        "field": "job_title",
        "operator": "contains",
        "value": "Geschäftsführer",
        "points": "25",
        "is_active": "on",
    }
    response = client_de.post(reverse("scoring:rule_edit", args=[rules["boss"].pk]), data, follow=True)
    html = page(response)
    assert "Ihre Änderungen an „Geschäftsführung“ wurden gespeichert. Bewerten Sie alle Leads neu" in html


def test_rule_delete_confirm_in_german(client_de, rules):
    for number in range(2):
        lead = make_lead(name=f"Anna Krüger {number}", company="Krüger Logistik", job_title="Geschäftsführer")
        LeadRuleScore.objects.update_or_create(lead=lead, rule=rules["boss"], defaults={"matches": 1, "points": 20})

    html = page(client_de.get(reverse("scoring:rule_delete", args=[rules["boss"].pk])))

    assert "„Geschäftsführung“ löschen?" in html
    assert "Position enthält Geschäftsführer" in html
    assert "Sie gibt derzeit <strong>2 Leads</strong> Punkte." in html
    assert "Stattdessen ausschalten" in html


def test_rule_delete_confirm_of_a_rule_without_points_in_german(client_de, rules):
    html = page(client_de.get(reverse("scoring:rule_delete", args=[rules["freemail"].pk])))
    assert "Kein Lead erhält durch sie Punkte" in html


def test_score_breakdown_in_german(rules):
    lead = make_lead(name="Mona Schulz", company="Müller Maschinenbau GmbH", job_title="Geschäftsführer")
    visits = [
        Activity.objects.create(lead=lead, kind=ActivityKind.WEBSITE_VISIT, url="https://mueller.example/preise")
        for _ in range(4)
    ]
    lead = activities.apply_activities(visits, now=timezone.now())[lead.pk]
    with translation.override("de"):
        html = render_to_string(
            "scoring/_score_breakdown.html",
            {"lead": lead, "score_lines": scoring.explain(lead), "mql_threshold": scoring.threshold()},
        )
    assert english_words(html) == []
    assert "von 60 bis zum MQL" in html
    assert "begrenzt auf 45" in html
    assert "zutreffend" in html


# ---------- what-if ----------


@pytest.fixture
def history(rules):
    """Three leads of the last weeks: visits to /preise give 15 each; at threshold 45 the third became an MQL."""
    team = make_team("Nord")
    rep = make_user("jonas", role="rep", team=team, first_name="Jonas", last_name="Becker")
    TeamMember.objects.filter(user=rep).update(mql_capacity=1)
    ScoringRule.objects.exclude(pk=rules["pricing"].pk).delete()
    ScoringRule.objects.filter(pk=rules["pricing"].pk).update(half_life_days=None)
    ScoringConfig.objects.update(mql_threshold=45)
    now = timezone.now()
    leads = []
    for number, visits in enumerate((1, 2, 3)):
        lead = make_lead(
            name=f"Petra Wagner {number}",
            company=f"Wagner Bau {number}",
            email=f"petra{number}@wagner-bau.example",
            now=now - timedelta(days=20),
        )
        for i in range(visits):
            when = now - timedelta(days=10 - i)
            visit = Activity.objects.create(
                lead=lead, kind=ActivityKind.WEBSITE_VISIT, url="https://wagner-bau.example/preise", occurred_at=when
            )
            lead = activities.apply_activities([visit], now=when)[lead.pk]
        leads.append(lead)
    assert leads[2].stage == Stage.MQL
    return leads


def test_what_if_with_results_in_german(client_de, history):
    html = page(client_de.get(reverse("scoring:what_if"), {"threshold": "30", "weeks": "4"}))

    assert "Was wäre, wenn der Schwellenwert … wäre" in html
    assert "<strong>2</strong> MQLs" in html
    assert "+1 gegenüber erzeugt" in html
    assert "Leads, die hinzukämen" in html and "Petra Wagner 1" in html
    assert "Nie an den Vertrieb übergeben" in html
    assert "Auslastung pro Vertriebsmitarbeiter" in html and "Jonas Becker" in html
    assert "0,5" in html  # two MQLs in four weeks for one rep, with a German decimal comma


def test_what_if_chart_data_in_german(client_de, history):
    response = client_de.get(reverse("scoring:what_if"), {"threshold": "30", "weeks": "4"})
    chart = response.context["report"]["chart"]
    assert [series["label"] for series in chart["series"]] == ["Erzeugte MQLs", "Testschwellenwert 30"]
    assert all(english_in_text(label) == [] for label in chart["labels"])


def test_what_if_empty_and_refused_in_german(client_de, rules):
    page(client_de.get(reverse("scoring:what_if")))
    html = page(client_de.get(reverse("scoring:what_if"), {"threshold": "0", "weeks": "53"}), status=400)
    assert "Der Schwellenwert muss zwischen 1 und 100000 liegen." in html
    assert "Spielen Sie höchstens 52 Wochen nach." in html


# ---------- CSV import ----------

ROWS = (
    "name,email,company,country\n"
    "Mona Schulz,mona@mueller.example,Müller Maschinenbau GmbH,DE\n"
    "Karl Weber,,Weber AG,DE\n"
    "Jana Roth,keine-adresse,Roth KG,AT\n"
    "Uwe Lang,uwe@lang.example,Lang GmbH,Deutschland\n"
    "Mona S.,mona@mueller.example,Müller Maschinenbau,DE\n"
    "Tim Vogel,tim@vogel.example,Vogel OHG\n"
)


def csv_file(text=ROWS, name="messe-kontakte.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.fixture
def imported(client_de, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_de.post(reverse("scoring:import"), {"file": csv_file()})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    return job


def test_import_upload_page_in_german(client_de, imported):
    html = page(client_de.get(reverse("scoring:import")))
    assert "<h1>Leads importieren</h1>" in html
    assert "Was die Datei braucht" in html
    assert "e-mail-adresse, telefon, unternehmen, jobtitel" in html  # the lead fields, in German
    assert "Abgeschlossen" in html and "messe-kontakte.csv" in html


def test_refused_upload_in_german(client_de):
    response = client_de.post(reverse("scoring:import"), {"file": csv_file("%PDF-1.7 Inhalt", name="liste.csv")})
    html = page(response, status=400)
    assert "Das ist ein PDF-Dokument, keine CSV-Datei." in html
    response = client_de.post(reverse("scoring:import"), {"file": csv_file("name,firma\nMona,Müller\n")})
    html = page(response, status=400)
    assert "Keine Spalte enthält die E-Mail-Adresse" in html


def test_column_mapping_in_german(client_de):
    response = client_de.post(reverse("scoring:import_header"), {"file": csv_file("Vorname,Firma\nMona,Müller\n")})
    html = page(response)
    assert "2. Spalten zuordnen" in html
    assert "Keine Spalte sieht nach einer E-Mail-Adresse aus" in html
    assert "Nicht importieren" in html and "Unternehmensgröße" in html


def test_import_job_page_with_bad_rows_in_german(client_de, imported):
    job = imported
    assert job.status == ImportJob.Status.DONE

    html = page(client_de.get(reverse("scoring:import_job", args=[job.pk])))

    assert "Import von messe-kontakte.csv" in html
    assert "messe-kontakte.csv wird importiert: Den Fortschritt sehen Sie unten." in html
    assert "<dt>Gelesene Zeilen</dt><dd>6</dd>" in html
    assert "Fehlerhafte Zeilen" in html
    assert "E-Mail-Adresse fehlt" in html
    assert "&#x27;keine-adresse&#x27; ist keine gültige E-Mail-Adresse" in html
    assert "Land muss ein zweistelliger ISO-Code wie DE sein, nicht &#x27;Deutschland&#x27;" in html
    assert "Dublette von Zeile 2 (gleiche E-Mail-Adresse)" in html
    assert "4 Spalten erwartet, 3 vorhanden" in html


def test_import_job_status_in_german(client_de, imported):
    html = page(client_de.get(reverse("scoring:import_job_status", args=[imported.pk])))
    assert 'data-announce="Import abgeschlossen: 1 angelegt, 0 aktualisiert, 5 fehlgeschlagen."' in html


def test_import_job_page_shows_the_upload_time_in_the_viewers_zone(client_de, imported):
    ImportJob.objects.filter(pk=imported.pk).update(created_at=datetime(2026, 12, 5, 14, 30, tzinfo=UTC))
    html = page(client_de.get(reverse("scoring:import_job", args=[imported.pk])))
    # 14:30 UTC is 15:30 in Berlin.
    assert "Hochgeladen von Monika Schulz am" in html
    assert "5. Dez" in html and "2026, 15:30</time>" in html


def test_running_and_failed_import_pages_in_german(client_de, monika):
    running = ImportJob.objects.create(
        original_name="adressen.csv", created_by=monika, status=ImportJob.Status.RUNNING, total_bytes=1000
    )
    html = page(client_de.get(reverse("scoring:import_job", args=[running.pk])))
    assert "Läuft" in html and 'hx-trigger="every 1s"' in html
    failed = ImportJob.objects.create(
        original_name="adressen.csv",
        created_by=monika,
        status=ImportJob.Status.FAILED,
        error="Die hochgeladene Datei ist nicht mehr verfügbar; laden Sie sie erneut hoch.",
    )
    html = page(client_de.get(reverse("scoring:import_job", args=[failed.pk])))
    assert "Der Import wurde abgebrochen: Die hochgeladene Datei ist nicht mehr verfügbar" in html
    empty = ImportJob.objects.create(original_name="leer.csv", created_by=monika, status=ImportJob.Status.DONE)
    html = page(client_de.get(reverse("scoring:import_job", args=[empty.pk])))
    assert "Die Datei hat eine Kopfzeile, aber keine Datenzeilen" in html


def test_import_rows_page_in_german(client_de, imported):
    html = page(client_de.get(reverse("scoring:import_rows", args=[imported.pk])))
    assert "Alle Zeilen von messe-kontakte.csv" in html
    assert "Angelegt" in html and "Fehlerhaft" in html
    assert "Lead Nr." in html
    html = page(client_de.get(reverse("scoring:import_rows", args=[imported.pk]), {"fate": "updated"}))
    assert "Keine Zeilen mit diesem Ergebnis." in html


def test_bad_rows_download_in_german(client_de, imported):
    response = client_de.get(reverse("scoring:import_errors", args=[imported.pk]))
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "Zeile,Grund,Zeileninhalt"
    assert "E-Mail-Adresse fehlt" in lines[1]


def test_a_background_import_writes_in_its_uploaders_language(monika):
    job = ImportJob.objects.create(original_name="fehlt.csv", file="imports/2026/12/fehlt.csv", created_by=monika)
    job = imports.run_import(job.pk)
    assert job.status == ImportJob.Status.FAILED
    assert job.error == "Die hochgeladene Datei ist nicht mehr verfügbar; laden Sie sie erneut hoch."


@pytest.mark.django_db(transaction=True)
def test_the_writer_thread_gives_its_reasons_in_the_uploaders_language():
    uploader = german(make_user("ines", role="marketer", first_name="Ines", last_name="Hofmann"))
    content = "name,email\n,petra@wagner-bau.example\nMona Schulz,mona@mueller.example\n"
    job = imports.start_import(csv_file(content), by=uploader, queue=False)
    job = imports.run_import(job.pk)  # outside a transaction: the database writes in a thread of its own
    assert list(job.row_errors.values_list("reason", flat=True)) == ["Name fehlt (ein neuer Lead braucht einen)"]


def test_import_of_an_english_uploader_stays_english(client, db, django_capture_on_commit_callbacks):
    client.force_login(make_user("mark", role="marketer", first_name="Mark"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("scoring:import"), {"file": csv_file()})
    reasons = list(ImportJob.objects.get().row_errors.values_list("reason", flat=True))
    assert "e-mail address is missing" in reasons


# ---------- rescore ----------


def test_rescore_panel_and_status_in_german(client_de, rules):
    html = page(client_de.post(reverse("scoring:rescore"), **HTMX))
    assert "Alle Leads neu bewerten" in html
    assert "Wartet auf einen Worker…" in html
    run = ScoringRun.objects.get()

    html = page(client_de.get(reverse("scoring:rescore_status", args=[run.pk])))
    assert f"Lauf Nr. {run.pk}" in html and "Wartend" in html

    ScoringRun.objects.filter(pk=run.pk).update(status=ScoringRun.Status.DONE, total=12, done=12, changed=3, promoted=1)
    html = page(client_de.get(reverse("scoring:rescore_status", args=[run.pk])))
    assert "12 von 12" in html
    assert 'data-announce="Neubewertung abgeschlossen: 3 Scores geändert, 1 Leads befördert."' in html

    html = page(client_de.get(reverse("scoring:rescore_panel")))
    assert "Eine Neubewertung stuft nie zurück" in html


def test_rescore_flash_message_in_german(client_de, rules):
    html = page(client_de.post(reverse("scoring:rescore"), follow=True))
    assert "Alle Leads werden neu bewertet: Den Fortschritt sehen Sie unten." in html


def test_threshold_saved_and_refused_in_german(client_de, rules):
    html = page(client_de.post(reverse("scoring:threshold"), {"mql_threshold": "80"}, follow=True))
    assert "Der MQL-Schwellenwert ist jetzt 80." in html
    html = page(client_de.post(reverse("scoring:threshold"), {"mql_threshold": "0"}), status=400)
    assert "Der Schwellenwert muss zwischen 1 und 100000 liegen." in html


# ---------- JavaScript and admin ----------


def test_javascript_strings_in_german(client_de):
    catalogue = client_de.get(jsi18n.url("de")).content.decode()
    assert "Die Spalten von %(name)s werden gelesen" in catalogue
    assert (
        "Die Spalten lie\\u00dfen sich nicht lesen" in catalogue or "Die Spalten ließen sich nicht lesen" in catalogue
    )


@pytest.fixture
def admin_de(client, db):
    client.force_login(german(make_user("ada", role="admin", is_staff=True, is_superuser=True, first_name="Ada")))
    return client


def test_admin_release_page_in_german(admin_de):
    html = admin_de.get(reverse("admin:leads_erasedaddress_release")).content.decode()
    assert "Funnel weist die Adresse einer Person zurück" in html
    assert 'value="Freigeben"' in html
    response = admin_de.post(reverse("admin:leads_erasedaddress_release"), {"address": "mona@mueller.example"})
    assert "Diese Adresse wurde nicht gelöscht" in response.content.decode()
    html = admin_de.get(reverse("admin:leads_erasedaddress_changelist")).content.decode()
    assert "Adresse freigeben" in html


def test_admin_webhook_replay_page_in_german(admin_de):
    subscription = WebhookSubscription.objects.create(url="https://crm.mueller.example/haken", event_types=["lead.mql"])
    html = admin_de.get(reverse("admin:leads_webhooksubscription_replay", args=[subscription.pk])).content.decode()
    assert "Ereignisse erneut an https://crm.mueller.example/haken senden" in html
    assert "Zeitzone Europe/Berlin" in html
    assert 'value="Ereignisse erneut einreihen"' in html
    response = admin_de.post(
        reverse("admin:leads_webhooksubscription_replay", args=[subscription.pk]),
        {"start": "2026-12-05 10:00", "end": "2026-12-04 10:00"},
    )
    assert "Das Ende muss nach dem Beginn liegen." in response.content.decode()


def test_admin_scoring_rule_and_sla_pages_in_german(admin_de):
    html = admin_de.get(reverse("admin:leads_scoringrule_add")).content.decode()
    assert "Art der Regel" in html and "Verhalten" in html
    html = admin_de.get(reverse("admin:leads_slapolicy_add")).content.decode()
    assert "Reaktionsfrist" in html and "Eskalation" in html
    assert "Funnel-Verwaltung" in html
