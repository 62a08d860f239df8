"""Response headers every page and API answer carries: the Content-Security-Policy, and
no-store on API answers."""

import re
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from leads.models import Stage

from ..factories import lead_in_stage

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def directives(response):
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/login/", "/queue/", "/leads/{id}/", "/reports/", "/reports/ignore-rate/"])
def test_pages_forbid_inline_script_and_scripts_from_elsewhere(client, rep, team, path):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    client.force_login(rep)

    response = client.get(path.format(id=lead.pk))

    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/", "/admin/"])
def test_docs_and_admin_pages_allow_inline_styles_but_never_inline_script(admin_client, path):
    response = admin_client.get(path)

    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in policy["style-src"]


def test_no_template_runs_inline_script():
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=", re.I)
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for pattern in (inline_script, handler):
            offenders += [f"{template.relative_to(TEMPLATES)}: {m.group(0)}" for m in pattern.finditer(text)]
        offenders += [f"{template.relative_to(TEMPLATES)}: javascript: URL" for _ in re.finditer("javascript:", text)]
    assert offenders == []


def test_api_answers_may_not_be_stored_by_any_cache(rep, team):
    lead = lead_in_stage(Stage.MQL, owner=rep, team=team)
    client = APIClient()
    client.force_authenticate(rep)

    for path in ["/api/leads/", f"/api/leads/{lead.pk}/", "/api/reports/overview/", "/api/no-such-thing/"]:
        response = client.get(path)
        assert "no-store" in response["Cache-Control"], path
    assert "no-store" in APIClient().post("/api/auth/token/", {})["Cache-Control"]
