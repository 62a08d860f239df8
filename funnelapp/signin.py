"""Sign-in protection: failed sign-ins lock out a username, and an address, for a while.

django-axes counts the failures in the database (so every web process sees the
same counts) for the HTML login, the admin login and ``/api/auth/token/``. A
username is locked after ``AXES_FAILURE_LIMIT`` failures, an address after
``FUNNEL_SIGNIN_ADDRESS_FAILURE_LIMIT`` (higher: an office behind one address
must not lock everyone out because one person mistyped), each for
``AXES_COOLOFF_TIME`` after its latest failure. While locked, even the right
password is refused; other usernames from other addresses are unaffected.
The lockout answer says so in words and carries ``Retry-After``.
"""

import math
from dataclasses import dataclass
from datetime import datetime

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, Sum
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext

from .middleware import is_api


def failure_limits():
    """How many failures lock out each lockout parameter."""
    return {"username": settings.AXES_FAILURE_LIMIT, "ip_address": settings.FUNNEL_SIGNIN_ADDRESS_FAILURE_LIMIT}


@dataclass(frozen=True)
class Tally:
    parameter: str
    failures: int
    limit: int
    latest: datetime | None

    @property
    def locked(self):
        return self.failures >= self.limit


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler with a limit of its own for each lockout parameter."""

    def tallies(self, request, credentials=None):
        """The failures within the cool-off for each lockout parameter, in the order of AXES_LOCKOUT_PARAMETERS."""
        limits = failure_limits()
        tallies = []
        for parameter, attempts in zip(
            settings.AXES_LOCKOUT_PARAMETERS, self.get_user_attempts(request, credentials), strict=True
        ):
            if parameter == "username" and get_client_username(request, credentials) is None:
                continue
            found = attempts.aggregate(failures=Sum("failures_since_start"), latest=Max("attempt_time"))
            tallies.append(Tally(parameter, found["failures"] or 0, limits[parameter], found["latest"]))
        return tallies

    def get_failures(self, request, credentials=None):
        # axes compares this with its one AXES_FAILURE_LIMIT: scale each parameter's count onto it.
        return max(
            (
                tally.failures * settings.AXES_FAILURE_LIMIT // tally.limit
                for tally in self.tallies(request, credentials)
            ),
            default=0,
        )


def lockout(request, credentials=None):
    """(a sentence for the person signing in, seconds until signing in works again) for a locked-out request."""
    AxesProxyHandler.update_request(request)
    handler = AxesProxyHandler.get_implementation()
    locked = [tally for tally in handler.tallies(request, credentials) if tally.locked and tally.latest]
    cool_off = get_cool_off(request)
    now = timezone.now()
    ends = max((tally.latest + cool_off for tally in locked), default=now + cool_off)
    seconds = max(1, math.ceil((ends - now).total_seconds()))
    minutes = math.ceil(seconds / 60)
    if any(tally.parameter == "username" for tally in locked):
        sentence = ngettext(
            "Too many failed sign-ins for this username: signing in with it is locked for %(minutes)d minute, "
            "even with the right password. Other users are not affected.",
            "Too many failed sign-ins for this username: signing in with it is locked for %(minutes)d minutes, "
            "even with the right password. Other users are not affected.",
            minutes,
        ) % {"minutes": minutes}
    else:
        sentence = ngettext(
            "Too many failed sign-ins from this address: signing in from it is locked for %(minutes)d minute.",
            "Too many failed sign-ins from this address: signing in from it is locked for %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
    return sentence, seconds


def lockout_response(request, original_response=None, credentials=None):
    """axes' AXES_LOCKOUT_CALLABLE: 429 with Retry-After; JSON for the API, the sign-in page in words otherwise."""
    sentence, seconds = lockout(request, credentials)
    if is_api(request):
        response = JsonResponse({"detail": sentence, "code": "locked_out"}, status=429)
    else:
        username = get_client_username(request, credentials) or ""
        context = {
            "form": AuthenticationForm(request, initial={"username": username}),
            "lockout": sentence,
            "next": request.POST.get("next", ""),
        }
        response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response
