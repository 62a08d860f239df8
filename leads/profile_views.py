"""A user's own settings: out-of-office periods (routing gives them no MQLs while one lasts),
language and time zone (``UserProfile``)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .forms import OutOfOfficeForm, UserProfileForm
from .models import OutOfOffice, validate_time_zone
from .models.profiles import profile_of


@login_required
def out_of_office(request):
    now = timezone.now()
    form = OutOfOfficeForm(request.POST or None, now=now)
    if request.method == "POST" and form.is_valid():
        period = form.save(commit=False)
        period.user = request.user
        period.save()
        messages.success(request, _("Out-of-office period saved: no new MQLs reach you while it lasts."))
        return redirect("leads:out_of_office")
    periods = OutOfOffice.objects.filter(user=request.user, ends_at__gt=now)
    context = {"form": form, "periods": periods, "now": now}
    return render(request, "leads/out_of_office.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def out_of_office_delete(request, pk):
    # Another user's period is a 404, like another rep's lead.
    get_object_or_404(OutOfOffice, pk=pk, user=request.user).delete()
    messages.success(request, _("Out-of-office period removed."))
    return redirect("leads:out_of_office")


@login_required
def profile(request):
    """The user's language and time zone."""
    saved = profile_of(request.user)
    form = UserProfileForm(request.POST or None, instance=saved)
    if request.method == "POST" and form.is_valid():
        form.instance.user = request.user
        saved = form.save()
        language = saved.language or translation.get_language_from_request(request)
        with translation.override(language):
            messages.success(request, _("Your profile is saved."))
        return _with_language_cookie(redirect("leads:profile"), saved.language)
    return render(request, "leads/profile.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
def set_language(request):
    """The header's language switcher: saved in a signed-in user's profile, and in a cookie for the sign-in page."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest(
            _("Unknown language %(language)r: choose one of %(choices)s.")
            % {"language": language, "choices": ", ".join(code for code, _name in settings.LANGUAGES)},
            content_type="text/plain; charset=utf-8",
        )
    if request.user.is_authenticated:
        saved = profile_of(request.user)
        saved.user = request.user
        saved.language = language
        saved.save()
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = reverse("leads:home")
    return _with_language_cookie(HttpResponseRedirect(target), language)


# The tz database's names of UTC itself.
UTC_NAMES = frozenset(
    "UTC Etc/UTC UCT Etc/UCT Universal Etc/Universal Zulu Etc/Zulu GMT Etc/GMT GMT0 Etc/GMT0 GMT+0 Etc/GMT+0 "
    "GMT-0 Etc/GMT-0 Greenwich Etc/Greenwich".split()
)


@login_required
@require_POST
def browser_time_zone(request):
    """The browser's time zone, saved once for a user whose profile has none (funnel.js posts it)."""
    name = request.POST.get("time_zone", "")
    try:
        validate_time_zone(name)
    except ValidationError as exc:
        return JsonResponse({"time_zone": exc.messages}, status=400)
    saved = profile_of(request.user)
    if saved.time_zone:
        return JsonResponse({"time_zone": saved.time_zone, "changed": False})
    saved.user = request.user
    saved.time_zone = name
    saved.save()
    # The page was shown in UTC: only another zone is worth showing it again.
    return JsonResponse({"time_zone": name, "changed": name not in UTC_NAMES})


def remember_browser_time_zone(sender, request, user, **kwargs):
    """On sign-in: the time zone the sign-in form read from the browser, for a profile without one."""
    name = request.POST.get("time_zone", "") if request is not None else ""
    if not name:
        return
    try:
        validate_time_zone(name)
    except ValidationError:
        return
    saved = profile_of(user)
    if not saved.time_zone:
        saved.user = user
        saved.time_zone = name
        saved.save()


def _with_language_cookie(response, language):
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, path=settings.LANGUAGE_COOKIE_PATH)
    return response
