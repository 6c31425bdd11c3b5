from django.urls import path, register_converter

from polls import settings_views, views
from polls.converters import MeetingIdConverter

register_converter(MeetingIdConverter, "meeting_id")

urlpatterns = [
    path("meetings/", views.meeting_list, name="meeting_list"),
    path("meetings/<meeting_id:meeting_id>/", views.meeting_detail, name="meeting_detail"),
    path("meetings/<meeting_id:meeting_id>/badge/", views.meeting_badge, name="meeting_badge"),
    path("meetings/<meeting_id:meeting_id>/polls/", views.launch, name="launch_poll"),
    path("polls/<int:pk>/", views.poll_detail, name="poll_detail"),
    path("settings/connection/", settings_views.connection, name="connection_settings"),
    path("settings/members/", settings_views.members, name="members"),
    path("settings/members/<int:pk>/", settings_views.change_member, name="change_member"),
]
