"""Marketing pages: the scoring matrix, the threshold what-if and the CSV import.

Marketers and admins only. Each page turns input into one call into
``leads.scoring`` or ``leads.imports`` and arranges the answer; the background
work (rescoring every lead, importing a file) runs in Celery and the pages poll
a small status partial once a second until it is finished.
"""

from django.contrib import messages
from django.db.models import Count, Max
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from reports import metrics

from . import access, imports, scoring
from .models import ImportJob, ImportRowFate, Lead, LeadRuleScore, ScoringConfig, ScoringRule, ScoringRun
from .scoring_forms import ImportUploadForm, ScoringRuleForm, ThresholdForm, WhatIfForm
from .templatetags.leads_ui import time_ago
from .views import role_required

Category = ScoringRule.Category
Operator = ScoringRule.Operator

RECENT_RUNS = 5
RECENT_IMPORTS = 20
SHOWN_ROW_ERRORS = 100
ROWS_PER_PAGE = 100
# How the leads a candidate threshold would have picked fared, best first, in words.
OUTCOME_LABELS = {**dict(metrics.Outcome.choices), scoring.NEVER_AN_MQL: gettext_lazy("Never handed to sales")}

# The matrix's two tables, in this order.
RULE_GROUPS = (
    (
        Category.BEHAVIOUR,
        gettext_lazy("Behaviour"),
        gettext_lazy("What leads do: each matching activity counts."),
        gettext_lazy("No behaviour rules yet."),
    ),
    (
        Category.DEMOGRAPHIC,
        gettext_lazy("Demographic"),
        gettext_lazy("Who leads are: each rule counts once per lead."),
        gettext_lazy("No demographic rules yet."),
    ),
)

marketing_only = role_required(access.MARKETER, access.ADMIN)


def describe_rule(rule):
    """The rule's condition in plain words: "Website visit with URL containing /pricing"."""
    if rule.category == Category.BEHAVIOUR:
        text = str(rule.get_activity_kind_display())
        if rule.url_contains:
            return gettext("%(activity)s with URL containing %(url)s") % {"activity": text, "url": rule.url_contains}
        return text
    words = {"field": rule.get_field_display(), "value": rule.value}
    if rule.operator == Operator.FREE_MAIL:
        return gettext("E-mail domain is a free-mail provider")
    if rule.operator == Operator.BETWEEN:
        low, high = rule.min_value, rule.max_value
        words.update(low=low, high=high)
        if low is not None and high is not None:
            return gettext("%(field)s between %(low)s and %(high)s") % words
        if low is not None:
            return gettext("%(field)s at least %(low)s") % words
        return gettext("%(field)s at most %(high)s") % words
    if rule.operator == Operator.ONE_OF:
        return gettext("%(field)s is one of %(value)s") % words
    if rule.operator == Operator.CONTAINS:
        return gettext("%(field)s contains %(value)s") % words
    if rule.operator == Operator.CONTAINS_ANY:
        return gettext("%(field)s contains any of %(value)s") % words
    return gettext("%(field)s is %(value)s") % words


# ---------- scoring matrix ----------


@marketing_only
def matrix(request):
    return render(request, "scoring/scoring_matrix.html", _matrix_context())


@marketing_only
def rule_create(request):
    return _rule_form(request, ScoringRule(), gettext_lazy("Saved the new rule “%(name)s”."))


@marketing_only
def rule_edit(request, pk):
    return _rule_form(request, get_object_or_404(ScoringRule, pk=pk), gettext_lazy("Saved your changes to “%(name)s”."))


def _rule_form(request, rule, message):
    category = request.GET.get("category")
    initial = {"category": category if category in Category.values else Category.BEHAVIOUR}
    context = {"rule": rule, "saved_name": rule.name}
    if request.method == "POST":
        form = ScoringRuleForm(request.POST, instance=rule)
        if form.is_valid():
            rule = form.save(commit=False)
            rule.updated_at = timezone.now()
            rule.save()
            text = str(message) % {"name": rule.name} + " " + gettext("Rescore all leads to apply it.")
            messages.success(request, text)
            return redirect(f"{reverse('scoring:matrix')}#rule-{rule.pk}")
        return render(request, "scoring/rule_form.html", {**context, "form": form}, status=400)
    form = ScoringRuleForm(instance=rule, initial=None if rule.pk else initial)
    return render(request, "scoring/rule_form.html", {**context, "form": form})


@marketing_only
@require_POST
def rule_toggle(request, pk):
    rule = get_object_or_404(ScoringRule, pk=pk)
    rule.is_active = not rule.is_active
    rule.updated_at = timezone.now()
    rule.save(update_fields=["is_active", "updated_at"])
    if rule.is_active:
        message = gettext("Turned “%(name)s” on. Rescore all leads to apply it.") % {"name": rule.name}
    else:
        message = gettext("Turned “%(name)s” off. Rescore all leads to apply it.") % {"name": rule.name}
    if not request.htmx:
        messages.success(request, message)
        return redirect(f"{reverse('scoring:matrix')}#rule-{rule.pk}")
    rule.condition = describe_rule(rule)
    response = render(request, "scoring/_rule_row.html", {"rule": rule, "message": message})
    # The rescore panel listens for this and reloads itself to show that changes are pending.
    return trigger_client_event(response, "scoring-changed")


@marketing_only
def rule_delete(request, pk):
    rule = get_object_or_404(ScoringRule, pk=pk)
    scored = LeadRuleScore.objects.filter(rule=rule, matches__gt=0).count()
    if request.method != "POST":
        rule.condition = describe_rule(rule)
        return render(request, "scoring/rule_confirm_delete.html", {"rule": rule, "scored": scored})
    name = rule.name
    rule.delete()
    if scored:
        # The rule's shares of those scores are gone with it: rescore so the scores match their explanations.
        scoring.start_rescore(by=request.user)
        messages.success(
            request, gettext("Deleted “%(name)s”; rescoring all leads to take its points away.") % {"name": name}
        )
    else:
        messages.success(
            request, gettext("Deleted “%(name)s”. It gave no lead any points, so no score changes.") % {"name": name}
        )
    return redirect("scoring:matrix")


@marketing_only
@require_POST
def threshold(request):
    config = ScoringConfig.current()
    form = ThresholdForm(request.POST, instance=config)
    if not form.is_valid():
        return render(request, "scoring/scoring_matrix.html", _matrix_context(threshold_form=form), status=400)
    config = form.save(commit=False)
    config.updated_at = timezone.now()
    config.updated_by = request.user
    config.save()
    messages.success(
        request,
        gettext("The MQL threshold is now %(threshold)s. Rescore all leads to apply it.")
        % {"threshold": config.mql_threshold},
    )
    return redirect("scoring:matrix")


@marketing_only
@require_POST
def rescore(request):
    scoring.start_rescore(by=request.user)
    if not request.htmx:
        messages.success(request, gettext("Rescoring all leads: follow the progress below."))
        return redirect(f"{reverse('scoring:matrix')}#rescore")
    return render(request, "scoring/_rescore_panel.html", _rescore_context(last_change=None))


@marketing_only
def rescore_panel(request):
    rules = ScoringRule.objects.aggregate(changed=Max("updated_at"), count=Count("id"))
    last_change = max(filter(None, [ScoringConfig.current().updated_at, rules["changed"]]))
    context = _rescore_context(last_change=last_change, has_rules=bool(rules["count"]))
    return render(request, "scoring/_rescore_panel.html", context)


@marketing_only
def rescore_status(request, pk):
    run = get_object_or_404(ScoringRun.objects.select_related("requested_by"), pk=pk)
    return render(request, "scoring/_rescore_status.html", {"run": run})


def _matrix_context(*, threshold_form=None):
    rules = list(ScoringRule.objects.order_by("category", "position", "id"))
    for rule in rules:
        rule.condition = describe_rule(rule)
    config = ScoringConfig.current()
    changes = [config.updated_at, *(rule.updated_at for rule in rules)]
    groups = [
        (category, title, help_text, empty, [rule for rule in rules if rule.category == category])
        for category, title, help_text, empty in RULE_GROUPS
    ]
    return {
        "groups": groups,
        "config": config,
        "config_changed_ago": time_ago(config.updated_at, depth=2) if config.updated_at else "",
        "threshold_form": threshold_form or ThresholdForm(instance=config),
        **_rescore_context(last_change=max(changes), has_rules=bool(rules)),
    }


def _rescore_context(*, last_change, has_rules=True):
    """The rescore panel: recent runs, and whether rules or threshold changed since the latest one started."""
    runs = list(ScoringRun.objects.select_related("requested_by")[:RECENT_RUNS])
    latest = runs[0] if runs else None
    if last_change is None:
        pending = False
    elif latest is None:
        # Before the first rescore, rules apply only to leads scored since they were added.
        pending = has_rules
    else:
        pending = last_change > latest.created_at
    return {"runs": runs, "latest_run": latest, "changes_pending": pending}


# ---------- what-if ----------


@marketing_only
def what_if(request):
    form = WhatIfForm(request.GET or None, initial={"threshold": scoring.threshold(), "weeks": 8})
    result, status = None, 200
    if form.is_bound:
        if form.is_valid():
            try:
                result = scoring.what_if(form.cleaned_data["threshold"], weeks=form.cleaned_data["weeks"])
            except scoring.ScoringError as error:
                form.add_error(None, str(error))
        if form.errors:
            status = 400
    report = _what_if_report(result, form.cleaned_data["weeks"]) if result else None
    context = {"form": form, "result": result, "report": report}
    return render(request, "scoring/what_if.html", context, status=status)


def _what_if_report(result, weeks):
    """Arrange a ``WhatIf`` for the page: per-week rows, chart data, the added and removed groups and rep load."""
    rows = [
        {
            "week_start": week.week_start,
            "actual": week.actual,
            "manual": week.manual,
            "current": week.current,
            "candidate": week.candidate,
            "difference": week.candidate - week.actual,
        }
        for week in result.weeks
    ]
    chart = {
        "labels": [date_format(week.week_start, "MONTH_DAY_FORMAT") for week in result.weeks],
        "series": [
            {"label": gettext("MQLs produced"), "data": [w.actual for w in result.weeks]},
            {
                "label": gettext("Candidate threshold %(threshold)s") % {"threshold": result.threshold},
                "data": [w.candidate for w in result.weeks],
            },
        ],
    }
    reps = len(result.rep_load)
    current_per_rep = result.actual_total / weeks / reps if reps else None
    load = [
        {
            "name": name,
            "candidate": per_week,
            "current": current_per_rep,
            "capacity": capacity,
            "over": capacity is not None and per_week is not None and per_week > capacity,
            "over_now": capacity is not None and current_per_rep is not None and current_per_rep > capacity,
        }
        for name, per_week, capacity in result.rep_load
    ]
    names = dict(
        Lead.objects.filter(pk__in={*result.added.lead_ids, *result.removed.lead_ids}).values_list("pk", "name")
    )
    return {
        "rows": rows,
        "chart": chart,
        "difference": result.candidate_total - result.actual_total,
        "candidate_per_week": result.candidate_total / weeks,
        "actual_per_week": result.actual_total / weeks,
        "baseline_matches": result.current_total == result.actual_total and not result.differences,
        "differences": [
            {"label": gettext(scoring.DIFFERENCE_LABELS[key]), "count": count}
            for key, count in sorted(result.differences.items())
        ],
        **_fared(result.outcomes, result.reasons, result.candidate_total),
        "groups": [
            {"key": "added", "title": gettext("Leads it adds"), **_group_report(result.added, names)},
            {"key": "removed", "title": gettext("Leads it removes"), **_group_report(result.removed, names)},
        ],
        "load": load,
        "over_capacity": sum(1 for row in load if row["over"]),
    }


def _fared(outcomes, reasons, total):
    rejected = sum(reasons.values())
    return {
        "outcomes": [
            {"label": str(text), "count": outcomes[outcome], "percent": _percent(outcomes[outcome], total)}
            for outcome, text in OUTCOME_LABELS.items()
            if outcomes.get(outcome)
        ],
        "reasons": [
            {"label": reason, "count": count, "percent": _percent(count, rejected)}
            for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
        ],
        "rejected": rejected,
    }


def _group_report(group, names):
    return {
        "count": group.count,
        **_fared(group.outcomes, group.reasons, group.count),
        "leads": [
            {"pk": pk, "name": names[pk] if pk in names else gettext("Lead %(number)s") % {"number": pk}}
            for pk in group.lead_ids
        ],
        "more": max(0, group.count - len(group.lead_ids)),
    }


def _percent(part, whole):
    return round(100 * part / whole) if whole else 0


# ---------- CSV import ----------


@marketing_only
def import_leads(request):
    form, status = ImportUploadForm(), 200
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                mapping = _posted_mapping(request.POST, upload)
                job = imports.start_import(upload, by=request.user, mapping=mapping)
            except imports.ImportRefused as error:
                form.add_error("file", error.message)
            else:
                messages.success(
                    request, gettext("Importing %(name)s: follow the progress below.") % {"name": job.original_name}
                )
                return redirect("scoring:import_job", pk=job.pk)
        status = 400
    jobs = ImportJob.objects.select_related("created_by")[:RECENT_IMPORTS]
    field_labels = [text for field, text in imports.MAPPING_CHOICES if field]
    context = {"form": form, "jobs": jobs, "field_labels": field_labels}
    return render(request, "scoring/import_upload.html", context, status=status)


def _posted_mapping(data, upload):
    """The ``map-<n>`` choices as {column: field}; None when the page sent none (no JavaScript: match by header).

    Column ``n`` is the file's own n-th header cell; ``imports.start_import`` checks
    the fields (known, not twice, an e-mail column among them).
    """
    if not any(key.startswith("map-") for key in data):
        return None
    header = imports.read_header(upload)
    mapping = {}
    for index, column in enumerate(header):
        if data.get(f"column-{index}", column) != column or f"map-{index}" not in data:
            raise imports.ImportRefused(
                gettext("The file's columns changed since you chose it: choose the file again.")
            )
        if data[f"map-{index}"]:
            mapping.setdefault(column, data[f"map-{index}"])
    if f"map-{len(header)}" in data:
        raise imports.ImportRefused(gettext("The file's columns changed since you chose it: choose the file again."))
    return mapping


@marketing_only
@require_POST
def import_header(request):
    """The mapping step: the columns of the file's first bytes, each with a lead field picked for it."""
    upload = request.FILES.get("file")
    if upload is None:
        return render(request, "scoring/_import_mapping.html", {"error": gettext("Choose a CSV file.")}, status=400)
    try:
        header = imports.read_header(upload)
    except imports.ImportRefused as error:
        return render(request, "scoring/_import_mapping.html", {"error": error.message}, status=400)
    suggested = imports.suggest_mapping(header)
    columns = [{"index": index, "name": name, "field": suggested.get(name, "")} for index, name in enumerate(header)]
    context = {"columns": columns, "choices": imports.MAPPING_CHOICES[1:], "has_email": "email" in suggested.values()}
    return render(request, "scoring/_import_mapping.html", context)


@marketing_only
def import_job(request, pk):
    return render(request, "scoring/import_job.html", _import_job_context(pk))


@marketing_only
def import_job_status(request, pk):
    return render(request, "scoring/_import_status.html", _import_job_context(pk))


def _import_job_context(pk):
    job = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=pk)
    finished = job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED)
    row_errors = list(job.row_errors.all()[:SHOWN_ROW_ERRORS]) if finished and job.failed_count else []
    return {"job": job, "finished": finished, "row_errors": row_errors, "shown_errors": SHOWN_ROW_ERRORS}


@marketing_only
def import_rows(request, pk):
    """Every row's fate in line order, a keyset page (``after`` a line) at a time, optionally of one fate."""
    job = get_object_or_404(ImportJob, pk=pk)
    fate = request.GET.get("fate", "")
    if fate not in ImportRowFate.Fate.values:
        fate = ""
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        after = 0
    rows = ImportRowFate.objects.filter(job=job, line__gt=min(after, 2**31 - 1)).order_by("line", "id")
    if fate:
        rows = rows.filter(fate=fate)
    page = list(rows[: ROWS_PER_PAGE + 1])
    context = {
        "job": job,
        "rows": page[:ROWS_PER_PAGE],
        "next_after": page[ROWS_PER_PAGE - 1].line if len(page) > ROWS_PER_PAGE else None,
        "fate": fate,
        "fates": ImportRowFate.Fate.choices,
        "after": after,
    }
    return render(request, "scoring/import_rows.html", context)


@marketing_only
def import_errors(request, pk):
    job = get_object_or_404(ImportJob, pk=pk)
    response = StreamingHttpResponse(imports.error_report_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-bad-rows.csv"'
    return response
