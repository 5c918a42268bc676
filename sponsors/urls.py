from django.urls import path

from sponsors import views

app_name = "sponsors"

urlpatterns = [
    path("", views.program, name="program"),
    path("accounts/<int:pk>/assign/", views.assign, name="assign"),
    path("accounts/<int:pk>/help/", views.ask_for_help, name="help"),
    path("sponsorships/<int:pk>/end/", views.end, name="end"),
    path("checkins/<int:pk>/log/", views.checkin_log, name="checkin-log"),
    path("checkins/<int:pk>/risks/<int:index>/open/", views.checkin_open_risk, name="open-risk"),
]
