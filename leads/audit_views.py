"""The audit log page: every configuration change, newest first, for admins."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext, gettext_lazy

from . import access
from . import audit as log

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    kind = forms.ChoiceField(
        choices=lambda: [("", gettext("Everything")), *log.kind_choices()], required=False, label=gettext_lazy("What")
    )
    user = forms.ModelChoiceField(
        queryset=User.objects.order_by("username"),
        required=False,
        label=gettext_lazy("Who"),
        empty_label=gettext_lazy("Anyone"),
    )


@login_required
def audit_log(request):
    if not access.has_role(request.user, access.ADMIN):
        raise PermissionDenied
    form = AuditFilterForm(request.GET or None)
    kind, user = "", None
    if form.is_valid():
        kind, user = form.cleaned_data["kind"], form.cleaned_data["user"]
    found = log.events(kind=kind, user_id=user.pk if user else None)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "entries": log.entries(page.object_list), "query": query.urlencode()}
    return render(request, "leads/audit_log.html", context)
