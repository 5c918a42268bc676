from django.urls import path

from escalation import views

app_name = "escalation"

urlpatterns = [
    path("", views.escalation_list, name="list"),
    path("live/", views.escalation_live, name="live"),
    path("<int:pk>/escalate/", views.escalate, name="escalate"),
    path("<int:pk>/de-escalate/", views.de_escalate, name="de-escalate"),
    path("<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<int:pk>/resolve/", views.resolve, name="resolve"),
    path("suggestions/<int:pk>/accept/", views.suggestion_accept, name="suggestion-accept"),
    path("suggestions/<int:pk>/dismiss/", views.suggestion_dismiss, name="suggestion-dismiss"),
    path("lane/<int:pk>/accept/", views.lane_accept, name="lane-accept"),
    path("lane/<int:pk>/dismiss/", views.lane_dismiss, name="lane-dismiss"),
    path("meetings/", views.meeting_list, name="meetings"),
    path("meetings/<slug:slug>/", views.agenda, name="agenda"),
    path("meetings/<slug:slug>/review/", views.agenda_review, name="agenda-review"),
]
