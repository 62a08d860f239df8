"""Request and response rules that hold for every view.

``RefuseUnstorableInput``: PostgreSQL cannot store or even compare text with a
NUL character, so a query parameter, form field or header carrying one is
answered 400 with a sentence before any view runs, instead of a 500 from the
first query that uses it (``/reports/rejection-reasons/?reason=%00`` was one).
Invalid UTF-8 in a query string or a urlencoded form is a 400 too (Django would
read it as U+FFFD and carry on). JSON bodies are the API parser's (``leads.api.parsers``).

``NoStoreApiResponses``: API answers carry lead details and tokens, so no
browser or proxy cache may keep them.

``ContentSecurityPolicy``: django-csp's middleware, with the policy widened for
the pages of other projects that need it (``CSP_UPDATES_BY_PATH`` in settings):
the API docs and the Django admin set inline styles. No page runs inline script.

``UserLocale``: a signed-in user's language and time zone, from their profile.
"""

from urllib.parse import unquote_to_bytes
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.formats import number_format
from django.utils.translation import gettext

API_PREFIX = "/api/"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NUL = "\x00"


def is_api(request):
    return request.path_info.startswith(API_PREFIX)


def is_utf8(encoded, *, form=False):
    """Whether a percent-encoded query string (str, as WSGI hands it over) or form body (bytes) is UTF-8."""
    if isinstance(encoded, str):
        try:
            encoded = encoded.encode("latin-1")  # WSGI hands the raw bytes over as latin-1 text (PEP 3333)
        except UnicodeEncodeError:
            encoded = encoded.encode("utf-8")
    if form:
        encoded = encoded.replace(b"+", b" ")
    try:
        unquote_to_bytes(encoded).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def unreadable_input(request):
    """(the field at fault or None, a sentence) for the first query parameter, form field or header
    with a NUL character, or a form body that cannot be parsed; None if there is none."""
    if not is_utf8(request.META.get("QUERY_STRING", "")):
        return None, gettext("The query string is not valid UTF-8: encode text as UTF-8, then percent-encode it.")
    if request.content_type == "application/x-www-form-urlencoded" and not is_utf8(request.body, form=True):
        return None, gettext("The form data is not valid UTF-8: encode text as UTF-8, then percent-encode it.")
    sources = [
        (gettext("The query parameter %(name)s contains a NUL character (\\0), which no text may hold."), request.GET)
    ]
    if request.method == "POST" and request.content_type in FORM_TYPES:
        try:
            sources.append(
                (
                    gettext("The form field %(name)s contains a NUL character (\\0), which no text may hold."),
                    request.POST,
                )
            )
        except MultiPartParserError as error:
            return None, gettext("The multipart body cannot be read: %(problem)s") % {"problem": error}
    for sentence, data in sources:
        for name, values in data.lists():
            if NUL in name or any(NUL in value for value in values):
                name = name.replace(NUL, "")
                return name, sentence % {"name": repr(name)}
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and NUL in value:
            header = key.removeprefix("HTTP_").replace("_", "-").title()
            return None, gettext("The %(header)s header contains a NUL character (\\0), which no header may hold.") % {
                "header": header
            }
    if NUL in request.path_info:
        return None, gettext("The address contains a NUL character (%(nul)s), which no address may hold.") % {
            "nul": "%00"
        }
    return None


class RefuseUnstorableInput:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Before the session and the profile are read: the answer is in the cookie's or the browser's language.
        with translation.override(requested_language(request)):
            try:
                problem = unreadable_input(request)
            except RequestDataTooBig:
                limit = number_format(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, force_grouping=True)
                sentence = gettext("The request body is larger than %(limit)s bytes; send less.") % {"limit": limit}
                return refusal(request, None, sentence, status=413)
            answer = None if problem is None else refusal(request, *problem, status=400)
        return self.get_response(request) if answer is None else answer


def requested_language(request):
    """The language of the cookie or Accept-Language (one that names no language we have gives English)."""
    return translation.get_language_from_request(request)


def refusal(request, field, sentence, *, status):
    if is_api(request):
        # The shapes of DRF's own errors: {"field": ["message"]}, or {"detail": "message"}.
        body = {field: [sentence]} if field else {"detail": sentence, "code": "invalid"}
        return JsonResponse(body, status=status)
    # Rendered without the request: its session cookie may be the header at fault.
    return HttpResponse(render_to_string("400.html", {"message": sentence, "status": status}), status=status)


class NoStoreApiResponses:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_api(request):
            patch_cache_control(response, no_store=True, private=True)
        return response


class ContentSecurityPolicy(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if parts.update is None and not report_only:
            for prefix, update in settings.CSP_UPDATES_BY_PATH.items():
                if request.path_info.startswith(prefix):
                    parts.update = update
                    break
        return parts


class UserLocale:
    """Language and time zone of a signed-in user, from their profile (``leads.models.UserProfile``).

    Django's LocaleMiddleware has already picked the cookie's or the browser's language; a
    profile that names one wins. Times are shown in the profile's zone (UTC until the browser
    has told it, ``leads.profile_views.browser_time_zone``). API clients with a token are
    authenticated in the view, after this runs: ``funnelapp.api_auth`` does the same for them then.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from leads.models.profiles import profile_of

        user = getattr(request, "user", None)
        profile = profile_of(user) if user is not None and user.is_authenticated else None
        request.profile = profile
        timezone.deactivate()
        activate_profile(request, profile)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def activate_profile(request, profile, *, zone=True):
    """Show what ``request`` answers in ``profile``'s language and (with ``zone``) time zone, where it names them."""
    if profile is not None and profile.language:
        translation.activate(profile.language)
        request.LANGUAGE_CODE = translation.get_language()
    if zone and profile is not None and profile.time_zone:
        try:
            timezone.activate(ZoneInfo(profile.time_zone))
        except (ValueError, ZoneInfoNotFoundError):  # a zone the tz database has since dropped
            timezone.deactivate()
