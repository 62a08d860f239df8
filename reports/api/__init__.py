"""The reports API: the JSON twin of every report page, under /api/reports/.

Each endpoint reads the same query parameters as its page through ``ReportForm``
(scoped by role the same way), asks ``reports.metrics`` for the numbers and
returns them with their formula, the period and filters as read, and a
``leads_url`` per number: ``/api/reports/leads/`` with the same parameters lists
the leads behind it. Bad parameters answer 400 with a message per field.
Durations are in seconds (a float, null when there is nothing to measure);
percentages are null when the denominator is zero.

Mounted by ``path("api/reports/", include("reports.api.urls"))`` ahead of ``api/``.
``views`` answers, ``serializers`` documents the answers' shapes, ``schema`` the
query parameters and errors shared by every endpoint.
"""
