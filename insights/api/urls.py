from django.urls import path

from insights.api import segments, summary, views

urlpatterns = [
    path("backtest/", views.BacktestView.as_view(), name="api-backtest"),
    path("summary/", summary.SummaryView.as_view(), name="api-summary"),
    path("summary/blind-spots/", summary.BlindSpotListView.as_view(), name="api-blind-spots"),
    path("summary/actions/", summary.ActionListView.as_view(), name="api-actions"),
    path("segments/", segments.SegmentsView.as_view(), name="api-segments"),
]
