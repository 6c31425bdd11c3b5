from django.urls import path, register_converter

from polls import live_views, settings_views, views
from polls.converters import MeetingIdConverter

register_converter(MeetingIdConverter, "meeting_id")

urlpatterns = [
    path("meetings/", views.meeting_list, name="meeting_list"),
    path("meetings/<meeting_id:meeting_id>/", views.meeting_detail, name="meeting_detail"),
    path("meetings/<meeting_id:meeting_id>/badge/", views.meeting_badge, name="meeting_badge"),
    path("meetings/<meeting_id:meeting_id>/polls/", views.launch, name="launch_poll"),
    path(
        "meetings/<meeting_id:meeting_id>/observer/",
        live_views.observer_token,
        name="observer_token",
    ),
    path("meetings/<meeting_id:meeting_id>/polls/sync", live_views.sync, name="sync_polls"),
    path(
        "meetings/<meeting_id:meeting_id>/polls/live/",
        live_views.meeting_polls,
        name="meeting_polls",
    ),
    path("polls/<int:pk>/", views.poll_detail, name="poll_detail"),
    path("polls/<int:pk>/results/", live_views.poll_results, name="poll_results"),
    path("polls/<int:pk>/voters/", live_views.poll_voters, name="poll_voters"),
    path("polls/<int:pk>/export.csv", live_views.export_csv, name="poll_export_csv"),
    path("polls/<int:pk>/export.json", live_views.export_json, name="poll_export_json"),
    path("settings/connection/", settings_views.connection, name="connection_settings"),
    path("settings/members/", settings_views.members, name="members"),
    path("settings/members/<int:pk>/", settings_views.change_member, name="change_member"),
]
