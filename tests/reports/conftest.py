from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from leads import transitions
from leads.models import Lead, MqlEpisode, Stage
from tests.factories import lead_in_stage

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30", "tz": "UTC"}
AS_OF = datetime(2026, 12, 15, tzinfo=UTC)

# Query counts of metrics used in the pinned counts of pages and endpoints.
# Speed totals: one pass with median, p90 and typical window.
SPEED_TOTALS = 1
# Rejections: one statement with grouping sets.
REJECTIONS = 1
# The reports whose sorts gain from more memory (rejection reasons) first raise their transaction's
# work_mem: SELECT set_config('work_mem', ...) (metrics.sort_memory).
SORT_MEMORY = 1
# The overview's speed headline (median, mean, typical window): one pass. The ignore rate's and
# SLA compliance's cards take the period's counts from the overview's series.
SPEED_HEADLINE = 1


def episodes(count, *, start=datetime(2026, 11, 2, 9, tzinfo=UTC), step=timedelta(minutes=7), **fields):
    """Bulk MQL episodes (each on its own lead, one hour SLA window) for the big worked examples.

    ``fields`` are episode fields; a callable gets the episode's MQL time. Each lead belongs to
    the episode's team and owner, so the people who see the episode see its lead too.
    """
    tag = next(_batch)
    leads = Lead.objects.bulk_create(
        Lead(
            name=f"L{tag}-{i}",
            company=f"Co {i}",
            email=f"bulk{tag}-{i}@example.com",
            stage=Stage.LEAD,
            team=fields.get("team"),
            owner=fields.get("owner"),
        )
        for i in range(count)
    )
    rows = []
    for i, lead in enumerate(leads):
        mql_at = start + i * step
        row = {"lead": lead, "number": 1, "mql_at": mql_at, "due_at": mql_at + timedelta(hours=1)}
        for key, value in fields.items():
            row[key] = value(mql_at) if callable(value) else value
        rows.append(MqlEpisode(**row))
    return MqlEpisode.objects.bulk_create(rows)


def _counter():
    n = 0
    while True:
        n += 1
        yield n


_batch = _counter()


@pytest.fixture
def as_user(client, db):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api():
    def client_for(user=None):
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for


@pytest.fixture
def november_data(rep, other_rep, team):
    def make(count):
        episodes(count, owner=rep, team=team, first_follow_up_at=lambda t: t + timedelta(minutes=30))
        episodes(count, owner=other_rep, team=team)
        for _ in range(count):
            lead = lead_in_stage(Stage.MQL, owner=rep, team=team, now=AS_OF - timedelta(days=30))
            transitions.reject_lead(lead, by=rep, reason="no-budget", note="n", now=AS_OF - timedelta(days=29))

    return make
