from django.urls import path

from insights.api import views

urlpatterns = [
    path("backtest/", views.BacktestView.as_view(), name="api-backtest"),
]
