"""The lead workspace in German: queue, lead list, lead detail, lead edit, the rows actions put in place,
the live rows' sentences, the CSV export, and the SLA words; times in the viewer's own zone."""

import csv
import io
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import formats, timezone, translation

from leads import history, live, sla, transitions, views
from leads.models import (
    Activity,
    ActivityKind,
    BusinessHours,
    EventKind,
    Lead,
    SavedView,
    SLAPolicy,
    Stage,
    TeamMember,
)
from leads.templatetags import leads_ui, sla_ui
from tests.factories import german, lead_in_stage, make_team, make_user
from tests.support.german import english_in_text, readable_texts

HTMX = {"HTTP_HX_REQUEST": "true"}
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def vertrieb(db):
    return make_team("Vertrieb Nord")


@pytest.fixture
def jonas(vertrieb):
    return german(make_user("jonas", role="rep", team=vertrieb, first_name="Jonas", last_name="Becker"))


@pytest.fixture
def lena(vertrieb):
    return make_user("lena", role="rep", team=vertrieb, first_name="Lena", last_name="Wolf")


@pytest.fixture
def mona(vertrieb):
    return german(
        make_user(
            "mona",
            role="manager",
            team=vertrieb,
            team_role=TeamMember.Role.MANAGER,
            first_name="Mona",
            last_name="Schulz",
        )
    )


@pytest.fixture
def petra(db):
    return german(make_user("petra", role="marketer", first_name="Petra", last_name="Krause"))


def mql(owner, team, name="Klaus Meier", company="Müller Maschinenbau GmbH", **fields):
    fields.setdefault("job_title", "Einkaufsleiter")
    fields.setdefault("source", "Messe")
    fields.setdefault("campaign", "Frühjahr")
    slug = name.lower().replace(" ", ".")
    return lead_in_stage(
        Stage.MQL, owner=owner, team=team, name=name, company=company, email=f"{slug}@maschinenbau.de", **fields
    )


def signed_in(client, user):
    client.force_login(user)
    return client


def main_of(html):
    """The whole page (its layout around <main> speaks German too), or the partial."""
    return html


# Whole texts to leave out of the check: none, every part of the product speaks German.
OTHER_AREAS = ()


def english_left(html):
    """English words the page's own content still shows, leaving out the texts of OTHER_AREAS."""
    texts = [" ".join(text.split()) for text in readable_texts(main_of(html))]
    return [found for text in texts if text not in OTHER_AREAS for found in english_in_text(text)]


def assert_german(html, *expected):
    assert english_left(html) == []
    for text in expected:
        assert text in html, text


# The queue


def test_queue_with_rows_is_german(client, jonas, vertrieb):
    mql(jonas, vertrieb)
    mql(jonas, vertrieb, name="Sabine Hoffmann", company="Hoffmann Logistik AG", priority="high")

    html = signed_in(client, jonas).get(reverse("leads:queue")).content.decode()

    assert_german(
        html,
        "Ihr Eingang",
        "offene MQLs warten auf Ihre Antwort",
        "fällig in",
        "Hohe Priorität",
        "Ablehnungsgrund",
        "Tastenkürzel",
    )
    assert html.count('class="lead-row') == 2


def test_queue_times_are_in_the_viewers_zone(client, jonas, vertrieb):
    lead = mql(jonas, vertrieb)

    html = signed_in(client, jonas).get(reverse("leads:queue")).content.decode()

    due = lead.sla_due_at
    with translation.override("de"):
        berlin = formats.date_format(due.astimezone(BERLIN), "SHORT_DATETIME_FORMAT")
        utc = formats.date_format(due.astimezone(UTC), "SHORT_DATETIME_FORMAT")
    assert berlin != utc
    assert f'data-local-time="{due.replace(microsecond=0).isoformat()}">{berlin}</span>' in html


def test_empty_queue_is_german(client, jonas):
    html = signed_in(client, jonas).get(reverse("leads:queue")).content.decode()

    assert_german(html, "Eingang leer", "Keine MQLs warten auf Sie.")


# The lead list


def test_lead_list_with_filters_and_saved_views_is_german(client, mona, jonas, vertrieb):
    mql(jonas, vertrieb)
    lead_in_stage(Stage.SAL, owner=jonas, team=vertrieb, name="Sabine Hoffmann", company="Hoffmann Logistik AG")
    SavedView.objects.create(owner=mona, name="Heiße Leads", query="sort=score", team=vertrieb)
    client = signed_in(client, mona)

    html = client.get(reverse("leads:list"), {"stage": "mql", "sort": "score", "q": "Meier"}).content.decode()

    assert_german(html, "Gespeicherte Ansichten", "Heiße Leads", "Mit Vertrieb Nord teilen", "Höchster Score")
    assert "Klaus Meier" in html and "Sabine Hoffmann" not in html
    assert english_left(client.get(reverse("leads:list")).content.decode()) == []


def test_lead_list_without_results_and_with_a_bad_filter_is_german(client, mona):
    client = signed_in(client, mona)

    empty = client.get(reverse("leads:list"), {"q": "Niemand"}).content.decode()
    bad = client.get(reverse("leads:list"), {"score_min": "50", "score_max": "10"})

    assert_german(empty, "Keine Leads passen zu dieser Suche.")
    assert bad.status_code == 400
    assert_german(bad.content.decode(), "Der höchste Score darf nicht unter dem niedrigsten liegen.")


def test_saving_a_view_says_so_in_german(client, mona):
    response = signed_in(client, mona).post(
        reverse("leads:save_view"), {"name": "Meine Ansicht", "query": "stage=mql"}, follow=True
    )

    assert_german(response.content.decode(), "Die Ansicht „Meine Ansicht“ wurde gespeichert.")


def test_csv_export_headers_are_german(client, mona, jonas, vertrieb):
    mql(jonas, vertrieb)

    response = signed_in(client, mona).get(reverse("leads:export_list"))

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:6] == ["ID", "Name", "E-Mail", "Telefon", "Unternehmen", "Phase"]
    assert rows[1][1] == "Klaus Meier"


# The lead detail


def test_lead_detail_timeline_is_german(client, mona, jonas, lena, vertrieb):
    # Routing skips Lena: the history keeps why, in English words the page puts into German.
    TeamMember.objects.filter(user=lena).update(is_available=False)
    lead = lead_in_stage(
        Stage.SAL,
        owner=jonas,
        team=vertrieb,
        name="Klaus Meier",
        company="Müller Maschinenbau GmbH",
        email="klaus.meier@maschinenbau.de",
        job_title="Einkaufsleiter",
        source="Messe",
        campaign="Frühjahr",
    )
    transitions.log_activity(lead, by=jonas, kind=ActivityKind.CALL, note="Rückruf am Montag vereinbart.")
    Activity.objects.create(
        lead=lead, kind=ActivityKind.WEBSITE_VISIT, url="/preise", occurred_at=timezone.now() - timedelta(hours=2)
    )
    history.record(
        lead, EventKind.SCORE_CHANGED, by=None, now=timezone.now(), payload={"from": 40, "to": 47, "cause": "activity"}
    )

    html = signed_in(client, mona).get(reverse("leads:detail", args=[lead.pk])).content.decode()

    assert_german(
        html,
        "Kontakt und Unternehmen",
        "Einkaufsleiter bei Müller Maschinenbau GmbH",
        "Verlauf",
        "+7 Punkte",
        "(Aktivität)",
        "Rückruf am Montag vereinbart.",
        "von Jonas Becker",
        "von einer Integration",
        "Meilensteine",
        "Antwort-SLA",
        "Lena Wolf: als nicht verfügbar markiert",
    )


def test_lead_detail_of_a_rejected_lead_is_german(client, mona, jonas, vertrieb):
    lead = mql(jonas, vertrieb)
    transitions.reject_lead(lead, by=jonas, reason="no-budget", note="Kein Budget vor 2027.")

    html = signed_in(client, mona).get(reverse("leads:detail", args=[lead.pk])).content.decode()

    assert_german(html, "Kein Budget", "Grund:", "Kein Budget vor 2027.")


def test_lead_detail_times_are_in_the_viewers_zone(client, mona, jonas, vertrieb):
    lead = mql(jonas, vertrieb)

    html = signed_in(client, mona).get(reverse("leads:detail", args=[lead.pk])).content.decode()

    with translation.override("de"):
        created = formats.date_format(lead.created_at.astimezone(BERLIN), "DATETIME_FORMAT")
    assert f"{created}</time>" in html


# Editing a lead


def test_lead_edit_and_its_errors_are_german(client, petra, jonas, vertrieb):
    lead = mql(jonas, vertrieb)
    client = signed_in(client, petra)
    url = reverse("leads:edit", args=[lead.pk])

    page = client.get(url).content.decode()
    data = {"version": lead.version, "name": "Klaus Meier", "email": lead.email, "company": lead.company}
    data.update(source="Messe", campaign="Frühjahr", priority=lead.priority, country="XYZ")
    refused = client.post(url, data)

    assert_german(page, "Klaus Meier bearbeiten", "Änderungen speichern")
    assert refused.status_code == 400
    assert_german(refused.content.decode(), "Bitte korrigieren Sie das unten markierte Feld", "ISO 3166-1")


def test_saving_a_lead_edit_says_so_in_german(client, petra, jonas, vertrieb):
    lead = mql(jonas, vertrieb)
    data = {"version": lead.version, "name": "Klaus Meier", "email": lead.email, "company": lead.company}
    data.update(job_title="Geschäftsführer", source="Messe", campaign="Frühjahr", priority=lead.priority)

    response = signed_in(client, petra).post(reverse("leads:edit", args=[lead.pk]), data, follow=True)

    assert_german(response.content.decode(), "Die Änderungen an Klaus Meier wurden gespeichert.")


# Rows in place: accept, reject, undo, log, reassign


def post(client, name, lead, data=None, **headers):
    body = {"version": lead.version, "next": reverse("leads:queue"), **(data or {})}
    return client.post(reverse(name, args=[lead.pk]), body, **HTMX, **headers)


def test_accept_reject_and_undo_rows_are_german(client, jonas, vertrieb):
    first = mql(jonas, vertrieb)
    second = mql(jonas, vertrieb, name="Sabine Hoffmann", company="Hoffmann Logistik AG")
    client = signed_in(client, jonas)

    accepted = post(client, "leads:accept", first).content.decode()
    rejected = post(client, "leads:reject", second, {"reason": "no-budget"}).content.decode()
    first.refresh_from_db()
    undone = post(client, "leads:undo", first).content.decode()

    assert_german(accepted, "Klaus Meier angenommen: Der Lead steht jetzt in Ihren angenommenen Leads.", "Rückgängig")
    assert_german(rejected, "Sabine Hoffmann abgelehnt.")
    # Undone from the queue: the row comes back with its countdown.
    assert_german(undone, "fällig in", "Annehmen")


def test_refused_actions_and_gone_rows_are_german(client, jonas, lena, mona, vertrieb):
    lead = mql(jonas, vertrieb)
    client = signed_in(client, jonas)

    no_reason = post(client, "leads:reject", lead)
    transitions.reassign_lead(lead, by=mona, to=lena)
    gone = post(client, "leads:accept", lead)

    assert no_reason.status_code == 400
    assert_german(no_reason.content.decode(), "Ein Ablehnungsgrund ist erforderlich.")
    assert gone.status_code == 404
    with translation.override("de"), timezone.override(BERLIN):
        at = formats.date_format(timezone.localtime(timezone.now()), "TIME_FORMAT")
    assert_german(gone.content.decode(), f"Mona Schulz hat diesen Lead um {at} Lena Wolf neu zugewiesen")


def test_accepted_row_after_logging_an_activity_is_german(client, jonas, vertrieb):
    lead = lead_in_stage(Stage.SAL, owner=jonas, team=vertrieb, name="Klaus Meier", company="Müller Maschinenbau GmbH")

    html = post(signed_in(client, jonas), "leads:log_activity", lead, {"kind": "meeting"}).content.decode()

    assert_german(html, "Termin mit Klaus Meier erfasst.", "Letzte Aktivität", "Disqualifizieren")


def test_team_row_after_reassigning_is_german(client, mona, jonas, lena, vertrieb):
    lead = mql(jonas, vertrieb)
    data = {"to": lena.pk, "next": reverse("leads:team")}

    html = post(signed_in(client, mona), "leads:reassign", lead, data).content.decode()

    assert_german(html, "Klaus Meier wurde Lena Wolf neu zugewiesen.", "Inhaber")


# The live rows' sentences


def test_live_rows_speak_german(client, jonas, mona, vertrieb):
    leads = [mql(jonas, vertrieb), mql(jonas, vertrieb, name="Sabine Hoffmann", company="Hoffmann Logistik AG")]
    cursor = live.cursor()
    transitions.accept_lead(leads[0], by=mona, now=timezone.now() - timedelta(minutes=2))
    transitions.reject_lead(leads[1], by=mona, reason="no-budget")

    data = signed_in(client, jonas).get(
        reverse("leads:changes"), {"after": cursor, "ids": ",".join(str(lead.pk) for lead in leads)}
    )

    changes = data.json()["changes"]
    assert changes[str(leads[0].pk)] == "Mona Schulz hat diesen Lead vor 2\xa0Minuten angenommen."
    assert changes[str(leads[1].pk)] == "Mona Schulz hat diesen Lead vor 0\xa0Minuten abgelehnt."


def test_live_rows_error_is_german(client, jonas):
    response = signed_in(client, jonas).get(reverse("leads:changes"), {"after": "x"})

    assert response.status_code == 400
    assert response.json()["detail"] == "Senden Sie after=<Cursor der Seite>, eine ganze Zahl."


# The words for SLA clocks and times


def test_durations_and_relative_times_in_german():
    now = datetime(2026, 12, 5, 14, 30, tzinfo=UTC)
    with translation.override("de"):
        assert sla_ui.duration(3 * 3600 + 5 * 60) == "3 Std. 05 Min."
        assert sla_ui.duration(86400 + 3 * 3600) == "1 T 3 Std."
        assert sla_ui.duration(42 * 60 + 5) == "42 Min. 05 Sek."
        assert sla_ui.span(timedelta(hours=2, minutes=10)) == "2 Std. 10 Min."
        assert sla_ui.span(timedelta(seconds=20)) == "weniger als eine Minute"
        assert leads_ui.time_ago(now - timedelta(days=3), now) == "vor 3\xa0Tagen"
        assert leads_ui.time_ago(now - timedelta(hours=1), now) == "vor 1\xa0Stunde"
        assert leads_ui.time_since(now - timedelta(days=1, hours=2), now) == "1\xa0Tag, 2\xa0Stunden"
    # English stays as it was.
    with translation.override("en"):
        assert sla_ui.duration(3 * 3600 + 5 * 60) == "3h 05m"
        assert leads_ui.time_ago(now - timedelta(days=3), now) == "3\xa0days ago"


# funnel.js writes the countdowns while the page is open: the same formats as sla_ui, in each language.
COUNTDOWN_FORMATS = (
    "%(days)sd %(hours)sh",
    "%(hours)sh %(minutes)sm",
    "%(minutes)sm %(seconds)ss",
    "%(seconds)ss",
    "%(minutes)s min",
    "%(days)sd",
    "%(hours)sh",
    "less than a minute",
    "overdue by %(duration)s",
    "due in %(duration)s of business time",
    "due in %(duration)s",
    "breached %(span)s ago",
    "the next working hours",
)


def test_funnel_js_writes_the_countdowns_as_the_server_does():
    from django.utils.translation.trans_real import DjangoTranslation
    from django.views.i18n import JavaScriptCatalog

    view = JavaScriptCatalog()
    view.translation = DjangoTranslation("de", domain="djangojs")
    catalog = view.get_catalog()
    source = (settings.BASE_DIR / "static" / "js" / "funnel.js").read_text()
    with translation.override("de"):
        for text in COUNTDOWN_FORMATS:
            assert f'gettext("{text}")' in source, text
            assert catalog[text] == translation.gettext(text) != text, text


# The SLA panel under a business-hours policy, and what a breach shows


@pytest.fixture
def berlin_hours(db):
    hours = BusinessHours.objects.create(name="Büro Berlin", time_zone="Europe/Berlin", opens=time(9), closes=time(17))
    return SLAPolicy.objects.create(
        name="Eingang Berlin",
        position=10,
        response_minutes=240,
        business_hours=hours,
        reassign_on_breach=True,
        reassign_after_minutes=90,
    )


def de_format(instant, name):
    """``instant`` as a German user in Berlin reads it in the named format."""
    with translation.override("de"):
        return formats.date_format(instant.astimezone(BERLIN), name)


def berlin(day, hour, minute=0):
    """A wall-clock time in Berlin in the first week of March 2026 (Monday is the 2nd)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
def clock_at(monkeypatch):
    def freeze(instant):
        monkeypatch.setattr(timezone, "now", lambda: instant.astimezone(UTC))

    return freeze


def test_sla_panel_of_a_breached_lead_is_german(client, clock_at, mona, jonas, vertrieb, berlin_hours):
    lead = mql(jonas, vertrieb, now=berlin(2, 9, 20))
    sla.flag_overdue_leads(now=berlin(2, 13, 1).astimezone(UTC))
    clock_at(berlin(2, 14))

    html = signed_in(client, mona).get(reverse("leads:detail", args=[lead.pk])).content.decode()

    panel = html[html.index('aria-labelledby="sla-title"') :]
    panel = panel[: panel.index("</section>")]
    assert_german(
        panel,
        "Eingang Berlin",
        "Mo–Fr, 09:00–17:00",
        f"{de_format(berlin(2, 13), 'DATETIME_FORMAT')} (Europe/Berlin)",
        "seit 1 Std. 00 Min. überfällig",
        "SLA-Frist überschritten",
        "E-Mail an den Inhaber und die Manager des Teams; nach 1 Std. 30 Min. neu zuweisen",
    )
    assert_german(timeline_of(html), "Die Antwort war fällig am", "vom System")


def test_queue_shows_a_paused_clock_in_german(client, clock_at, jonas, vertrieb, berlin_hours):
    # Routed Friday 16:00: one business hour on Friday, three on Monday; seen Friday at 18:00.
    mql(jonas, vertrieb, now=datetime(2026, 2, 27, 16, 20, tzinfo=BERLIN))
    clock_at(datetime(2026, 2, 27, 18, tzinfo=BERLIN))

    html = signed_in(client, jonas).get(reverse("leads:queue")).content.decode()

    until = de_format(berlin(2, 9), "SHORT_DATETIME_FORMAT")
    assert_german(html, "fällig in 3 Std. 00 Min. Geschäftszeit", f"Pausiert bis <span data-until>{until}</span>")


def timeline_of(html):
    timeline = html[html.index('<ol class="timeline">') :]
    return timeline[: timeline.index("</ol>")]


def test_detail_of_an_opted_out_and_erased_lead_is_german(client, mona, jonas, vertrieb, admin_de):
    lead = mql(jonas, vertrieb)
    lead = transitions.opt_out_lead(lead, by=mona, source="conversation")
    lead = transitions.erase_lead(lead, by=admin_de)

    html = signed_in(client, mona).get(reverse("leads:detail", args=[lead.pk])).content.decode()

    assert_german(html, "Personenbezogene Daten gelöscht", "Widersprochen", "erfasst von Mona Schulz", "gelöscht")


@pytest.fixture
def admin_de(db):
    return german(make_user("anna", role="admin", is_staff=True, first_name="Anna", last_name="Vogel"))


# Rows other lists show: rejected and breached


def render_row(template, user, lead, **context):
    request = RequestFactory().get("/")
    request.user = user
    with translation.override("de"), timezone.override(BERLIN):
        return render_to_string(template, {"lead": lead, **context}, request=request)


def test_rejected_row_is_german(mona, jonas, vertrieb):
    lead = mql(jonas, vertrieb)
    transitions.reject_lead(lead, by=jonas, reason="no-budget", note="Kein Budget vor 2027.")
    row = views._with_rejection_note(Lead.objects.filter(pk=lead.pk)).select_related("owner", "rejection_reason").get()

    html = render_row("leads/_rejected_row.html", mona, row)

    assert_german(html, "Kein Budget", "Kein Budget vor 2027.", "abgelehnt gerade eben", "Quelle")


def test_breached_row_is_german(client, clock_at, mona, jonas, lena, vertrieb):
    lead = mql(jonas, vertrieb)
    clock_at(timezone.now() + timedelta(hours=3))
    data = {"to": lena.pk, "list": "breached", "next": reverse("leads:breached")}

    html = post(signed_in(client, mona), "leads:reassign", lead, data).content.decode()

    # No longer breached under its new owner: the row says so and leaves the list.
    assert_german(
        html, "Klaus Meier wurde Lena Wolf neu zugewiesen.", "Seine SLA-Frist beginnt für den neuen Inhaber neu."
    )
    Lead.objects.filter(pk=lead.pk).update(sla_due_at=timezone.now() - timedelta(hours=2))
    row = Lead.objects.select_related("owner", "team", "sla_policy").get(pk=lead.pk)
    views._attach_rep_choices([row])
    sla.SlaClocks(timezone.now()).attach([row])

    breached = render_row("leads/_breached_row.html", mona, row)

    assert_german(breached, "seit 2 Std. überfällig", "Standard: Antwort innerhalb von 1 Stunde", "Neu zuweisen")
