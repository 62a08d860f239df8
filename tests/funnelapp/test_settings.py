"""Settings read in a fresh interpreter, as a production start would read them."""

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
SHOW_DEBUG = "from django.conf import settings; print(settings.DEBUG)"


def start(code, **env):
    """Run ``code`` after django.setup() in a new Python with only ``env`` (and PATH) set."""
    environment = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "funnelapp.settings", **env}
    environment.setdefault("FUNNEL_VAR_DIR", os.environ.get("FUNNEL_VAR_DIR", str(BASE_DIR / "var")))
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_start_that_does_not_mention_debug_runs_with_debug_off():
    result = start(SHOW_DEBUG, DATABASE_URL="postgres://funnel@db.invalid/funnel", SECRET_KEY="k" * 50)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_a_production_start_with_only_a_database_url_refuses_to_start_without_a_secret_key():
    result = start(SHOW_DEBUG, DATABASE_URL="postgres://funnel@db.invalid/funnel")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_a_production_start_without_a_database_url_refuses_to_start():
    result = start(SHOW_DEBUG, SECRET_KEY="k" * 50)

    assert result.returncode != 0
    assert "DATABASE_URL must be set when DEBUG is off" in result.stderr


def test_development_turns_debug_on_with_the_variable():
    result = start(SHOW_DEBUG, DEBUG="1", DATABASE_URL="postgres://funnel@db.invalid/funnel")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
