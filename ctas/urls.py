from django.urls import path

from ctas import views

# A namespace of its own: the API router names its CTA routes cta-detail, cta-flag, …
app_name = "cockpit"

# A CTA's actions sit below its own URL (ctas/<pk>/…): the cockpit row builds them from it.
urlpatterns = [
    path("", views.cockpit, name="index"),
    path("counters/", views.counters, name="counters"),
    path("people/", views.people, name="people"),
    path("queue/", views.area_queue, name="queue"),
    path("accounts/<int:account_id>/open/", views.cta_open, name="open"),
    path("ctas/<int:pk>/", views.cta_detail, name="cta"),
    path("ctas/<int:pk>/flag/", views.flag, name="flag"),
    path("ctas/<int:pk>/unflag/", views.unflag, name="unflag"),
    path("ctas/<int:pk>/close/", views.close, name="close"),
    path("ctas/<int:pk>/snooze/", views.snooze, name="snooze"),
    path("ctas/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("ctas/<int:pk>/comment/", views.comment, name="comment"),
    path("ctas/<int:pk>/work/", views.cta_work, name="work"),
    path("ctas/<int:pk>/form/", views.cta_form, name="form"),
    path("ctas/<int:pk>/tasks/", views.task_add, name="task-add"),
    path("tasks/<int:pk>/done/", views.task_done, name="task-done"),
    path("tasks/<int:pk>/reassign/", views.task_reassign, name="task-reassign"),
]
