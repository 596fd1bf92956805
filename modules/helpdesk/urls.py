from django.urls import path

from . import views

app_name = "helpdesk"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("board/", views.board, name="board"),
    path("daily/", views.daily, name="daily"),
    path("duty-log/", views.duty_log, name="duty_log"),
    path("requests/<uuid:request_id>/", views.request_detail, name="request_detail"),
    path("requests/<uuid:request_id>/<slug:action>/", views.request_action, name="request_action"),
    path("photos/<uuid:photo_id>/", views.photo, name="photo"),
    path("reception/", views.reception, name="reception"),
    path("satisfaction/", views.satisfaction, name="satisfaction"),
    path("ratings/", views.ratings, name="ratings"),
    path("notifications/", views.notifications, name="notifications"),
    path("settings/", views.settings_page, name="settings"),
    path("my/", views.my_requests, name="my_requests"),
    path("my/<uuid:request_id>/", views.my_request, name="my_request"),
]
