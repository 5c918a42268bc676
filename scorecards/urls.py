from django.urls import path

from scorecards import views

app_name = "scorecards"

urlpatterns = [
    path("", views.review, name="review"),
    path("leadership/", views.leadership, name="leadership"),
    path("accounts/<int:pk>/override/", views.override_set, name="override-set"),
    path("accounts/<int:pk>/reasons/<str:area>/", views.area_reasons, name="reasons"),
    path("overrides/<int:pk>/clear/", views.override_clear, name="override-clear"),
]
