"""``GET /api/routing-fairness/``: the JSON twin of the routing fairness page (the same builder)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from leads.routing_views import fairness_for

from .views import documented


class RepFairnessSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    assigned = serializers.IntegerField(help_text="MQLs the round-robin gave this rep.")
    expected = serializers.FloatField(help_text="MQLs their weight promised, over the decisions whose pool held them.")
    difference = serializers.FloatField()
    by_account = serializers.IntegerField(help_text="MQLs they got as the rep of the lead's account.")


class FairnessSerializer(serializers.Serializer):
    team_id = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    decisions = serializers.IntegerField(help_text="Round-robin decisions in the period.")
    rows = RepFairnessSerializer(many=True)


class RoutingFairness(APIView):
    @extend_schema(
        summary="Routing fairness: each rep's round-robin MQLs against their weight's share (managers, admins)",
        parameters=[
            OpenApiParameter("team", OpenApiTypes.INT, description="Team id (default: your first team)."),
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="First day (default: 29 days ago)."),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="Last day (default: today)."),
        ],
        responses=documented({200: FairnessSerializer}, 400, 401, 403),
    )
    def get(self, request):
        form, report = fairness_for(request.user, request.query_params)
        if report is None:
            raise ValidationError({field: [str(e) for e in errors] for field, errors in form.errors.items()})
        return Response(FairnessSerializer(report).data)
