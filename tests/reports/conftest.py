from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from leads.models import Lead, MqlEpisode, Stage

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30", "tz": "UTC"}
AS_OF = datetime(2026, 12, 15, tzinfo=UTC)


def episodes(count, *, start=datetime(2026, 11, 2, 9, tzinfo=UTC), step=timedelta(minutes=7), **fields):
    """Bulk MQL episodes (each on its own lead, one hour SLA window) for the big worked examples.

    ``fields`` are episode fields; a callable gets the episode's MQL time.
    """
    tag = next(_batch)
    leads = Lead.objects.bulk_create(
        Lead(name=f"L{tag}-{i}", company=f"Co {i}", email=f"bulk{tag}-{i}@example.com", stage=Stage.LEAD)
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
