"""The segments page, mounted at its old address /signals/segments/ (csrisk/urls.py).

Its own namespace: the address predates the app, and ``signals`` imports nothing from
``insights``, so the page cannot sit in the ``signals:`` namespace."""

from django.urls import path

from insights import views

app_name = "insights"

urlpatterns = [path("", views.segments, name="segments")]
