from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.batch_list, name="batch_list"),
    path("new/", views.batch_new, name="batch_new"),
    path("<uuid:batch_id>/", views.batch_detail, name="batch_detail"),
    path("<uuid:batch_id>/progress/", views.batch_progress, name="batch_progress"),
    path("<uuid:batch_id>/undo/", views.batch_undo, name="batch_undo"),
]
