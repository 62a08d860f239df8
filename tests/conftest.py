import os

import pytest

from leads.models import TeamMember

from .factories import make_team, make_user

# CI sets this so a missing PostgreSQL, Redis or browser fails the run instead of skipping.
REQUIRE_SERVICES = os.environ.get("FUNNEL_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}


def skip_or_fail(message):
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (FUNNEL_REQUIRE_SERVICES is set, so this is a failure, not a skip)")
    pytest.skip(message)


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


@pytest.fixture
def postgres_only(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://...")
