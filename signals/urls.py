from django.urls import path

from signals import views

app_name = "signals"

urlpatterns = [
    path("", views.feed, name="feed"),
    path("<int:pk>/", views.signal_detail, name="detail"),
    path("health/", views.health, name="health"),
    path("unmatched/", views.unmatched, name="unmatched"),
    path("unmatched/match/", views.match, name="match"),
    path("upload/", views.upload, name="upload"),
    path("upload/<int:pk>/", views.upload_detail, name="upload-detail"),
    path("upload/<int:pk>/commit/", views.upload_commit, name="upload-commit"),
]
