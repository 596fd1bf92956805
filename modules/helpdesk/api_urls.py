from django.urls import path

from . import api

urlpatterns = [
    path("requests/", api.RequestListApi.as_view(), name="api-helpdesk-requests"),
    path("requests/board/", api.BoardApi.as_view(), name="api-helpdesk-board"),
    path("requests/<uuid:request_id>/", api.RequestDetailApi.as_view(), name="api-helpdesk-request"),
    path("requests/<uuid:request_id>/dispatch/", api.RequestDispatchApi.as_view(), name="api-helpdesk-dispatch"),
    path("requests/<uuid:request_id>/take/", api.RequestTakeApi.as_view(), name="api-helpdesk-take"),
    path("requests/<uuid:request_id>/accept/", api.RequestAcceptApi.as_view(), name="api-helpdesk-accept"),
    path("requests/<uuid:request_id>/on-site/", api.RequestOnSiteApi.as_view(), name="api-helpdesk-on-site"),
    path("requests/<uuid:request_id>/wait/", api.RequestWaitApi.as_view(), name="api-helpdesk-wait"),
    path("requests/<uuid:request_id>/resume/", api.RequestResumeApi.as_view(), name="api-helpdesk-resume"),
    path("requests/<uuid:request_id>/notes/", api.RequestNoteApi.as_view(), name="api-helpdesk-notes"),
    path("requests/<uuid:request_id>/photos/", api.RequestPhotoApi.as_view(), name="api-helpdesk-photos"),
    path("requests/<uuid:request_id>/materials/", api.RequestMaterialApi.as_view(), name="api-helpdesk-materials"),
    path("requests/<uuid:request_id>/complete/", api.RequestCompleteApi.as_view(), name="api-helpdesk-complete"),
    path("requests/<uuid:request_id>/close/", api.RequestCloseApi.as_view(), name="api-helpdesk-close"),
    path("requests/<uuid:request_id>/visits/", api.RequestVisitApi.as_view(), name="api-helpdesk-visits"),
    path("photos/<uuid:photo_id>/", api.PhotoApi.as_view(), name="api-helpdesk-photo"),
    path("reception/", api.ReceptionApi.as_view(), name="api-helpdesk-reception"),
    path("duty-log/", api.DutyLogApi.as_view(), name="api-helpdesk-duty-log"),
    path("duty-log/<uuid:entry_id>/check/", api.DutyLogCheckApi.as_view(), name="api-helpdesk-duty-log-check"),
    path("daily-check/", api.DailyCheckApi.as_view(), name="api-helpdesk-daily-check"),
    path("deadlines/", api.DeadlineApi.as_view(), name="api-helpdesk-deadlines"),
    path("dispatch-modes/", api.DispatchModeApi.as_view(), name="api-helpdesk-dispatch-modes"),
    path("ratings/", api.RatingApi.as_view(), name="api-helpdesk-ratings"),
    path("reports/satisfaction/", api.SatisfactionApi.as_view(), name="api-helpdesk-satisfaction"),
    path("notifications/", api.NotificationListApi.as_view(), name="api-helpdesk-notifications"),
    path(
        "notifications/<uuid:notification_id>/read/",
        api.NotificationReadApi.as_view(),
        name="api-helpdesk-notification-read",
    ),
    path("my/requests/", api.MyRequestListApi.as_view(), name="api-helpdesk-my-requests"),
    path("my/requests/<uuid:request_id>/", api.MyRequestDetailApi.as_view(), name="api-helpdesk-my-request"),
    path("my/requests/<uuid:request_id>/visit/", api.MyRequestVisitApi.as_view(), name="api-helpdesk-my-visit"),
]
