from django.urls import path

from . import views

app_name = "reports_api"

urlpatterns = [
    path("overview/", views.OverviewView.as_view(), name="overview"),
    path("ignore-rate/", views.IgnoreRateView.as_view(), name="ignore-rate"),
    path("conversion/", views.ConversionView.as_view(), name="conversion"),
    path("speed-to-lead/", views.SpeedToLeadView.as_view(), name="speed-to-lead"),
    path("sla-compliance/", views.SlaComplianceView.as_view(), name="sla-compliance"),
    path("rejection-reasons/", views.RejectionReasonsView.as_view(), name="rejection-reasons"),
    path("conversation-rate/", views.ConversationRateView.as_view(), name="conversation-rate"),
    path("mql-target/", views.MqlTargetView.as_view(), name="mql-target"),
    path("waterfall/", views.WaterfallView.as_view(), name="waterfall"),
    path("response-time-effect/", views.ResponseEffectView.as_view(), name="response-time-effect"),
    path("leads/", views.LeadsView.as_view(), name="leads"),
]
