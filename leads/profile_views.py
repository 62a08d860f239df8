"""A user's own out-of-office periods: routing gives them no MQLs while one lasts."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .forms import OutOfOfficeForm
from .models import OutOfOffice


@login_required
def out_of_office(request):
    now = timezone.now()
    form = OutOfOfficeForm(request.POST or None, now=now)
    if request.method == "POST" and form.is_valid():
        period = form.save(commit=False)
        period.user = request.user
        period.save()
        messages.success(request, "Out-of-office period saved: no new MQLs reach you while it lasts.")
        return redirect("leads:out_of_office")
    periods = OutOfOffice.objects.filter(user=request.user, ends_at__gt=now)
    context = {"form": form, "periods": periods, "now": now}
    return render(request, "leads/out_of_office.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def out_of_office_delete(request, pk):
    # Another user's period is a 404, like another rep's lead.
    get_object_or_404(OutOfOffice, pk=pk, user=request.user).delete()
    messages.success(request, "Out-of-office period removed.")
    return redirect("leads:out_of_office")
