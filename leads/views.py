"""Browser views: every page reads through ``access.visible_leads`` and every
action is one call into ``leads.transitions``.

Actions answer htmx requests with a partial (the row that changed, or an
inline error retargeted to the row's error slot with status 400/403/409) and
plain form posts with a redirect back and a flash message.
"""

from collections import defaultdict
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import engines
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from . import access, lead_list, live, privacy, scoring, sla, timeline, transitions
from .forms import (
    SALES_ACTIVITY_CHOICES,
    ActivityForm,
    BulkReassignForm,
    EraseForm,
    LeadDetailsForm,
    MergeForm,
    NoteForm,
    OptOutForm,
    PromoteForm,
    ReasonForm,
    ReassignForm,
    RejectedFilterForm,
    UndoForm,
)
from .models import (
    SALES_ACTIVITY_KINDS,
    Activity,
    EventKind,
    LeadEvent,
    OptOut,
    RejectionReason,
    Stage,
    Team,
    TeamMember,
)

# Where "/" takes each role, first match wins.
HOME_PAGES = (
    (access.REP, "leads:queue"),
    (access.MANAGER, "leads:team"),
    (access.MARKETER, "leads:rejected"),
    (access.ADMIN, "leads:team"),
)
# Rows per page of every lead list (queue, accepted, team, breached, rejected): enough
# for a sitting's work, few enough that a page of 100,000 open leads renders at once.
LIST_PAGE_SIZE = 50
# How often a list asks whether others changed its rows (leads.live), in milliseconds.
LIVE_INTERVAL_MS = 10_000


def role_required(*roles):
    """Let only signed-in users holding one of ``roles`` use the page; others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not access.has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorator


@login_required
def home(request):
    roles = access.roles_of(request.user)
    for role, page in HOME_PAGES:
        if role in roles:
            return redirect(page)
    return render(request, "leads/home_no_role.html", status=403)


@role_required(access.REP)
def queue(request):
    now = timezone.now()
    breached_first = request.GET.get("breached") == "first"
    leads = access.visible_leads(request.user).owned_by(request.user).open_mqls()
    queue = sla.Queue(leads.select_related("sla_policy__business_hours"), now, breached_first=breached_first)
    page = _paginate(request, queue)
    context = {
        "page": page,
        "leads": page.object_list,
        "rows": _queue_rows(request, page.object_list, now=now),
        "breached_first": breached_first,
        **_live_rows(),
    }
    return render(request, "leads/lead_queue.html", context)


def _queue_rows(request, leads, *, now, restored=False):
    """The queue's rows with their clocks and scoring reasons, rendered by Jinja2 (funnelapp/jinja_env.py says why)."""
    sla.SlaClocks(now).attach(leads)
    scoring.top_reasons(leads)
    context = {"leads": leads, "reasons": _active_reasons(), "restored": restored}
    return mark_safe(engines["jinja2"].get_template("leads/_queue_rows.jinja").render(context, request))


@role_required(access.REP)
def accepted(request):
    leads = access.visible_leads(request.user).owned_by(request.user).filter(stage=Stage.SAL)
    page = _paginate(request, _with_last_activity(leads).order_by("-accepted_at", "-id"))
    context = {
        "page": page,
        "leads": page.object_list,
        "reasons": _active_reasons(),
        "activity_kinds": SALES_ACTIVITY_CHOICES,
    }
    return render(request, "leads/lead_accepted.html", context)


@role_required(access.MANAGER, access.ADMIN)
def team(request):
    now = timezone.now()
    visible = access.visible_leads(request.user)
    leads = visible.select_related("owner", "team", "sla_policy__business_hours")
    # Unassigned MQLs first: nobody is working them. Each list pages on its own.
    mqls = leads.open_mqls().order_by(F("sla_due_at").asc(nulls_first=True), "mql_at", "id")
    mql_page = _paginate(request, mqls, param="mql_page")
    sal_page = _paginate(request, leads.filter(stage=Stage.SAL).order_by("-accepted_at", "-id"), param="sal_page")
    shown = mql_page.object_list + sal_page.object_list
    _attach_rep_choices(shown)
    sla.SlaClocks(now).attach(shown)
    context = {
        "mql_page": mql_page,
        "sal_page": sal_page,
        "unassigned_count": visible.open_mqls().filter(owner__isnull=True).count(),
        "breached_count": visible.breached(now).count(),
    }
    return render(request, "leads/lead_team.html", context)


@role_required(access.MANAGER, access.ADMIN)
def breached(request):
    now = timezone.now()
    visible = access.visible_leads(request.user)
    leads = visible.breached(now).select_related("owner", "team", "sla_policy__business_hours")
    # Oldest due first. A breached MQL always has a due time, so "nulls first" changes
    # no order; it lets the database read lead_open_mqls_idx in order and stop after a page.
    page = _paginate(request, leads.order_by(F("sla_due_at").asc(nulls_first=True), "id"))
    _attach_rep_choices(page.object_list)
    sla.SlaClocks(now).attach(page.object_list)
    context = {
        "page": page,
        "leads": page.object_list,
        "breached_count": page.paginator.count,
        "unassigned_count": visible.open_mqls().filter(owner__isnull=True).count(),
    }
    return render(request, "leads/lead_breached.html", context)


@role_required(access.MARKETER, access.MANAGER, access.ADMIN)
def rejected(request):
    leads = access.visible_leads(request.user).filter(stage=Stage.REJECTED)
    form = RejectedFilterForm(request.GET or None, leads=leads)
    found = _with_rejection_note(form.filter(leads)).select_related("owner", "rejection_reason")
    page = _paginate(request, found.order_by("-rejected_at", "-id"))
    return render(request, "leads/lead_rejected.html", {"form": form, "page": page, "leads": page.object_list})


@login_required
def leads(request):
    """Every lead the user may see, searched, filtered and sorted, a keyset page at a time."""
    now = timezone.now()
    form = lead_list.LeadListForm(request.GET, user=request.user)
    if not form.is_valid():
        context = {"form": form, "leads": [], "next_url": "", "export_url": ""}
        return render(request, "leads/lead_list.html", context, status=400)
    visible = access.visible_leads(request.user).select_related("owner", "team", "sla_policy__business_hours")
    rows, after = form.page(visible, now=now)
    sla.SlaClocks(now).attach(rows)
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "form": form,
        "leads": rows,
        "next_url": f"?{_with(query, after=after)}" if after else "",
        "first_url": f"?{query.urlencode()}" if form.cleaned_data.get("after") else "",
        "export_url": f"{reverse('leads:export_list')}?{query.urlencode()}",
        "can_reassign": access.has_role(request.user, access.MANAGER, access.ADMIN),
        "views": list(lead_list.saved_views(request.user)),
        "current_query": query.urlencode(),
        "share_teams": form.teams if access.has_role(request.user, access.MANAGER, access.ADMIN) else [],
        **_live_rows(),
    }
    return render(request, "leads/lead_list.html", context)


@login_required
def export_list(request):
    """The current view of /leads/ as CSV, every row, cells safe to open in a spreadsheet."""
    form = lead_list.LeadListForm(request.GET, user=request.user)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    visible = access.visible_leads(request.user).select_related("owner", "team")
    response = StreamingHttpResponse(
        lead_list.csv_lines(form.filter(visible, now=timezone.now())), content_type="text/csv"
    )
    response["Content-Disposition"] = 'attachment; filename="funnel-leads.csv"'
    return response


@login_required
def changes(request):
    """What others did to the rows of a page since its cursor: {"cursor": n, "changes": {lead id: sentence}}."""
    after = request.GET.get("after", "")
    raw_ids = [part for part in request.GET.get("ids", "").split(",") if part]
    if not after.isdecimal() or len(after) > 18:
        return JsonResponse({"detail": gettext("Send after=<the page's cursor>, a whole number.")}, status=400)
    if len(raw_ids) > live.MAX_ROWS or not all(part.isdecimal() and len(part) < 19 for part in raw_ids):
        detail = gettext("Send ids=<up to %(max)s lead ids, comma-separated>.") % {"max": live.MAX_ROWS}
        return JsonResponse({"detail": detail}, status=400)
    ids = [int(part) for part in raw_ids]
    since = request.GET.get("since", "")
    arrived = []
    if since:
        if not since.isdecimal() or len(since) > 18:
            return JsonResponse(
                {"detail": gettext("Send since=<the cursor the page was drawn with>, a whole number.")}, status=400
            )
        arrived = live.new_mqls(request.user, ids, after=int(since))
    cursor, lines = live.changes(request.user, ids, after=int(after))
    return JsonResponse(
        {"cursor": cursor, "changes": {str(pk): line for pk, line in lines.items()}, "new_mqls": len(arrived)}
    )


@login_required
@require_POST
def save_view(request):
    """Save the current /leads/ search as a named view, shared with a team if a manager chose one."""
    raw_team = request.POST.get("team", "")
    team = Team.objects.filter(pk=raw_team).first() if raw_team.isdecimal() and len(raw_team) < 19 else None
    query = request.POST.get("query", "")
    try:
        view = lead_list.save_view(request.user, name=request.POST.get("name"), query=query, team=team)
    except lead_list.ViewError as error:
        messages.error(request, error.message)
        return redirect(f"{reverse('leads:list')}?{query}" if len(query) <= 2000 else reverse("leads:list"))
    if view.team:
        saved = gettext("Saved the view “%(name)s”, shared with %(team)s.") % {
            "name": view.name,
            "team": view.team.name,
        }
    else:
        saved = gettext("Saved the view “%(name)s”.") % {"name": view.name}
    messages.success(request, saved)
    return redirect(f"{reverse('leads:list')}?{view.query}")


@login_required
@require_POST
def delete_view(request, pk):
    try:
        name = lead_list.delete_view(request.user, pk)
    except lead_list.ViewError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext("Deleted the view “%(name)s”.") % {"name": name})
    return redirect("leads:list")


@role_required(access.MANAGER, access.ADMIN)
@require_POST
def bulk_reassign(request):
    """Give the leads ticked on /leads/ to one rep: one transition and one event per lead."""
    form = BulkReassignForm(request.POST)
    back = _safe_next(request, reverse("leads:list"))
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return HttpResponseRedirect(back)
    ids = form.cleaned_data["leads"]
    leads = list(access.visible_leads(request.user).filter(pk__in=ids).order_by("id"))
    try:
        done, refused = transitions.reassign_leads(
            leads, by=request.user, to=form.cleaned_data["to"], note=form.cleaned_data["note"]
        )
    except transitions.LeadError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(back)
    to = _person(form.cleaned_data["to"])
    if done:
        reassigned = ngettext(
            "Reassigned %(count)s lead to %(to)s.", "Reassigned %(count)s leads to %(to)s.", len(done)
        )
        messages.success(request, reassigned % {"count": len(done), "to": to})
    for lead, why in refused:
        messages.error(request, f"{lead.name}: {why}")
    missing = len(set(ids)) - len(leads)
    if missing:
        gone = ngettext(
            "%(count)s of the ticked leads are no longer available to you; nothing was changed there.",
            "%(count)s of the ticked leads are no longer available to you; nothing was changed there.",
            missing,
        )
        messages.error(request, gone % {"count": missing})
    return HttpResponseRedirect(back)


@login_required
def detail(request, pk):
    lead = get_object_or_404(
        access.visible_leads(request.user).select_related(
            "owner", "team", "rejection_reason", "sla_policy__business_hours", "account"
        ),
        pk=pk,
    )
    _attach_rep_choices([lead])
    sla.SlaClocks(timezone.now()).attach([lead])
    cursor = timeline.parse_cursor(request.GET.get("before"))
    page = timeline.page(lead, cursor=cursor, size=LIST_PAGE_SIZE)
    now = timezone.now()
    # The newest page holds the latest action unless score changes crowd it out; then ask for it.
    actions = [event for event in page.events if event.kind != EventKind.SCORE_CHANGED]
    if not (page.is_first and actions):
        actions = list(lead.events.exclude(kind=EventKind.SCORE_CHANGED).order_by("-at", "-id")[:1])
    context = {
        "lead": lead,
        "timeline": page,
        "next_url": f"?{_with(request.GET, before=page.next_cursor)}" if page.next_cursor else "",
        "undo_event": transitions.undo_offer(actions, by=request.user, now=now),
        "reasons": RejectionReason.objects.filter(is_active=True),
        "activity_kinds": SALES_ACTIVITY_CHOICES,
        "teams": Team.objects.filter(is_active=True),
        "score_lines": scoring.explain(lead),
        "mql_threshold": scoring.threshold(),
        "can_edit": access.can_edit_leads(request.user) and lead.erased_at is None,
        "can_export": access.can_export_personal_data(request.user),
        "opt_outs": lead.opt_outs.select_related("recorded_by") if lead.opted_out_at else (),
        "opt_out_sources": OptOut.Source.choices,
    }
    return render(request, "leads/lead_detail.html", context)


@role_required(access.MARKETER, access.ADMIN)
def edit(request, pk):
    lead = get_object_or_404(access.visible_leads(request.user), pk=pk)
    form = LeadDetailsForm(request.POST or None, instance=lead, initial={"version": lead.version})
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        try:
            lead = transitions.update_lead(lead, by=request.user, **changes)
        except transitions.LeadError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            if len(changes) > 1:
                done = gettext("Saved the changes to %(name)s.")
            else:
                done = gettext("Nothing to save: %(name)s is unchanged.")
            messages.success(request, done % {"name": lead.name})
            return redirect(lead)
    return render(request, "leads/lead_edit.html", {"lead": lead, "form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def accept(request, pk):
    form = NoteForm(request.POST)
    return _perform(request, pk, form, transitions.accept_lead, _accepted_message)


def _accepted_message(lead, user):
    if lead.owner_id is not None and lead.owner_id == user.pk:
        return gettext("Accepted %(name)s: it is now in your accepted leads.")
    return gettext("Accepted %(name)s: it is now in %(owners)s accepted leads.")


@login_required
@require_POST
def reject(request, pk):
    form = ReasonForm(request.POST)
    return _perform(request, pk, form, transitions.reject_lead, gettext_lazy("Rejected %(name)s."))


@login_required
@require_POST
def qualify(request, pk):
    form = NoteForm(request.POST)
    return _perform(request, pk, form, transitions.qualify_lead, gettext_lazy("Qualified %(name)s to SQL."))


@login_required
@require_POST
def disqualify(request, pk):
    form = ReasonForm(request.POST)
    return _perform(request, pk, form, transitions.disqualify_lead, gettext_lazy("Disqualified %(name)s."))


@login_required
@require_POST
def recycle(request, pk):
    form = NoteForm(request.POST)
    return _perform(
        request, pk, form, transitions.recycle_lead, gettext_lazy("Recycled %(name)s to marketing nurture.")
    )


@login_required
@require_POST
def promote(request, pk):
    form = PromoteForm(request.POST)
    return _perform(request, pk, form, transitions.promote_to_mql, gettext_lazy("Promoted %(name)s to MQL."))


@login_required
@require_POST
def reassign(request, pk):
    form = ReassignForm(request.POST)
    message = gettext_lazy("Reassigned %(name)s to %(owner)s.")
    return _perform(request, pk, form, transitions.reassign_lead, message, htmx_row=_reassigned_row)


@login_required
@require_POST
def log_activity(request, pk):
    form = ActivityForm(request.POST)
    return _perform(request, pk, form, transitions.log_activity, _logged_message, htmx_row=_accepted_row)


# What logging each sales activity says (the kind is a noun German capitalises).
LOGGED_MESSAGES = {
    "call": gettext_lazy("Logged the call on %(name)s."),
    "email": gettext_lazy("Logged the e-mail on %(name)s."),
    "meeting": gettext_lazy("Logged the meeting on %(name)s."),
    "conversation": gettext_lazy("Logged the conversation on %(name)s."),
}


def _logged_message(lead, user, kind=""):
    return str(LOGGED_MESSAGES.get(kind) or gettext("Logged the activity on %(name)s."))


@login_required
@require_POST
def opt_out(request, pk):
    form = OptOutForm(request.POST)
    return _perform(request, pk, form, transitions.opt_out_lead, gettext_lazy("Recorded the opt-out of %(name)s."))


@login_required
@require_POST
def erase(request, pk):
    form = EraseForm(request.POST)
    message = gettext_lazy(
        "Erased the personal data of lead #%(pk)s: the funnel facts stay, the person's details and notes are gone."
    )
    return _perform(request, pk, form, transitions.erase_lead, message)


@login_required
@require_POST
def undo(request, pk):
    form = UndoForm(request.POST)
    return _perform(
        request,
        pk,
        form,
        transitions.undo_lead,
        gettext_lazy("Undone: %(name)s is back in stage %(stage)s."),
        htmx_row=_undone_row,
    )


@login_required
@require_POST
def merge(request, pk):
    form = MergeForm(request.POST, leads=access.visible_leads(request.user))
    message = gettext_lazy("Merged %(name)s (lead #%(pk)s) into the lead it duplicates; unmerge restores it.")
    return _perform(request, pk, form, _merge_lead, message)


def _merge_lead(lead, **arguments):
    merged, _plan = transitions.merge_lead(lead, **arguments)
    return merged


@login_required
@require_POST
def unmerge(request, pk):
    form = NoteForm(request.POST)
    return _perform(
        request, pk, form, transitions.unmerge_lead, gettext_lazy("Unmerged %(name)s: it has its stage back.")
    )


@login_required
def export(request, pk):
    """The person's data as a JSON download (admins), the same document as GET /api/leads/{id}/export/."""
    if not access.can_export_personal_data(request.user):
        raise PermissionDenied
    lead = get_object_or_404(access.visible_leads(request.user), pk=pk)
    response = JsonResponse(privacy.export_person(lead), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="funnel-lead-{lead.pk}-personal-data.json"'
    return response


def _perform(request, pk, form, transition, message, htmx_row=None):
    """Validate ``form``, call ``transition`` and answer with a partial (htmx) or a redirect."""
    lead = access.visible_leads(request.user).filter(pk=pk).first()
    if lead is None:
        return _gone(request, pk)
    if not form.is_valid():
        return _refused(request, lead, _first_error(form), status=400)
    try:
        lead = transition(lead, by=request.user, **form.cleaned_data)
    except transitions.LeadError as error:
        return _refused(request, lead, error.message, status=error.status_code)
    if callable(message):
        message = message(
            lead, request.user, **({"kind": form.cleaned_data["kind"]} if "kind" in form.cleaned_data else {})
        )
    message = str(message) % {
        "name": lead.name,
        "pk": lead.pk,
        "owner": _person(lead.owner),
        "owners": _possessive(lead.owner, request.user),
        "stage": lead.get_stage_display(),
    }
    if not request.htmx:
        messages.success(request, message)
        return _redirect_back(request, lead)
    if htmx_row is None:
        undoable = transition in UNDOABLE_VERBS
        return render(request, "leads/_row_done.html", {"lead": lead, "message": message, "undoable": undoable})
    return htmx_row(request, lead, message)


# The verbs whose "done" row offers Undo (transitions.UNDOABLE_EVENTS).
UNDOABLE_VERBS = (transitions.accept_lead, transitions.reject_lead, transitions.qualify_lead)


def _undone_row(request, lead, message):
    """Undone from the queue: the row comes back with its countdown; elsewhere a line saying what happened."""
    from_queue = request.POST.get("next", "").split("?")[0] == reverse("leads:queue")
    if from_queue and lead.stage == Stage.MQL and lead.owner_id == request.user.pk:
        row = access.visible_leads(request.user).select_related("sla_policy__business_hours").get(pk=lead.pk)
        return HttpResponse(_queue_rows(request, [row], now=timezone.now(), restored=True))
    return render(request, "leads/_row_done.html", {"lead": lead, "message": message})


def _gone(request, pk):
    """An action on a lead the user no longer sees (reassigned away, or never theirs): a line saying so, not a 404 page."""
    # Only a reassignment away from this very user is named: it tells them nothing they did not see.
    moved = (
        LeadEvent.objects.filter(lead_id=pk, kind=EventKind.REASSIGNED, payload__from_owner=request.user.pk)
        .select_related("actor", "owner")
        .order_by("-at", "-id")
        .first()
    )
    if moved is not None:
        values = {
            "who": _person(moved.actor),
            "owner": _person(moved.owner),
            "time": date_format(timezone.localtime(moved.at), "TIME_FORMAT"),
        }
        if moved.actor:
            message = gettext(
                "%(who)s reassigned this lead to %(owner)s at %(time)s: it is no longer yours. Nothing was changed."
            )
        else:
            message = gettext(
                "Routing reassigned this lead to %(owner)s at %(time)s: it is no longer yours. Nothing was changed."
            )
        message = message % values
    else:
        message = gettext("This lead is no longer available to you: it was reassigned or removed. Nothing was changed.")
    if not request.htmx:
        target = request.POST.get("next", "")
        # Not back to the lead's own page: it is gone for this user too.
        own_page = target.startswith(reverse("leads:detail", args=[pk]))
        if own_page or not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = reverse("leads:home")
        return render(request, "leads/lead_gone.html", {"message": message, "back": target}, status=404)
    response = render(request, "leads/_row_gone.html", {"pk": pk, "message": message}, status=404)
    return reswap(retarget(response, f"#lead-{pk}"), "outerHTML")


def _refused(request, lead, message, *, status):
    if not request.htmx:
        messages.error(request, message)
        return _redirect_back(request, lead)
    response = render(request, "leads/_action_error.html", {"message": message}, status=status)
    return reswap(retarget(response, f"#lead-{lead.pk}-error"), "innerHTML")


def _live_rows():
    """What a list needs to keep its rows true: where the history stood when it was drawn, and how often to ask."""
    return {"live_cursor": live.cursor(), "live_interval": LIVE_INTERVAL_MS}


def _safe_next(request, default):
    """The page to go back to: ``next`` if it is a URL of this site, else ``default`` (a URL, never a URL name)."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _redirect_back(request, lead):
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = lead.get_absolute_url()
    return redirect(target)


def _reassigned_row(request, lead, message):
    """The row again, as the list it was reassigned from shows it; a lead no longer breached leaves the breached list."""
    now = timezone.now()
    leads = access.visible_leads(request.user).select_related("owner", "team", "sla_policy__business_hours")
    from_breached_list = request.POST.get("list") == "breached"
    if from_breached_list:
        leads = leads.breached(now)
    row = leads.filter(pk=lead.pk).first()
    if row is None:
        if lead.is_awaiting_response:
            restarted = gettext("Its SLA clock restarted for the new owner.")
            message = f"{message} {restarted}"
        return render(request, "leads/_row_done.html", {"lead": lead, "message": message})
    _attach_rep_choices([row])
    sla.SlaClocks(now).attach([row])
    template = "leads/_breached_row.html" if from_breached_list else "leads/_team_row.html"
    return render(request, template, {"lead": row, "message": message})


def _accepted_row(request, lead, message):
    lead = _with_last_activity(access.visible_leads(request.user)).get(pk=lead.pk)
    context = {
        "lead": lead,
        "message": message,
        "reasons": _active_reasons(),
        "activity_kinds": SALES_ACTIVITY_CHOICES,
    }
    return render(request, "leads/_accepted_row.html", context)


def _paginate(request, leads, *, param="page"):
    """The page of ``leads`` that ``?<param>=`` asks for, counted in SQL; a bad number gets page 1, one too large the last.

    Its ``previous_url`` and ``next_url`` keep the other query parameters: the
    filters, and the other list's page where a page shows two lists.
    """
    page = Paginator(leads, LIST_PAGE_SIZE).get_page(request.GET.get(param))
    # Read once: the views attach clocks and reassign choices to these very rows.
    page.object_list = list(page.object_list)
    page.previous_url = _page_url(request, param, page.previous_page_number()) if page.has_previous() else ""
    page.next_url = _page_url(request, param, page.next_page_number()) if page.has_next() else ""
    return page


def _page_url(request, param, number):
    query = request.GET.copy()
    query[param] = number
    return f"?{query.urlencode()}"


def _with(query, **values):
    query = query.copy()
    for name, value in values.items():
        query[name] = value
    return query.urlencode()


def _first_error(form):
    return next(iter(form.errors.values()))[0]


def _person(user):
    return (user.get_full_name() or user.get_username()) if user else gettext("nobody")


def _possessive(user, me):
    """ "your" for the user themself, else "Rita Reyes'" / "Mona's": whose list a lead went to."""
    if user is None:
        return pgettext("whose list", "nobody's")
    if user.pk == me.pk:
        return pgettext("whose list", "your")
    name = _person(user)
    if name.endswith("s"):
        return pgettext("whose list", "%(name)s'") % {"name": name}
    return pgettext("whose list", "%(name)s's") % {"name": name}


def _active_reasons():
    return list(RejectionReason.objects.filter(is_active=True))


def _with_last_activity(leads):
    # Subqueries rather than a join and GROUP BY: the database works them out for
    # the page's rows only, and counting the list stays a plain COUNT.
    sales = Activity.objects.filter(lead=OuterRef("pk"), kind__in=SALES_ACTIVITY_KINDS).order_by()
    return leads.annotate(
        last_activity_at=Subquery(sales.order_by("-occurred_at").values("occurred_at")[:1]),
        activity_count=Coalesce(Subquery(sales.values("lead").annotate(count=Count("pk")).values("count")), 0),
    )


def _with_rejection_note(leads):
    # The note and kind of the event that put the lead in "rejected", read in the same query.
    last = LeadEvent.objects.filter(
        lead=OuterRef("pk"), kind__in=[EventKind.REJECTED, EventKind.DISQUALIFIED]
    ).order_by("-at", "-id")
    return leads.annotate(
        rejection_note=Subquery(last.values("note")[:1]),
        rejection_kind=Subquery(last.values("kind")[:1]),
    )


def _attach_rep_choices(leads):
    """Give each lead the active reps of its team for the reassign select, in one query for all rows."""
    members = (
        TeamMember.objects.filter(
            team_id__in={lead.team_id for lead in leads}, role=TeamMember.Role.REP, user__is_active=True
        )
        .select_related("user")
        .order_by("user__first_name", "user__username")
    )
    reps = defaultdict(list)
    for member in members:
        reps[member.team_id].append(member.user)
    for lead in leads:
        lead.rep_choices = reps[lead.team_id]
    return leads
