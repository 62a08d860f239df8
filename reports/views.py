"""Report pages: an overview, one page per metric, the leads behind every number, and the monthly targets.

Every page reads its period and filters through ``ReportForm`` (scoped by role:
reps see their own numbers, managers their teams', marketers and admins all),
asks ``reports.pages`` to build the page from ``reports.metrics`` and only
renders it: the big numbers, the formula, a chart (drawn by static/js/reports.js
from a JSON blob), and tables that are the chart's text alternative and export
as CSV (``?format=csv``). Each number links to ``reports:leads``, which lists the
episodes ``metrics.drill_down`` returns for it, so a number and its list always
agree.
"""

import csv

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from leads import access
from leads.models import RejectionReason, Team, TeamMember
from leads.templatetags.leads_ui import translated
from leads.views import role_required

from . import metrics
from .forms import DrillDownForm, ReportForm, TargetMonthsForm, TargetsForm, person_label
from .metrics import Ratio
from .models import DigestOptOut, MonthlyTarget
from .pages import BUILDERS, REPORTS, REPORTS_BY_SLUG, build_overview

LEADS_PAGE_SIZE = 50


def _context(form, **extra):
    # The breakdown chosen carries over to the other reports and to the CSV of its table.
    query = form.query(by=form.cleaned_data.get("by") or None) if form.is_valid() else ""
    return {"form": form, "nav": REPORTS, "filter_query": query, **extra}


def _report_page(request, slug, **build_options):
    form = ReportForm(request.GET, user=request.user)
    info = REPORTS_BY_SLUG[slug]
    if not form.is_valid():
        return render(request, "reports/report_detail.html", _context(form, info=info), status=400)
    report = BUILDERS[slug](form, form.selected_as_of or timezone.now(), **build_options)
    if request.GET.get("format") == "csv":
        return _table_csv(request, report, form)
    return render(request, "reports/report_detail.html", _context(form, info=info, report=report))


@role_required(*access.ROLES)
def ignore_rate(request):
    return _report_page(request, "ignore_rate")


@role_required(*access.ROLES)
def conversion(request):
    return _report_page(request, "conversion")


@role_required(*access.ROLES)
def speed_to_lead(request):
    return _report_page(request, "speed_to_lead")


@role_required(*access.ROLES)
def sla_compliance(request):
    return _report_page(request, "sla_compliance")


@role_required(*access.ROLES)
def rejection_reasons(request):
    # The rejection review: ?reason=<code> narrows the notes to one reason.
    reason = request.GET.get("reason", "")
    return _report_page(request, "rejection_reasons", reason=reason if reason.isascii() and len(reason) <= 50 else "")


@role_required(*access.ROLES)
def conversation_rate(request):
    return _report_page(request, "conversation_rate")


@role_required(*access.ROLES)
def mql_target(request):
    return _report_page(request, "mql_target")


@role_required(*access.ROLES)
def waterfall(request):
    return _report_page(request, "waterfall")


@role_required(*access.ROLES)
def response_effect(request):
    return _report_page(request, "response_effect")


@role_required(*access.ROLES)
def overview(request):
    form = ReportForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "reports/report_overview.html", _context(form, reports=REPORTS), status=400)
    page = build_overview(form, form.selected_as_of or timezone.now())
    if request.GET.get("format") == "csv":
        return _table_csv(request, page, form)
    context = _context(form, reports=[page.data[info.slug] for info in REPORTS], report=page, info=page.info)
    return render(request, "reports/report_overview.html", context)


@role_required(*access.ROLES)
def leads(request):
    form = DrillDownForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "reports/report_leads.html", _context(form), status=400)
    as_of = form.selected_as_of or timezone.now()
    title, rows, found = form.leads()
    if request.GET.get("format") == "csv":
        return _leads_csv(form, rows, found)
    page = Paginator(found, LEADS_PAGE_SIZE).get_page(request.GET.get("page"))
    info = REPORTS_BY_SLUG[form.cleaned_data["metric"]]
    report_link = f"{reverse(info.url_name)}?{form.query(metric=None, bucket=None, reason=None)}"
    if form.cleaned_data["metric"] == "rejection_reasons" and form.cleaned_data.get("reason"):
        code = form.cleaned_data["reason"]
        label = RejectionReason.objects.filter(code=code).values_list("label", flat=True).first()
        title = f"{title}: {translated(label) if label else code}"
    context = {
        **_context(form),
        "title": title,
        "rows": rows,
        "page": page,
        "as_of": as_of,
        "info": info,
        "report_link": report_link,
        "csv_link": f"?{form.query(format='csv')}",
    }
    return render(request, "reports/report_leads.html", context)


@role_required(access.MARKETER, access.ADMIN)
def targets(request):
    teams = list(Team.objects.filter(is_active=True))
    reps = {
        user.pk: user
        for user in get_user_model()
        .objects.filter(is_active=True, memberships__role=TeamMember.Role.REP)
        .distinct()
        .order_by("first_name", "last_name", "username")
    }
    choice = TargetMonthsForm(
        request.GET or None, teams=teams, reps=[(pk, person_label(user)) for pk, user in reps.items()]
    )
    today = timezone.localdate()
    months = choice.months(today)
    valid = choice.is_bound and choice.is_valid()
    team = next((t for t in teams if valid and t.pk == choice.cleaned_data.get("team")), None)
    rep = reps.get(choice.cleaned_data.get("rep")) if valid else None
    scope = person_label(rep) if rep else (team or gettext("all teams"))
    current = dict(
        MonthlyTarget.objects.filter(month__in=months, team=team, rep=rep).values_list("month", "mql_target")
    )
    form = TargetsForm(
        request.POST if request.method == "POST" else None, months=months, team=team, rep=rep, current=current
    )
    if request.method == "POST" and choice.is_bound and not valid:
        return render(
            request,
            "reports/target_list.html",
            {"choice": choice, "form": form, "year": months[0].year, "today": today},
            status=400,
        )
    if request.method == "POST":
        if form.is_valid():
            form.save(by=request.user)
            messages.success(
                request,
                gettext("Saved the MQL targets for %(year)s (%(scope)s).") % {"year": months[0].year, "scope": scope},
            )
            return redirect(request.get_full_path())
        messages.error(request, gettext("Some targets were not saved: fix the marked months."))
    status = 400 if form.is_bound and not form.is_valid() else 200
    context = {"choice": choice, "form": form, "team": team, "rep": rep, "year": months[0].year, "today": today}
    return render(request, "reports/target_list.html", context, status=status)


@role_required(*access.ROLES)
def digest(request):
    """The weekly digest e-mail: opt out or back in (POST), or see which it is."""
    if request.method == "POST":
        if request.POST.get("digest") == "off":
            DigestOptOut.objects.get_or_create(user=request.user)
            messages.success(request, gettext("You will get no more weekly digests."))
        else:
            DigestOptOut.objects.filter(user=request.user).delete()
            messages.success(request, gettext("You will get the weekly digest on Monday mornings."))
        return redirect("reports:digest")
    opted_out = DigestOptOut.objects.filter(user=request.user).exists()
    return render(request, "reports/digest_settings.html", {"opted_out": opted_out})


# CSV


class _Echo:
    def write(self, value):
        return value


def _safe(value):
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_value(item):
    if item.kind == "percent":
        value = item.value.percent if isinstance(item.value, Ratio) else item.value
        return "" if value is None else f"{value:.2f}"
    if item.kind == "duration":
        return "" if item.value is None else f"{item.value.total_seconds():.0f}"
    if item.kind in ("month", "week"):
        return item.value.isoformat()
    if item.kind == "target":
        return "" if item.value is None else f"{item.value:.2f}"
    return _safe(item.value)


def _filename(*parts):
    return slugify("-".join(str(part) for part in parts)) + ".csv"


def _table_csv(request, report, form):
    wanted = request.GET.get("table") or report.tables[0].slug
    table = next((t for t in report.tables if t.slug == wanted), None)
    if table is None:
        choices = ", ".join(t.slug for t in report.tables)
        return HttpResponse(
            gettext("Unknown table %(table)s; choose one of %(choices)s.")
            % {"table": repr(wanted), "choices": choices},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = _filename("funnel", report.info.slug, table.slug, form.period.start, form.period.end)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    units = {"duration": gettext(" (seconds)"), "percent": " (%)"}
    column_kinds = [{row[index].kind for row in table.rows} for index in range(len(table.headers))]
    writer.writerow(
        [
            _safe(header) + (units.get(next(iter(kinds)), "") if len(kinds) == 1 else "")
            for header, kinds in zip(table.headers, column_kinds, strict=True)
        ]
    )
    for row in table.rows:
        writer.writerow([_csv_value(item) for item in row])
    return response


EPISODE_CSV_HEADERS = (
    "lead_id", "name", "company", "email", "owner", "team", "source", "campaign", "mql_at", "due_at",
    "first_follow_up_at", "accepted_at", "qualified_at", "rejected_at", "outcome", "rejection_reason", "rejection_note",
)  # fmt: skip
LEAD_CSV_HEADERS = (
    "lead_id",
    "name",
    "company",
    "email",
    "owner",
    "source",
    "campaign",
    "first_contact_at",
    "had_conversation",
)


def _person(user):
    return (user.get_full_name() or user.get_username()) if user else ""


def _iso(moment):
    return moment.isoformat() if moment else ""


def _details(lead, visible):
    """Name, company and e-mail of a row's lead; blank for a lead the user no longer sees (the row's facts stay)."""
    return (lead.name, lead.company, lead.email) if visible else ("", "", "")


def _leads_csv(form, rows, found):
    def lines():
        writer = csv.writer(_Echo())
        if rows == metrics.EPISODE_ROWS:
            yield writer.writerow(EPISODE_CSV_HEADERS)
            for episode in found.iterator(chunk_size=2000):
                lead = episode.lead
                yield writer.writerow(
                    [
                        lead.pk,
                        *(_safe(v) for v in (*_details(lead, episode.lead_visible), _person(episode.owner))),
                        episode.team_id or "",
                        _safe(episode.source),
                        _safe(episode.campaign),
                        *(_iso(getattr(episode, name)) for name in EPISODE_CSV_HEADERS[8:14]),
                        metrics.Outcome(episode.outcome).label,
                        episode.rejection_reason.code if episode.rejection_reason else "",
                        _safe(episode.rejection_note),
                    ]
                )
        else:
            yield writer.writerow(LEAD_CSV_HEADERS)
            for lead in found.iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        lead.pk,
                        *(_safe(v) for v in (*_details(lead, lead.lead_visible), _person(lead.owner))),
                        _safe(lead.source),
                        _safe(lead.campaign),
                        _iso(lead.first_contact),
                        "yes" if lead.had_conversation else "no",
                    ]
                )

    data = form.cleaned_data
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    name = _filename(
        "funnel", data["metric"], data["bucket"], data.get("reason") or "", form.period.start, form.period.end
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
