from django.urls import path

from . import account_views, audit_views, integration_views, profile_views, routing_views, views

app_name = "leads"

urlpatterns = [
    path("", views.home, name="home"),
    path("queue/", views.queue, name="queue"),
    path("accepted/", views.accepted, name="accepted"),
    path("team/", views.team, name="team"),
    path("team/breached/", views.breached, name="breached"),
    path("team/routing-fairness/", routing_views.fairness_report, name="routing_fairness"),
    path("rejected/", views.rejected, name="rejected"),
    path("audit/", audit_views.audit_log, name="audit"),
    path("leads/", views.leads, name="list"),
    path("leads/export.csv", views.export_list, name="export_list"),
    path("leads/reassign/", views.bulk_reassign, name="bulk_reassign"),
    path("leads/changes/", views.changes, name="changes"),
    path("leads/views/", views.save_view, name="save_view"),
    path("leads/views/<int:pk>/delete/", views.delete_view, name="delete_view"),
    path("leads/<int:pk>/", views.detail, name="detail"),
    path("leads/<int:pk>/edit/", views.edit, name="edit"),
    path("leads/<int:pk>/accept/", views.accept, name="accept"),
    path("leads/<int:pk>/reject/", views.reject, name="reject"),
    path("leads/<int:pk>/qualify/", views.qualify, name="qualify"),
    path("leads/<int:pk>/disqualify/", views.disqualify, name="disqualify"),
    path("leads/<int:pk>/recycle/", views.recycle, name="recycle"),
    path("leads/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("leads/<int:pk>/activities/", views.log_activity, name="log_activity"),
    path("leads/<int:pk>/undo/", views.undo, name="undo"),
    path("leads/<int:pk>/promote/", views.promote, name="promote"),
    path("leads/<int:pk>/opt-out/", views.opt_out, name="opt_out"),
    path("leads/<int:pk>/erase/", views.erase, name="erase"),
    path("leads/<int:pk>/merge/", views.merge, name="merge"),
    path("leads/<int:pk>/unmerge/", views.unmerge, name="unmerge"),
    path("leads/<int:pk>/export/", views.export, name="export"),
    path("accounts/<int:pk>/", account_views.account_detail, name="account"),
    path("settings/out-of-office/", profile_views.out_of_office, name="out_of_office"),
    path("settings/out-of-office/<int:pk>/delete/", profile_views.out_of_office_delete, name="out_of_office_delete"),
    path("settings/notifications/", integration_views.notification_preferences, name="notification_preferences"),
    path("integrations/slack/interactivity/", integration_views.slack_interactivity, name="slack_interactivity"),
]
