"""Sign-in protection: lockout after repeated failures (django-axes) and the API throttles."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db import connection
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from ..factories import make_user

PASSWORD = "pw-Funnel-2026"
TOKEN_URL = "/api/auth/token/"


def get_token(username, password, *, address="127.0.0.1"):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(username, times, *, address="127.0.0.1"):
    for _ in range(times):
        assert get_token(username, "wrong-password", address=address).status_code in (400, 429)


def test_four_wrong_passwords_do_not_lock_anyone_out(rep):
    fail(rep.username, 4)

    assert get_token(rep.username, PASSWORD).status_code == 200


def test_after_five_wrong_passwords_the_right_one_gets_429_with_retry_after(rep):
    fail(rep.username, 5)

    response = get_token(rep.username, PASSWORD)

    assert response.status_code == 429
    assert 14 * 60 < int(response["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-ins for this username" in response.json()["detail"]
    assert response.json()["code"] == "locked_out"


def test_a_locked_out_username_works_again_when_the_cool_off_ends(rep):
    fail(rep.username, 5)
    assert get_token(rep.username, PASSWORD).status_code == 429

    # The latest failure was 15 minutes ago: the cool-off is over.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=15, seconds=1)
    )

    assert get_token(rep.username, PASSWORD).status_code == 200


def test_knocking_on_a_locked_door_does_not_extend_the_lockout(rep):
    fail(rep.username, 5)
    locked_until = get_token(rep.username, PASSWORD)["Retry-After"]

    fail(rep.username, 10)

    assert abs(int(get_token(rep.username, PASSWORD)["Retry-After"]) - int(locked_until)) <= 2


def test_other_users_at_the_same_address_are_not_affected_by_a_locked_username(rep, other_rep):
    fail(rep.username, 5)

    assert get_token(rep.username, PASSWORD).status_code == 429
    assert get_token(other_rep.username, PASSWORD).status_code == 200


def test_an_address_that_keeps_guessing_across_usernames_is_locked_out(rep):
    for number in range(20):
        fail(f"nobody-{number}", 1, address="203.0.113.7")

    response = get_token(rep.username, PASSWORD, address="203.0.113.7")

    assert response.status_code == 429
    assert "from this address" in response.json()["detail"]
    assert get_token(rep.username, PASSWORD, address="198.51.100.1").status_code == 200


def test_the_login_page_says_in_words_that_the_username_is_locked(client, rep):
    for _ in range(5):
        client.post("/login/", {"username": rep.username, "password": "wrong-password"})

    response = client.post("/login/", {"username": rep.username, "password": PASSWORD})

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "Too many failed sign-ins for this username" in page
    assert "locked for 15 minutes" in page
    assert "_auth_user_id" not in client.session


def test_the_login_page_still_signs_in_other_users(client, rep, other_rep):
    for _ in range(6):
        client.post("/login/", {"username": rep.username, "password": "wrong-password"})

    response = client.post("/login/", {"username": other_rep.username, "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other_rep.pk)


@pytest.fixture
def low_rates(monkeypatch):
    # DRF reads the rates into the class when it is imported.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"token": "3/min", "ingest": "2/min"})


def test_the_token_endpoint_is_throttled_per_address(rep, low_rates):
    statuses = [get_token(rep.username, PASSWORD).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = get_token(rep.username, PASSWORD)
    assert 0 < int(response["Retry-After"]) <= 60
    assert get_token(rep.username, PASSWORD, address="198.51.100.1").status_code == 200


def test_activity_ingestion_is_throttled_per_user(marketer, low_rates):
    client = APIClient()
    client.force_authenticate(marketer)
    statuses = [client.post("/api/activities/", [], format="json").status_code for _ in range(3)]

    assert statuses == [400, 400, 429]
    other = APIClient()
    other.force_authenticate(make_user("mira", role="marketer"))
    assert other.post("/api/activities/", [], format="json").status_code == 400


def test_lead_creation_is_throttled_but_reading_is_not(marketer, low_rates):
    client = APIClient()
    client.force_authenticate(marketer)
    created = [client.post("/api/leads/", {"name": "A", "email": f"a{n}@x.example"}).status_code for n in range(3)]

    assert created == [201, 201, 429]
    assert all(client.get("/api/leads/").status_code == 200 for _ in range(5))


def test_throttle_counts_are_kept_where_every_web_process_sees_them(rep, settings, low_rates):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "funnel_cache",
            "KEY_PREFIX": "funnel",
        }
    }
    get_token(rep.username, PASSWORD)

    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM funnel_cache")
        keys = [row[0] for row in cursor.fetchall()]
    assert any("throttle_token" in key for key in keys), keys
