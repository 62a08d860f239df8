from django.urls import path

from . import scoring_views as views

app_name = "scoring"

urlpatterns = [
    path("scoring/", views.matrix, name="matrix"),
    path("scoring/rules/new/", views.rule_create, name="rule_create"),
    path("scoring/rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("scoring/rules/<int:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("scoring/rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("scoring/threshold/", views.threshold, name="threshold"),
    path("scoring/rescore/", views.rescore, name="rescore"),
    path("scoring/rescore/panel/", views.rescore_panel, name="rescore_panel"),
    path("scoring/rescore/<int:pk>/", views.rescore_status, name="rescore_status"),
    path("what-if/", views.what_if, name="what_if"),
    path("import/", views.import_leads, name="import"),
    path("import/header/", views.import_header, name="import_header"),
    path("import/<int:pk>/", views.import_job, name="import_job"),
    path("import/<int:pk>/status/", views.import_job_status, name="import_job_status"),
    path("import/<int:pk>/rows/", views.import_rows, name="import_rows"),
    path("import/<int:pk>/bad-rows.csv", views.import_errors, name="import_errors"),
]
