"""The executive summary and the signal backtest, mounted at /summary/ (the segments page
is in ``segment_urls``)."""

from django.urls import path

from insights import views

app_name = "summary"

urlpatterns = [
    path("", views.summary, name="index"),
    path("export.csv", views.summary_csv, name="csv"),
    path("actions/", views.summary_action, name="action"),
    path("backtest/", views.backtest_page, name="backtest"),
    path("backtest/run/", views.backtest_run, name="backtest-run"),
]
