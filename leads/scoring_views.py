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
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from reports import metrics

from . import access, imports, scoring
from .models import ImportJob, ImportRowFate, Lead, LeadRuleScore, ScoringConfig, ScoringRule, ScoringRun
from .scoring_forms import ImportUploadForm, ScoringRuleForm, ThresholdForm, WhatIfForm
from .views import role_required

Category = ScoringRule.Category
Operator = ScoringRule.Operator

RECENT_RUNS = 5
RECENT_IMPORTS = 20
SHOWN_ROW_ERRORS = 100
ROWS_PER_PAGE = 100
# How the leads a candidate threshold would have picked fared, best first, in words.
OUTCOME_LABELS = {**dict(metrics.Outcome.choices), scoring.NEVER_AN_MQL: "Never handed to sales"}

# The matrix's two tables, in this order.
RULE_GROUPS = (
    (Category.BEHAVIOUR, "Behaviour", "What leads do: each matching activity counts."),
    (Category.DEMOGRAPHIC, "Demographic", "Who leads are: each rule counts once per lead."),
)

marketing_only = role_required(access.MARKETER, access.ADMIN)


def describe_rule(rule):
    """The rule's condition in plain words: "Website visit with URL containing /pricing"."""
    if rule.category == Category.BEHAVIOUR:
        text = rule.get_activity_kind_display()
        return f"{text} with URL containing {rule.url_contains}" if rule.url_contains else text
    field = rule.get_field_display()
    if rule.operator == Operator.FREE_MAIL:
        return "E-mail domain is a free-mail provider"
    if rule.operator == Operator.BETWEEN:
        low, high = rule.min_value, rule.max_value
        if low is not None and high is not None:
            return f"{field} between {low} and {high}"
        return f"{field} at least {low}" if low is not None else f"{field} at most {high}"
    if rule.operator == Operator.ONE_OF:
        return f"{field} is one of {rule.value}"
    if rule.operator == Operator.CONTAINS:
        return f"{field} contains {rule.value}"
    if rule.operator == Operator.CONTAINS_ANY:
        return f"{field} contains any of {rule.value}"
    return f"{field} is {rule.value}"


# ---------- scoring matrix ----------


@marketing_only
def matrix(request):
    return render(request, "scoring/scoring_matrix.html", _matrix_context())


@marketing_only
def rule_create(request):
    return _rule_form(request, ScoringRule(), "Saved the new rule “{name}”.")


@marketing_only
def rule_edit(request, pk):
    return _rule_form(request, get_object_or_404(ScoringRule, pk=pk), "Saved your changes to “{name}”.")


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
            messages.success(request, message.format(name=rule.name) + " Rescore all leads to apply it.")
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
    state = "on" if rule.is_active else "off"
    message = f"Turned “{rule.name}” {state}. Rescore all leads to apply it."
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
        messages.success(request, f"Deleted “{name}”; rescoring all leads to take its points away.")
    else:
        messages.success(request, f"Deleted “{name}”. It gave no lead any points, so no score changes.")
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
    messages.success(request, f"The MQL threshold is now {config.mql_threshold}. Rescore all leads to apply it.")
    return redirect("scoring:matrix")


@marketing_only
@require_POST
def rescore(request):
    scoring.start_rescore(by=request.user)
    if not request.htmx:
        messages.success(request, "Rescoring all leads: follow the progress below.")
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
        (category, label, help_text, [rule for rule in rules if rule.category == category])
        for category, label, help_text in RULE_GROUPS
    ]
    return {
        "groups": groups,
        "config": config,
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
        "labels": [f"{week.week_start:%b} {week.week_start.day}" for week in result.weeks],
        "series": [
            {"label": "MQLs produced", "data": [w.actual for w in result.weeks]},
            {"label": f"Candidate threshold {result.threshold}", "data": [w.candidate for w in result.weeks]},
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
            {"label": scoring.DIFFERENCE_LABELS[key], "count": count}
            for key, count in sorted(result.differences.items())
        ],
        **_fared(result.outcomes, result.reasons, result.candidate_total),
        "groups": [
            {"key": "added", "title": "Leads it adds", **_group_report(result.added, names)},
            {"key": "removed", "title": "Leads it removes", **_group_report(result.removed, names)},
        ],
        "load": load,
        "over_capacity": sum(1 for row in load if row["over"]),
    }


def _fared(outcomes, reasons, total):
    rejected = sum(reasons.values())
    return {
        "outcomes": [
            {"label": label, "count": outcomes[outcome], "percent": _percent(outcomes[outcome], total)}
            for outcome, label in OUTCOME_LABELS.items()
            if outcomes.get(outcome)
        ],
        "reasons": [
            {"label": label, "count": count, "percent": _percent(count, rejected)}
            for label, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
        ],
        "rejected": rejected,
    }


def _group_report(group, names):
    return {
        "count": group.count,
        **_fared(group.outcomes, group.reasons, group.count),
        "leads": [{"pk": pk, "name": names.get(pk, f"Lead {pk}")} for pk in group.lead_ids],
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
                messages.success(request, f"Importing {job.original_name}: follow the progress below.")
                return redirect("scoring:import_job", pk=job.pk)
        status = 400
    jobs = ImportJob.objects.select_related("created_by")[:RECENT_IMPORTS]
    field_labels = [label for field, label in imports.MAPPING_CHOICES if field]
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
            raise imports.ImportRefused("The file's columns changed since you chose it: choose the file again.")
        if data[f"map-{index}"]:
            mapping.setdefault(column, data[f"map-{index}"])
    if f"map-{len(header)}" in data:
        raise imports.ImportRefused("The file's columns changed since you chose it: choose the file again.")
    return mapping


@marketing_only
@require_POST
def import_header(request):
    """The mapping step: the columns of the file's first bytes, each with a lead field picked for it."""
    upload = request.FILES.get("file")
    if upload is None:
        return render(request, "scoring/_import_mapping.html", {"error": "Choose a CSV file."}, status=400)
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
