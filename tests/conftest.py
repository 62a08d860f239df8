import os

import pytest
from django.db.backends.postgresql.operations import DatabaseOperations

from leads.audit import event_tables
from leads.models import TeamMember

from .factories import make_team, make_user

# CI sets this so a missing PostgreSQL, Redis or browser fails the run instead of skipping.
REQUIRE_SERVICES = os.environ.get("FUNNEL_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}


def skip_or_fail(message):
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (FUNNEL_REQUIRE_SERVICES is set, so this is a failure, not a skip)")
    pytest.skip(message)


# The history and the audit log refuse TRUNCATE (leads 0015 and 0028, reports 0002) with a trigger
# named <table>_no_truncate; the flush that resets the tables after each transactional
# test is the one TRUNCATE allowed, by the tables' owner.
_GUARD = 'ALTER TABLE "{table}" {state} TRIGGER "{table}_no_truncate"'
_execute_sql_flush = DatabaseOperations.execute_sql_flush


def _flush_with_history(self, sql_list):
    guarded = ("leads_leadevent", *event_tables())
    flushed = [table for table in guarded if any(table in sql for sql in sql_list)]
    if flushed:
        disable = [_GUARD.format(table=table, state="DISABLE") for table in flushed]
        enable = [_GUARD.format(table=table, state="ENABLE") for table in flushed]
        sql_list = [*disable, *sql_list, *enable]
    return _execute_sql_flush(self, sql_list)


DatabaseOperations.execute_sql_flush = _flush_with_history


@pytest.fixture(autouse=True, scope="session")
def celery_runs_tasks_in_process():
    """Tasks queued by the code under test run at once, in the test's process.

    The end-to-end worker tests switch this off to go through a real broker.
    """
    from funnelapp.celery import app

    app.conf.task_always_eager = True
    # The end-to-end tests' tasks travel on a queue of this run's own, on whatever broker is configured.
    app.conf.task_default_queue = f"funnel-test-{os.getpid()}"
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def own_cache(settings):
    """Each test counts throttled requests from zero, in memory: the configured cache (the
    database's table, or Redis in CI, where Celery's queues live too) is never flushed."""
    from django.core.cache import cache

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture(autouse=True)
def default_language_and_zone():
    """Each test starts in English and UTC: a German page a test asked for leaves its language
    active in the thread (Django's LocaleMiddleware activates, it never deactivates)."""
    from django.utils import timezone, translation

    translation.activate(settings_language())
    timezone.deactivate()
    yield
    translation.activate(settings_language())
    timezone.deactivate()


def settings_language():
    from django.conf import settings

    return settings.LANGUAGE_CODE


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # PBKDF2's deliberate slowness costs ~0.3 s per persona; tests do not need it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def reference_data(request):
    """Transactional tests (threads, live server) flush the tables migrations filled; refill them."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "live_server" in request.fixturenames or "transactional_db" in request.fixturenames
    if marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        transactional = True
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    from django.contrib.auth.models import Group, Permission

    from leads import reference_data as data
    from leads.models import RejectionReason, ScoringConfig, SLAPolicy

    data.ensure_roles(Group, Permission)
    data.ensure_reasons(RejectionReason)
    data.ensure_default_policy(SLAPolicy)
    ScoringConfig.current()


@pytest.fixture
def team(db):
    return make_team("North")


@pytest.fixture
def rep(team):
    return make_user("rita", role="rep", team=team, first_name="Rita", last_name="Rep")


@pytest.fixture
def other_rep(team):
    return make_user("oscar", role="rep", team=team, first_name="Oscar", last_name="Other")


@pytest.fixture
def manager(team):
    return make_user("mona", role="manager", team=team, team_role=TeamMember.Role.MANAGER, first_name="Mona")


@pytest.fixture
def marketer(db):
    return make_user("mark", role="marketer", first_name="Mark")


@pytest.fixture
def admin(db):
    return make_user("ada", role="admin", is_staff=True, first_name="Ada")
