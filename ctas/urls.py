from django.urls import path

from ctas import views

urlpatterns = [
    path("", views.cockpit, name="cockpit"),
    path("people/", views.people, name="cockpit-people"),
    path("accounts/<int:account_id>/open/", views.cta_open, name="cta-open"),
    path("ctas/<int:pk>/", views.cta_detail, name="cta-detail"),
    path("ctas/<int:pk>/flag/", views.flag, name="cta-flag"),
    path("ctas/<int:pk>/unflag/", views.unflag, name="cta-unflag"),
    path("ctas/<int:pk>/close/", views.close, name="cta-close"),
    path("ctas/<int:pk>/snooze/", views.snooze, name="cta-snooze"),
    path("ctas/<int:pk>/reassign/", views.reassign, name="cta-reassign"),
    path("ctas/<int:pk>/comment/", views.comment, name="cta-comment"),
    path("tasks/<int:pk>/done/", views.task_done, name="cta-task-done"),
]
