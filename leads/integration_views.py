"""Slack's interactivity endpoint and each user's notification preferences page."""

import json
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from slack_sdk.signature import SignatureVerifier

from . import chat, preferences, slack_actions
from .forms import NotificationPreferencesForm
from .models import NoticeKind

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def slack_interactivity(request):
    """Slack signs each request (HMAC of its timestamp and body); anything unsigned, or older than 5 minutes, is refused."""
    if not settings.SLACK_SIGNING_SECRET:
        return HttpResponse(gettext("Slack is not set up."), status=404)
    verifier = SignatureVerifier(settings.SLACK_SIGNING_SECRET)
    try:
        signed = verifier.is_valid_request(request.body, dict(request.headers))
    except ValueError:  # a timestamp that is not a number
        signed = False
    if not signed:
        return HttpResponse(gettext("Bad or stale Slack signature."), status=401)
    try:
        payload = json.loads(request.POST.get("payload", ""))
        if not isinstance(payload, dict):
            raise ValueError
        answer = slack_actions.handle(payload)
    except (ValueError, slack_actions.BadPayload) as exc:
        return HttpResponse(
            gettext("Not an interaction payload Funnel understands: %(problem)s") % {"problem": exc}, status=400
        )
    except chat.ChatError as exc:
        log.warning("Slack interaction: %s", exc)
        return HttpResponse(gettext("Slack could not be reached."), status=502)
    return JsonResponse(answer) if answer else HttpResponse(status=200)


@login_required
def notification_preferences(request):
    saved = preferences.preferences_of(request.user)
    form = NotificationPreferencesForm(request.POST or None, instance=saved)
    if request.method == "POST" and form.is_valid():
        form.instance.user = request.user
        form.save()
        messages.success(request, gettext("Your notification preferences are saved."))
        return redirect("leads:notification_preferences")
    rows = [(kind.label, form[f"{kind.value}_email"], form[f"{kind.value}_chat"]) for kind in NoticeKind]
    return render(request, "leads/preferences_edit.html", {"form": form, "rows": rows})
