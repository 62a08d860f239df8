"""Report pages. For now an index of the reports to come; every role may read it."""

from dataclasses import dataclass

from django.shortcuts import render

from leads import access
from leads.views import role_required


@dataclass(frozen=True)
class ReportInfo:
    title: str
    question: str
    formula: str


REPORTS = (
    ReportInfo(
        "Ignore rate",
        "Which MQLs did nobody answer although their SLA window has expired?",
        "MQLs never followed up after their window closed ÷ all MQLs of the period \u00d7 100",
    ),
    ReportInfo(
        "MQL → SQL conversion",
        "How many MQLs became sales-qualified opportunities (MQL efficiency)?",
        "SQLs ÷ MQLs \u00d7 100",
    ),
    ReportInfo("MQL → SAL acceptance", "How many MQLs did sales accept?", "SALs ÷ MQLs \u00d7 100"),
    ReportInfo(
        "Speed to lead",
        "How long from MQL to the first sales response, by rep?",
        "median, mean and p90 of first follow-up \u2212 MQL time; share within 1 hour",
    ),
    ReportInfo(
        "SLA compliance",
        "Of the MQLs whose window has closed, how many were answered in time?",
        "MQLs followed up within their window ÷ MQLs whose window has closed \u00d7 100",
    ),
    ReportInfo(
        "Rejection reasons",
        "Why does sales reject MQLs, by source and campaign, and how does it trend?",
        "rejected MQLs by reason code ÷ all rejected MQLs \u00d7 100",
    ),
    ReportInfo(
        "Conversation rate",
        "How many contacted leads turned into a real conversation, MQLs versus colder leads?",
        "leads with a logged conversation ÷ leads contacted \u00d7 100",
    ),
    ReportInfo(
        "MQL target", "Is marketing producing the MQLs it promised this month?", "MQLs per month vs the month's target"
    ),
)


@role_required(*access.ROLES)
def index(request):
    return render(request, "reports/report_index.html", {"reports": REPORTS})
