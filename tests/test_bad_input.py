"""Bad input on every endpoint, for every role: never an answer of 500 or more, and nothing changes.

The endpoints come from the URLconf (all but Django's admin), so a new page or API
operation is covered as soon as it has a URL. Each one gets, as anonymous, rep,
manager, marketer and admin:

- NUL characters in every query parameter, form field, JSON string and header;
- invalid UTF-8 in the query string, a form body and a JSON body;
- a body over DATA_UPLOAD_MAX_MEMORY_SIZE;
- absurd numbers (1e309, -1, 2**63, NaN) in every query parameter, form field and JSON value;
- and, in the API, JSON nested a thousand levels deep.

The lead in the URLs is an MQL of the rep's, so the actions are the rep's and the manager's
to take: only the bad input stands in their way.
"""

import json

import pytest
from django.conf import settings
from django.contrib.admindocs.views import extract_views_from_urlpatterns, simplify_regex
from django.contrib.auth.models import User
from django.test import Client
from django.urls import get_resolver

from leads.models import (
    Activity,
    ImportJob,
    Lead,
    LeadEvent,
    MqlEpisode,
    OutboxMessage,
    ScoringConfig,
    ScoringRule,
    ScoringRun,
    Stage,
)
from reports.models import MonthlyTarget

from .factories import lead_in_stage

ROLES = ["anonymous", "rep", "manager", "marketer", "admin"]
# Query parameters and form fields the views read, and a few they do not.
NAMES = [
    *("q", "page", "page_size", "ordering", "stage", "owner", "team", "rep", "source", "campaign", "priority"),
    *("from", "to", "as_of", "tz", "view", "metric", "bucket", "reason", "format", "table", "year", "weeks"),
    *("threshold", "created_after", "mql_before", "sla_breached", "next", "list", "script", "lang", "before", "cursor"),
    *("note", "to", "kind", "version", "name", "email", "company", "title", "phone", "company_size", "country"),
    *("lead", "url", "occurred_at", "external_id", "username", "password", "mql_threshold", "points", "category"),
    *("old_password", "new_password1", "new_password2", "mql_page", "sal_page", "unknown"),
]
ABSURD = ["1e309", "-1", str(2**63), "NaN"]
ABSURD_JSON = ["1e309", "-1", str(2**63), '"NaN"', "NaN"]
NESTED = "[" * 1000 + "]" * 1000
HUGE = b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# These take no input at all: a bare POST is their whole request, so absurd values in fields
# they never read are not bad input for them (they still get every other kind of bad input).
ACT_WITHOUT_INPUT = {"scoring:rule_toggle", "scoring:rule_delete", "scoring:rescore", "logout"}


def endpoints():
    """(URL pattern, view name, HTTP methods or None if any) of every view but Django's admin."""
    found = []
    for view, pattern, namespaces, name in extract_views_from_urlpatterns(get_resolver().url_patterns):
        if "admin" in (namespaces or []):
            continue
        actions = getattr(view, "actions", None)
        if actions is not None:
            methods = {method.upper() for method in actions}
        elif hasattr(view, "cls"):
            methods = {method.upper() for method in view.cls.http_method_names if hasattr(view.cls, method)}
        else:
            methods = None
        full_name = f"{namespaces[0]}:{name}" if namespaces else name
        found.append((simplify_regex(pattern), full_name, methods))
    return found


ENDPOINTS = endpoints()


@pytest.fixture
def world(rep, other_rep, manager, marketer, admin, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    rule = ScoringRule.objects.create(
        name="Visited pricing", category="behaviour", activity_kind="website_visit", url_contains="/pricing", points=10
    )
    job = ImportJob.objects.create(original_name="leads.csv", created_by=marketer)
    run = ScoringRun.objects.create(requested_by=marketer)
    users = {"anonymous": None, "rep": rep, "manager": manager, "marketer": marketer, "admin": admin}
    return {"lead": lead, "rule": rule, "job": job, "run": run, "users": users}


def concrete(pattern, name, world):
    if name.startswith("scoring:rule_"):
        pk = world["rule"].pk
    elif name.startswith("scoring:import_"):
        pk = world["job"].pk
    elif name == "scoring:rescore_status":
        pk = world["run"].pk
    else:
        pk = world["lead"].pk
    for placeholder, value in (("<pk>", pk), ("<uidb64>", "MQ"), ("<token>", "set-password"), ("<path>", "nope/")):
        pattern = pattern.replace(placeholder, str(value))
    return pattern


def snapshot():
    """What a request could have changed."""
    return {
        "leads": list(Lead.objects.order_by("pk").values_list("pk", "version", "stage", "owner", "score", "name")),
        "events": LeadEvent.objects.count(),
        "episodes": list(MqlEpisode.objects.order_by("pk").values_list("pk", "first_follow_up_at", "owner")),
        "activities": Activity.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "rules": list(ScoringRule.objects.order_by("pk").values_list("pk", "is_active", "points", "name")),
        "threshold": list(ScoringConfig.objects.values_list("mql_threshold", flat=True)),
        "runs": ScoringRun.objects.count(),
        "imports": ImportJob.objects.count(),
        "targets": list(MonthlyTarget.objects.values_list("month", "team", "mql_target")),
        "users": list(User.objects.order_by("pk").values_list("pk", "is_active", "password", "email")),
    }


def form_body(value):
    return "&".join(f"{name}={value}" for name in NAMES)


def json_body(raw_value):
    return "{" + ", ".join(f'"{name}": {raw_value}' for name in NAMES) + "}"


def requests(path, name, methods, *, api):
    """(label, method, keyword arguments of Client.generic) of the bad requests for one endpoint."""
    takes = (lambda method: methods is None or method in methods) if methods else (lambda method: True)
    bad = []
    if takes("GET"):
        bad.append(("NUL in the query", "GET", {"QUERY_STRING": "&".join(f"{n}=a%00b" for n in NAMES)}))
        bad.append(("invalid UTF-8 query", "GET", {"QUERY_STRING": "q=%ff%fe&page=%c3"}))
        bad += [(f"query of {v}", "GET", {"QUERY_STRING": form_body(v)}) for v in ABSURD]
        bad.append(("NUL in a header", "GET", {"HTTP_AUTHORIZATION": "Token a\x00b", "HTTP_IF_MATCH": '"a\x00"'}))
    writes = [method for method in ("POST", "PATCH") if takes(method) and (method == "POST" or api)]
    for method in writes:
        bad.append(("NUL in the form", method, {"data": form_body("a%00b"), "content_type": FORM}))
        bad.append(("invalid UTF-8 form", method, {"data": b"note=%ff&version=%fe", "content_type": FORM}))
        bad.append(("huge form", method, {"data": b"note=" + HUGE, "content_type": FORM}))
        if name not in ACT_WITHOUT_INPUT:
            bad += [(f"form of {v}", method, {"data": form_body(v), "content_type": FORM}) for v in ABSURD]
        if api:
            nul = json.dumps(dict.fromkeys(NAMES, "a\x00b"))
            bad.append(("nested JSON", method, {"data": NESTED, "content_type": JSON}))
            bad.append(("NUL in JSON", method, {"data": nul, "content_type": JSON}))
            bad.append(("invalid UTF-8 JSON", method, {"data": b'{"note": "\xff\xfe"}', "content_type": JSON}))
            bad.append(("huge JSON", method, {"data": b'{"note": "' + HUGE + b'"}', "content_type": JSON}))
            bad.append(("NUL in If-Match", method, {"data": "{}", "content_type": JSON, "HTTP_IF_MATCH": '"a\x00"'}))
            bad += [(f"JSON of {v}", method, {"data": json_body(v), "content_type": JSON}) for v in ABSURD_JSON]
    return bad


@pytest.mark.parametrize(("pattern", "name", "methods"), ENDPOINTS, ids=[name for _, name, _ in ENDPOINTS])
def test_bad_input_never_gets_a_server_error_and_changes_nothing(world, pattern, name, methods):
    path = concrete(pattern, name, world)
    api = path.startswith("/api/")
    before = snapshot()
    failures = []
    bad = requests(path, name, methods, api=api)
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if world["users"][role] is not None:
            client.force_login(world["users"][role])
        for label, method, options in bad:
            options = dict(options)
            data = options.pop("data", "")
            response = client.generic(method, path, data, **options)
            if response.status_code >= 500:
                failures.append(f"{role} {method} {path} {label}: {response.status_code}")
    assert failures == []
    assert snapshot() == before


@pytest.mark.parametrize("path", ["/api/auth/token/", "/api/activities/", "/api/leads/", "/api/leads/{id}/accept/"])
@pytest.mark.parametrize("role", ["anonymous", "marketer"])
def test_deeply_nested_json_gets_a_400_not_a_server_error(world, path, role):
    client = Client(raise_request_exception=False)
    if world["users"][role] is not None:
        client.force_login(world["users"][role])

    response = client.post(path.format(id=world["lead"].pk), NESTED, content_type=JSON)

    assert response.status_code in (400, 401)
    if response.status_code == 400:
        assert "nested deeper than" in response.json()["detail"]


@pytest.mark.parametrize("role", ["rep", "manager", "marketer", "admin"])
def test_a_nul_byte_in_a_report_filter_gets_a_400_with_a_sentence(world, role):
    client = Client(raise_request_exception=False)
    client.force_login(world["users"][role])

    page = client.get("/reports/rejection-reasons/", {"reason": "\x00"})
    api = client.get("/api/reports/rejection-reasons/", {"source": "web\x00inar"})

    assert page.status_code == 400
    assert "contains a NUL character" in page.content.decode()
    assert api.status_code == 400
    assert "contains a NUL character" in api.json()["source"][0]


@pytest.mark.parametrize(("path", "content_type"), [("/leads/{id}/accept/", FORM), ("/api/leads/{id}/accept/", JSON)])
def test_a_body_over_the_limit_gets_413_with_a_sentence(world, path, content_type):
    client = Client(raise_request_exception=False)
    client.force_login(world["users"]["rep"])
    body = b"note=" + HUGE if content_type == FORM else b'{"note": "' + HUGE + b'"}'

    response = client.post(path.format(id=world["lead"].pk), body, content_type=content_type)

    assert response.status_code == 413
    assert "larger than 10,485,760 bytes" in response.content.decode()
    assert Lead.objects.get(pk=world["lead"].pk).stage == Stage.MQL
