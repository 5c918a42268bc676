"""/coverage/: which sources of facts have data for the viewer's book."""

from django.urls import path

from accounts import views

app_name = "coverage"

urlpatterns = [
    path("", views.coverage_page, name="index"),
    path("export.csv", views.coverage_csv, name="csv"),
]
