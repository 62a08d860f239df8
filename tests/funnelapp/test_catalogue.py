"""The German catalogue is complete and current: collecting the strings again finds nothing new,
no entry is empty or fuzzy, and the compiled .mo files say what the .po files say."""

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from funnelapp import jsi18n
from tests.conftest import skip_or_fail

ROOT = Path(settings.BASE_DIR)
MESSAGES = ROOT / "locale" / "de" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")
# As `make messages` runs it.
IGNORES = ["--ignore=.venv", "--ignore=var", "--ignore=staticfiles", "--ignore=bench", "--ignore=tests"]
IGNORES += ["--ignore=static/vendor"]


@pytest.fixture(scope="module")
def msgfmt():
    path = shutil.which("msgfmt")
    if not path:
        skip_or_fail("GNU gettext's msgfmt is not installed (apt-get install gettext)")
    return path


def msgids(po_file):
    """The (context, msgid) pairs of a .po file, header left out."""
    text = po_file.read_text(encoding="utf-8")
    entries = set()
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.splitlines() if line and not line.startswith("#")]
        context, msgid, current = None, None, None
        for line in lines:
            if line.startswith("msgctxt "):
                current, context = "ctx", _unquote(line[8:])
            elif line.startswith("msgid "):
                current, msgid = "id", _unquote(line[6:])
            elif line.startswith('"') and current == "id":
                msgid += _unquote(line)
            elif line.startswith('"') and current == "ctx":
                context += _unquote(line)
            elif line.startswith(("msgid_plural", "msgstr")):
                current = None
        if msgid:
            entries.add((context, msgid))
    return entries


def _unquote(quoted):
    return quoted.strip()[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")


def test_collecting_the_strings_again_finds_no_new_one(tmp_path, msgfmt):
    copy = tmp_path / "funnel"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "vendor")
    for name in ("leads", "reports", "funnelapp", "templates", "locale"):
        shutil.copytree(ROOT / name, copy / name, ignore=skip)
    shutil.copytree(ROOT / "static" / "js", copy / "static" / "js")
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    env = {**os.environ, "DEBUG": "1"}
    for domain in DOMAINS:
        command = [sys.executable, "manage.py", "makemessages", "-l", "de", "-d", domain, "--no-obsolete"]
        if domain == "django":
            command += ["-e", "html,txt,py,jinja"]
        subprocess.run([*command, "--no-location", *IGNORES], cwd=copy, env=env, check=True, capture_output=True)
        collected = msgids(copy / "locale/de/LC_MESSAGES" / f"{domain}.po")
        committed = msgids(MESSAGES / f"{domain}.po")
        assert collected - committed == set(), f"{domain}: strings not in the catalogue; run `make messages`"
        assert committed - collected == set(), f"{domain}: strings no longer used; run `make messages`"


@pytest.mark.parametrize("domain", DOMAINS)
def test_no_german_entry_is_empty_or_fuzzy(domain, msgfmt):
    result = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", os.devnull, str(MESSAGES / f"{domain}.po")],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert result.returncode == 0, result.stderr
    assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr, result.stderr
    assert "translated message" in result.stderr


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_compiled_catalogue_is_current(domain, tmp_path, msgfmt):
    fresh = tmp_path / f"{domain}.mo"
    subprocess.run([msgfmt, "-o", str(fresh), str(MESSAGES / f"{domain}.po")], check=True)

    with open(fresh, "rb") as new, open(MESSAGES / f"{domain}.mo", "rb") as committed:
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(new)._catalog, (
            f"locale/de/LC_MESSAGES/{domain}.mo is older than its .po: run `make messages`"
        )


def test_the_javascript_catalogue_is_kept_by_the_browser_and_speaks_the_pages_language(client, db):
    german = client.get(jsi18n.url("de"))

    assert german.status_code == 200 and german["Content-Type"].startswith("text/javascript")
    assert "max-age=31536000" in german["Cache-Control"] and "immutable" in german["Cache-Control"]
    assert "Std." in german.content.decode()
    assert "Std." not in client.get(jsi18n.url("en")).content.decode()


@pytest.mark.parametrize("path", ["/jsi18n/fr/{version}.js", "/jsi18n/de/0123456789ab.js"])
def test_an_unknown_language_or_an_old_catalogue_is_a_404(client, db, path):
    assert client.get(path.format(version=jsi18n.version())).status_code == 404


def test_pages_load_the_catalogue_of_their_language(client, db):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert f'<script src="{jsi18n.url("de")}" defer></script>' in page
