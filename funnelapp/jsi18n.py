"""The JavaScript catalogue (Django's JavaScriptCatalog) at an address that names its language and the
catalogue's version, so a browser keeps it for a year and every page's scripts start without waiting
for it. A new catalogue (another djangojs.mo) gets a new address."""

import hashlib
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.views.i18n import JavaScriptCatalog

YEAR = 365 * 24 * 3600


@cache
def version():
    """A short hash of every compiled JavaScript catalogue."""
    digest = hashlib.sha256()
    for folder in settings.LOCALE_PATHS:
        for compiled in sorted(Path(folder).glob("*/LC_MESSAGES/djangojs.mo")):
            digest.update(compiled.read_bytes())
    return digest.hexdigest()[:12]


def url(language=None):
    language = language or translation.get_language()
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    return reverse("javascript-catalog", args=[language, version()])


def catalogue(request, language, catalogue_version):
    if language not in dict(settings.LANGUAGES) or catalogue_version != version():
        raise Http404("No such catalogue.")
    with translation.override(language):
        response = JavaScriptCatalog.as_view()(request)
    patch_cache_control(response, public=True, max_age=YEAR, immutable=True)
    return response
