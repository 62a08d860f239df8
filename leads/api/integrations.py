"""The event feed and the webhook subscriptions (admins only) of the API."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from leads import access, feed, outbound, webhooks
from leads.models import EVENT_TYPES, WebhookDelivery, WebhookSubscription

from .views import LeadPagination, documented, page_size_error

# One serializer for the actor and the owner, so the schema names one component.
EventPerson = inline_serializer(
    "EventPerson",
    fields={"id": serializers.IntegerField(), "username": serializers.CharField(), "name": serializers.CharField()},
    allow_null=True,
)


# The feed item, for the schema (leads.feed.as_json builds it).
FEED_EVENT_FIELDS = {
    "id": serializers.IntegerField(),
    "type": serializers.ChoiceField(EVENT_TYPES),
    "kind": serializers.CharField(),
    "at": serializers.DateTimeField(),
    "lead": inline_serializer(
        "FeedLead",
        fields={
            "id": serializers.IntegerField(),
            "name": serializers.CharField(),
            "email": serializers.CharField(),
            "company": serializers.CharField(),
            "url": serializers.URLField(),
        },
    ),
    "actor": EventPerson,
    "via": serializers.CharField(help_text='Where the action came from ("slack"); empty for web and API.'),
    "from_stage": serializers.CharField(),
    "to_stage": serializers.CharField(),
    "owner": EventPerson,
    "reason": inline_serializer(
        "FeedReason", fields={"code": serializers.CharField(), "label": serializers.CharField()}, allow_null=True
    ),
    "note": serializers.CharField(),
    "payload": serializers.DictField(),
}
FeedPage = inline_serializer(
    "FeedPage",
    fields={
        "results": inline_serializer("FeedEvent", fields=FEED_EVENT_FIELDS, many=True),
        "next_cursor": serializers.CharField(
            allow_null=True,
            help_text="Pass as ?after= for the next page; the same cursor when nothing newer exists yet.",
        ),
        "next": serializers.URLField(allow_null=True),
    },
)


def _page_size(request):
    # Read by hand: a form-style serializer would take an empty ?page_size= for "not given".
    raw = request.query_params.get("page_size")
    if raw is None:
        return feed.DEFAULT_PAGE_SIZE
    if not raw.isdecimal() or not 1 <= int(raw) <= feed.MAX_PAGE_SIZE:
        raise ValidationError({"page_size": [page_size_error(feed.MAX_PAGE_SIZE)]})
    return int(raw)


class EventFeed(APIView):
    """The history of every lead you may see, oldest first, a page at a time."""

    @extend_schema(
        summary="The event feed: history in a stable order, a page at a time",
        parameters=[
            OpenApiParameter("after", OpenApiTypes.STR, description="The next_cursor of the previous page."),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": feed.MAX_PAGE_SIZE},
                description=f"Default {feed.DEFAULT_PAGE_SIZE}.",
            ),
        ],
        responses=documented({200: FeedPage}, 400, 401),
    )
    def get(self, request):
        size = _page_size(request)
        after = request.query_params.get("after") or None
        try:
            events, cursor = feed.page(request.user, after=after, size=size)
        except feed.InvalidCursor:
            message = gettext("This is not a cursor the event feed gave out; start without one.")
            raise ValidationError({"after": [message]}) from None
        next_url = None
        if cursor:
            params = request.query_params.copy()
            params["after"] = cursor
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        return Response({"results": [feed.as_json(event) for event in events], "next_cursor": cursor, "next": next_url})


class IsAdmin(permissions.BasePermission):
    message = gettext_lazy("Only admins may manage webhooks.")

    def has_permission(self, request, view):
        return access.has_role(request.user, access.ADMIN)


class SubscriptionSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(
        child=serializers.ChoiceField(EVENT_TYPES), allow_empty=False, max_length=len(EVENT_TYPES)
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "is_active",
            "created_at",
            "failing_since",
            "disabled_at",
            "disabled_reason",
        ]
        read_only_fields = ["created_at", "failing_since", "disabled_at", "disabled_reason"]

    def validate_url(self, value):
        try:
            outbound.check_url(value)
        except outbound.RefusedURL as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate_event_types(self, value):
        return sorted(set(value))

    def update(self, instance, validated_data):
        if validated_data.get("is_active") and not instance.is_active:
            # Switched back on: its failing clock starts again.
            validated_data.update(failing_since=None, disabled_at=None, disabled_reason="")
        return super().update(instance, validated_data)


class NewSubscriptionSerializer(SubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown this once: keep it to verify signatures.")

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


class AttemptSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField()
    response_excerpt = serializers.CharField()
    error = serializers.CharField()


class DeliverySerializer(serializers.ModelSerializer):
    webhook_id = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(["pending", "retrying", "delivered", "failed"], read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "event",
            "status",
            "attempts",
            "queued_at",
            "next_attempt_at",
            "delivered_at",
            "failed_at",
            "last_status",
            "last_error",
        ]
        read_only_fields = fields


class DeliveryDetailSerializer(DeliverySerializer):
    log = AttemptSerializer(many=True, read_only=True, help_text="Every attempt, newest first.")

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "log"]
        read_only_fields = fields


class ReplayRange(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    def validate(self, data):
        if data["end"] <= data["start"]:
            raise serializers.ValidationError({"end": [gettext("The end must be after the start.")]})
        return data


ADMIN_ERRORS = (400, 401, 403, 404)


@extend_schema_view(
    list=extend_schema(
        summary="Webhook subscriptions",
        responses=documented({200: SubscriptionSerializer(many=True)}, 400, 401, 403, 404),
    ),
    retrieve=extend_schema(
        summary="One webhook subscription", responses=documented({200: SubscriptionSerializer}, 401, 403, 404)
    ),
    create=extend_schema(
        summary="Subscribe a URL to event types; the answer carries the signing secret, once",
        responses=documented({201: NewSubscriptionSerializer}, 400, 401, 403),
    ),
    update=extend_schema(
        summary="Change a subscription", responses=documented({200: SubscriptionSerializer}, *ADMIN_ERRORS)
    ),
    partial_update=extend_schema(
        summary="Change a subscription (is_active: true switches it back on)",
        responses=documented({200: SubscriptionSerializer}, *ADMIN_ERRORS),
    ),
    destroy=extend_schema(
        summary="Delete a subscription and its delivery log", responses=documented({204: None}, 401, 403, 404)
    ),
)
class WebhookSubscriptionViewSet(viewsets.ModelViewSet):
    permission_classes = [permissions.IsAuthenticated, IsAdmin]
    serializer_class = SubscriptionSerializer
    pagination_class = LeadPagination
    filter_backends = []
    lookup_value_regex = "[0-9]+"
    queryset = WebhookSubscription.objects.order_by("id")

    def get_serializer_class(self):
        return NewSubscriptionSerializer if self.action == "create" else super().get_serializer_class()

    def perform_create(self, serializer):
        serializer.save(created_by=self.request.user)

    @extend_schema(
        summary="A subscription's deliveries, newest events first",
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=["pending", "delivered", "failed"])],
        responses=documented({200: DeliverySerializer(many=True)}, 400, 401, 403, 404),
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        # Newest events first, read backwards from the (subscription, event) unique index.
        deliveries = self.get_object().deliveries.order_by("-event_id")
        wanted = request.query_params.get("status")
        filters = {
            "pending": {"delivered_at__isnull": True, "failed_at__isnull": True},
            "delivered": {"delivered_at__isnull": False},
            "failed": {"failed_at__isnull": False},
        }
        if wanted is not None:
            if wanted not in filters:
                message = gettext("Choose one of %(choices)s.") % {"choices": ", ".join(filters)}
                raise ValidationError({"status": [message]})
            deliveries = deliveries.filter(**filters[wanted])
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Queue every event of the subscription's types in a time range again",
        request=ReplayRange,
        responses=documented(
            {202: inline_serializer("ReplayQueued", fields={"queued": serializers.IntegerField()})}, *ADMIN_ERRORS
        ),
    )
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        subscription = self.get_object()
        params = ReplayRange(data=request.data)
        params.is_valid(raise_exception=True)
        queued = webhooks.replay_range(subscription, **params.validated_data)
        return Response({"queued": queued}, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, IsAdmin]
    serializer_class = DeliveryDetailSerializer
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return WebhookDelivery.objects.filter(subscription_id=self.kwargs["subscription_pk"]).prefetch_related("log")

    @extend_schema(
        summary="One delivery and its attempts", responses=documented({200: DeliveryDetailSerializer}, 401, 403, 404)
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Send a delivery again (same webhook-id)",
        request=None,
        responses=documented({202: DeliverySerializer}, 401, 403, 404),
    )
    @action(detail=True, methods=["post"])
    def replay(self, request, subscription_pk=None, pk=None):
        delivery = get_object_or_404(self.get_queryset(), pk=pk)
        with transaction.atomic():
            delivery = webhooks.replay_delivery(delivery)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
