from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from . import accounts, activities, integrations, routing, views

app_name = "api"

router = SimpleRouter()
router.register("leads", views.LeadViewSet, basename="lead")
router.register("accounts", accounts.AccountViewSet, basename="account")
router.register("webhooks", integrations.WebhookSubscriptionViewSet, basename="webhook")
router.register(
    r"webhooks/(?P<subscription_pk>[0-9]+)/deliveries", integrations.WebhookDeliveryViewSet, basename="webhook-delivery"
)

urlpatterns = [
    *router.urls,
    path("rejection-reasons/", views.RejectionReasonList.as_view(), name="rejection-reasons"),
    path("auth/token/", views.ObtainToken.as_view(), name="token"),
    path("activities/", activities.ActivityIngest.as_view(), name="activities"),
    path("events/", integrations.EventFeed.as_view(), name="events"),
    path("routing-fairness/", routing.RoutingFairness.as_view(), name="routing-fairness"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file of its own (?script): the CSP allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", views.RedocView.as_view(url_name="api:schema"), name="redoc"),
    # [\s\S]: also paths with a newline, which "." would leave to the HTML 404.
    re_path(r"^(?P<path>[\s\S]*)$", views.not_found, name="not-found"),
]
