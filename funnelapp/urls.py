from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/reports/", include("reports.api.urls")),
    path("api/", include("leads.api.urls")),
    path("reports/", include("reports.urls")),
    path("marketing/", include("leads.scoring_urls")),
    path("audit/", include("audit.urls")),
    path("", include("django.contrib.auth.urls")),
    path("", include("leads.urls")),
]
