"""The routing fairness report: each rep's round-robin MQLs against their weight's share."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext

from . import access, fairness
from .forms import FairnessForm


def fairness_for(user, query):
    """The report ``query`` asks for, and its form; raises PermissionDenied for a user without teams to review."""
    teams = access.report_teams(user)
    if not teams:
        raise PermissionDenied(gettext("Only managers and admins see routing fairness."))
    form = FairnessForm(query, teams=teams, today=timezone.localdate())
    if not form.is_valid():
        return form, None
    start, end = fairness.period_bounds(form.cleaned_data["date_from"], form.cleaned_data["date_to"])
    return form, fairness.fairness(form.cleaned_data["team"], start=start, end=end)


@login_required
def fairness_report(request):
    form, report = fairness_for(request.user, request.GET)
    return render(
        request, "leads/routing_fairness.html", {"form": form, "report": report}, status=400 if form.errors else 200
    )
