"""Playwright in the system Chromium against Django's live server.

Run as its own invocation: Playwright's sync API runs an event loop in the main
thread, which Django refuses unless DJANGO_ALLOW_ASYNC_UNSAFE is set, and that
switch is process-wide, so it must not mask real misuse in the other tests:

    DJANGO_ALLOW_ASYNC_UNSAFE=true .venv/bin/pytest -m browser tests/browser
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from leads import transitions
from leads.models import RejectionReason, SLAPolicy, Stage
from leads.reference_data import ensure_default_policy, ensure_reasons, ensure_roles
from reports.models import MonthlyTarget
from tests.conftest import skip_or_fail
from tests.factories import lead_in_stage
from tests.reports.conftest import episodes

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pw-Funnel-2026"


@pytest.fixture(scope="session", autouse=True)
def _browser_tests_run_alone():
    if os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE", "").lower() not in {"1", "true", "yes"}:
        skip_or_fail(
            "browser tests run as their own invocation: "
            "DJANGO_ALLOW_ASYNC_UNSAFE=true .venv/bin/pytest -m browser tests/browser"
        )


@pytest.fixture(scope="session")
def browser_type_launch_args():
    if not CHROMIUM.exists():
        skip_or_fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    return {
        "executable_path": str(CHROMIUM),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(autouse=True)
def _reference_data(transactional_db):
    # live_server tests are transactional: the flush after each test empties the
    # roles, reasons and default SLA policy the migrations created, so put them back.
    ensure_roles(Group, Permission)
    ensure_reasons(RejectionReason)
    ensure_default_policy(SLAPolicy)


@pytest.fixture
def login(page, live_server):
    def sign_in(username):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        return page

    return sign_in


@pytest.fixture
def shots_dir(tmp_path):
    """Where screenshots go: $FUNNEL_SHOTS_DIR (e.g. /tmp/shots) to look at them, else a temporary folder."""
    folder = Path(os.environ.get("FUNNEL_SHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def make_mql(team):
    def make(owner, name, *, minutes_ago=0, **fields):
        """An MQL of ``owner`` routed 20 + ``minutes_ago`` minutes ago: due in 40 - ``minutes_ago`` minutes."""
        now = timezone.now() - timedelta(minutes=minutes_ago)
        return lead_in_stage(Stage.MQL, owner=owner, team=team, now=now, name=name, **fields)

    return make


@pytest.fixture
def report_data(rep, other_rep, team):
    """A month of MQLs: answered fast, answered late, ignored, accepted, qualified, rejected with notes."""
    now = timezone.now()
    start = now - timedelta(days=20)
    hour = timedelta(hours=1)
    episodes(
        14, start=start, step=hour * 9, owner=rep, team=team, first_follow_up_at=lambda t: t + timedelta(minutes=4)
    )
    episodes(
        9,
        start=start + hour,
        step=hour * 13,
        owner=other_rep,
        team=team,
        first_follow_up_at=lambda t: t + timedelta(minutes=40),
        accepted_at=lambda t: t + timedelta(minutes=40),
    )
    episodes(
        6,
        start=start + 2 * hour,
        step=hour * 17,
        owner=rep,
        team=team,
        first_follow_up_at=lambda t: t + timedelta(minutes=20),
        accepted_at=lambda t: t + timedelta(minutes=20),
        qualified_at=lambda t: t + timedelta(days=2),
    )
    episodes(
        5, start=start + 3 * hour, step=hour * 29, owner=other_rep, team=team, first_follow_up_at=lambda t: t + 3 * hour
    )
    episodes(7, start=start + 4 * hour, step=hour * 31, owner=rep, team=team)  # ignored
    notes = [
        ("personal-email", "Signed up with a gmail address, no company found."),
        ("no-budget", "Budget frozen until next fiscal year."),
        ("no-budget", "Two-person agency, below our minimum."),
        ("student-job-seeker", "Student writing a thesis about CRM tools."),
    ]
    for index, (code, note) in enumerate(notes):
        lead = lead_in_stage(Stage.MQL, owner=other_rep, team=team, now=now - timedelta(days=3 + 4 * index))
        transitions.reject_lead(lead, by=other_rep, reason=code, note=note, now=now - timedelta(days=3 + 4 * index))
    month = now.date().replace(day=1)
    MonthlyTarget.objects.create(month=month, mql_target=60)
    MonthlyTarget.objects.create(month=(month - timedelta(days=1)).replace(day=1), mql_target=40)
