"""Every page, in German, for each role that sees it: no string left in English.

The table below names every page the product serves (GET); ``test_every_page_is_in_the_table``
fails when a new one is added without being checked here. What each page shows in German in
detail is tested next to it (tests/*/test_german_*.py); this is the net under all of them.
"""

import re
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from leads import sla
from leads.models import (
    Activity,
    ActivityKind,
    ImportJob,
    ImportRowError,
    OutOfOffice,
    SavedView,
    ScoringRule,
    ScoringRun,
    Stage,
    TeamMember,
)
from tests.factories import german, lead_in_stage, make_team, make_user
from tests.support.german import english_in_text, english_words

# Pages reached only by POST (htmx actions answering with a fragment, or a redirect), or
# machine endpoints: their answers are tested in German next to them.
NOT_PAGES = {
    "leads:bulk_reassign",
    "leads:changes",  # JSON for live rows; its sentences: tests/leads/test_german_workspace.py
    "leads:save_view",
    "leads:delete_view",
    "leads:accept",
    "leads:reject",
    "leads:qualify",
    "leads:disqualify",
    "leads:recycle",
    "leads:reassign",
    "leads:log_activity",
    "leads:undo",
    "leads:promote",
    "leads:opt_out",
    "leads:erase",
    "leads:merge",
    "leads:unmerge",
    "leads:export",  # a person's data as JSON (GDPR export)
    "leads:out_of_office_delete",
    "leads:set_language",
    "leads:browser_time_zone",
    "leads:slack_interactivity",
    "scoring:rule_toggle",
    "scoring:threshold",
    "scoring:rescore",
    "scoring:import_header",
    "scoring:import_job_status",
    "reports:index",  # the same view as reports:overview
}


@pytest.fixture
def world(db):
    """A team with one user per role, all reading German in Berlin, and a lead in every state."""
    team = make_team("Nord")
    people = {
        "rep": make_user("rita", role="rep", team=team, first_name="Rita", last_name="Richter"),
        "manager": make_user(
            "mona", role="manager", team=team, team_role=TeamMember.Role.MANAGER, first_name="Mona", last_name="Schulz"
        ),
        "marketer": make_user("marek", role="marketer", first_name="Marek", last_name="Nowak"),
        "admin": make_user("ada", role="admin", is_staff=True, first_name="Ada", last_name="Lindner"),
    }
    for user in people.values():
        german(user)
    now = timezone.now()
    rep = people["rep"]
    in_germany = {"company": "Müller Maschinenbau GmbH", "phone": "+49 30 1234567"}
    leads = {
        "mql": lead_in_stage(Stage.MQL, owner=rep, team=team, name="Jana Vogel", email="jana@mueller.de", **in_germany),
        "sal": lead_in_stage(
            Stage.SAL, owner=rep, team=team, name="Lars Becker", email="lars@mueller.de", **in_germany
        ),
        "sql": lead_in_stage(Stage.SQL, owner=rep, team=team, name="Eva Braun", email="eva@mueller.de", **in_germany),
        "rejected": lead_in_stage(Stage.REJECTED, owner=rep, team=team, name="Tom Wolf", email="tom@wolf-ag.de"),
        "breached": lead_in_stage(
            Stage.MQL, owner=rep, team=team, name="Nina Roth", email="nina@roth.de", now=now - timedelta(days=5)
        ),
    }
    Activity.objects.create(
        lead=leads["sal"], kind=ActivityKind.CALL, actor=rep, note="Rückruf vereinbart", occurred_at=now
    )
    sla.flag_overdue_leads(now=now)
    ScoringRule.objects.create(
        name="Geschäftsführung", category="demographic", field="job_title", operator="contains", value="CEO", points=20
    )
    job = ImportJob.objects.create(original_name="messe.csv", created_by=people["marketer"], status="done")
    ImportRowError.objects.create(job=job, line=3, reason="E-Mail fehlt", raw="Jana;;")
    run = ScoringRun.objects.create(requested_by=people["marketer"])
    OutOfOffice.objects.create(user=rep, starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=3))
    SavedView.objects.create(owner=rep, name="Heiße Leads", query="stage=mql")
    return {"people": people, "leads": leads, "team": team, "job": job, "run": run, "rule": ScoringRule.objects.first()}


def pages(world):
    """(url name, url, roles that see the page)."""
    leads = world["leads"]
    lead = leads["sal"]
    job, run, rule = world["job"], world["run"], world["rule"]
    everyone = ("rep", "manager", "marketer", "admin")
    reports = ("manager", "marketer", "admin")
    return [
        ("leads:home", reverse("leads:home"), everyone),
        ("leads:queue", reverse("leads:queue"), ("rep",)),
        ("leads:accepted", reverse("leads:accepted"), ("rep",)),
        ("leads:team", reverse("leads:team"), ("manager",)),
        ("leads:breached", reverse("leads:breached"), ("manager",)),
        ("leads:routing_fairness", reverse("leads:routing_fairness"), ("manager",)),
        ("leads:rejected", reverse("leads:rejected"), ("manager", "marketer")),
        ("leads:audit", reverse("leads:audit"), ("admin",)),
        ("leads:list", reverse("leads:list"), everyone),
        ("leads:list", reverse("leads:list") + "?q=Mueller&sort=score", ("manager",)),
        ("leads:export_list", reverse("leads:export_list"), ("manager",)),
        ("leads:detail", reverse("leads:detail", args=[lead.pk]), ("rep", "manager")),
        ("leads:detail", reverse("leads:detail", args=[leads["mql"].pk]), ("rep",)),
        ("leads:detail", reverse("leads:detail", args=[leads["rejected"].pk]), ("manager",)),
        ("leads:edit", reverse("leads:edit", args=[lead.pk]), ("admin",)),
        ("leads:account", reverse("leads:account", args=[lead.account_id]) if lead.account_id else None, ("manager",)),
        ("leads:out_of_office", reverse("leads:out_of_office"), ("rep",)),
        ("leads:profile", reverse("leads:profile"), everyone),
        ("leads:notification_preferences", reverse("leads:notification_preferences"), everyone),
        ("scoring:matrix", reverse("scoring:matrix"), ("marketer",)),
        ("scoring:rule_create", reverse("scoring:rule_create"), ("marketer",)),
        ("scoring:rule_edit", reverse("scoring:rule_edit", args=[rule.pk]), ("marketer",)),
        ("scoring:rule_delete", reverse("scoring:rule_delete", args=[rule.pk]), ("marketer",)),
        ("scoring:rescore_panel", reverse("scoring:rescore_panel"), ("marketer",)),
        ("scoring:rescore_status", reverse("scoring:rescore_status", args=[run.pk]), ("marketer",)),
        ("scoring:what_if", reverse("scoring:what_if"), ("marketer",)),
        ("scoring:import", reverse("scoring:import"), ("marketer",)),
        ("scoring:import_job", reverse("scoring:import_job", args=[job.pk]), ("marketer",)),
        ("scoring:import_rows", reverse("scoring:import_rows", args=[job.pk]), ("marketer",)),
        ("scoring:import_errors", reverse("scoring:import_errors", args=[job.pk]), ("marketer",)),
        ("reports:overview", reverse("reports:overview"), reports),
        ("reports:overview", reverse("reports:overview") + "?by=rep&previous=1&trend=1", ("manager",)),
        ("reports:ignore_rate", reverse("reports:ignore_rate"), reports),
        ("reports:conversion", reverse("reports:conversion") + "?by=source", reports),
        ("reports:speed_to_lead", reverse("reports:speed_to_lead"), reports),
        ("reports:sla_compliance", reverse("reports:sla_compliance") + "?by=rep", reports),
        ("reports:rejection_reasons", reverse("reports:rejection_reasons"), reports),
        ("reports:conversation_rate", reverse("reports:conversation_rate"), reports),
        ("reports:mql_target", reverse("reports:mql_target"), reports),
        ("reports:waterfall", reverse("reports:waterfall"), reports),
        ("reports:response_effect", reverse("reports:response_effect"), reports),
        ("reports:leads", reverse("reports:leads") + "?metric=ignore_rate&bucket=mqls", ("manager", "marketer")),
        ("reports:leads", reverse("reports:leads") + "?metric=rejection_reasons&bucket=rejected", ("marketer",)),
        ("reports:leads", reverse("reports:leads") + "?metric=ignore_rate&bucket=mqls&format=csv", ("manager",)),
        ("reports:targets", reverse("reports:targets"), ("admin",)),
        ("reports:digest", reverse("reports:digest"), ("manager", "marketer")),
        ("login", reverse("login"), ()),
        ("logout", None, ()),
    ]


def test_every_page_is_in_the_table(world):
    named = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or namespace
                if inner in ("admin",) or str(pattern.pattern).startswith("api/"):
                    continue
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                named.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    table = {name for name, _url, _roles in pages(world)}
    auth = {"login", "logout", "password_change", "password_change_done", "password_reset", "password_reset_done"}
    auth |= {"password_reset_confirm", "password_reset_complete", "javascript-catalog"}
    missing = named - table - NOT_PAGES - auth
    assert not missing, f"pages not checked in German: {sorted(missing)}"


def test_every_page_reads_german_for_every_role_that_sees_it(client, world):
    problems = []
    for name, url, roles in pages(world):
        if url is None:
            continue
        for role in roles:
            client.force_login(world["people"][role])
            response = client.get(url, follow=True)
            if response.status_code != 200:
                problems.append(f"{name} as {role}: HTTP {response.status_code}")
                continue
            body = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
            if response["Content-Type"].startswith("text/csv"):
                header = body.splitlines()[0] if body else ""
                # A header of snake_case names is a machine format (the drill-down's); people's CSVs are translated.
                machine = all(re.fullmatch(r"[a-z0-9_]+", name) for name in header.split(","))
                found = [] if machine else english_in_text(header)
            else:
                found = english_words(body)
                if "<html" in body and 'lang="de"' not in body:
                    problems.append(f"{name} as {role}: the page does not say lang=de")
            problems += [f"{name} ({url}) as {role}: {word}" for word in found]
    assert not problems, "\n".join(problems)


def test_the_sign_in_page_follows_the_browsers_language(client, db):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")

    body = response.content.decode()
    assert 'lang="de"' in body and "Anmelden" in body
    assert english_words(body) == []


def test_error_pages_are_german(client, world):
    client.force_login(world["people"]["rep"])

    missing = client.get("/leads/999999999/")
    forbidden = client.get(reverse("leads:audit"))

    assert missing.status_code == 404 and english_words(missing.content.decode()) == []
    assert forbidden.status_code == 403 and english_words(forbidden.content.decode()) == []
