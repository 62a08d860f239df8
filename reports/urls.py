from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    # "index" is the name the navigation has always used; "overview" is the same page.
    path("", views.overview, name="index"),
    path("", views.overview, name="overview"),
    path("ignore-rate/", views.ignore_rate, name="ignore_rate"),
    path("conversion/", views.conversion, name="conversion"),
    path("speed-to-lead/", views.speed_to_lead, name="speed_to_lead"),
    path("sla-compliance/", views.sla_compliance, name="sla_compliance"),
    path("rejection-reasons/", views.rejection_reasons, name="rejection_reasons"),
    path("conversation-rate/", views.conversation_rate, name="conversation_rate"),
    path("mql-target/", views.mql_target, name="mql_target"),
    path("waterfall/", views.waterfall, name="waterfall"),
    path("response-time-effect/", views.response_effect, name="response_effect"),
    path("leads/", views.leads, name="leads"),
    path("targets/", views.targets, name="targets"),
    path("digest/", views.digest, name="digest"),
]
