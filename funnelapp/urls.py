from django.contrib import admin
from django.urls import include, path

from . import jsi18n

urlpatterns = [
    path("admin/", admin.site.urls),
    # funnel.js, reports.js and scoring.js read their strings in the page's language from here.
    path("jsi18n/<str:language>/<str:catalogue_version>.js", jsi18n.catalogue, name="javascript-catalog"),
    path("api/reports/", include("reports.api.urls")),
    path("api/", include("leads.api.urls")),
    path("reports/", include("reports.urls")),
    path("marketing/", include("leads.scoring_urls")),
    path("", include("django.contrib.auth.urls")),
    path("", include("leads.urls")),
]
