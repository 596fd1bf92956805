from django.urls import path

from . import views

app_name = "fees"

urlpatterns = [
    path("", views.account_list, name="account_list"),
    path("accounts/<uuid:account_id>/", views.account_detail, name="account_detail"),
    path("accounts/<uuid:account_id>/<slug:action>/", views.account_action, name="account_action"),
    path("payments/<uuid:payment_id>/", views.receipt, name="receipt"),
    path("payments/<uuid:payment_id>/pdf/", views.receipt_pdf, name="receipt_pdf"),
    path("tariffs/", views.tariffs, name="tariffs"),
    path("tariffs/<uuid:tariff_id>/end/", views.tariff_end, name="tariff_end"),
    path("charge-items/<uuid:item_id>/", views.charge_item_change, name="charge_item_change"),
    path("readings/", views.readings, name="readings"),
    path("readings/<uuid:reading_id>/review/", views.reading_review, name="reading_review"),
    path("runs/", views.run_list, name="runs"),
    path("runs/<uuid:run_id>/", views.run_detail, name="run_detail"),
    path("runs/<uuid:run_id>/post/", views.run_post, name="run_post"),
    path("runs/<uuid:run_id>/progress/", views.run_progress, name="run_progress"),
    path("arrears/", views.arrears, name="arrears"),
    path("arrears/remind/", views.arrears_remind, name="arrears_remind"),
    path("accounts/<uuid:account_id>/reminder.pdf", views.reminder_letter, name="reminder_letter"),
    path("chases/", views.chases, name="chases"),
    path("write-offs/", views.write_offs, name="write_offs"),
    path("write-offs/<uuid:write_off_id>/decide/", views.write_off_decide, name="write_off_decide"),
    path("collection/", views.collection, name="collection"),
    path("daily/", views.daily, name="daily"),
    path("weekly/", views.weekly, name="weekly"),
    path("settings/", views.fee_settings, name="settings"),
    path("my/", views.my_fees, name="my_fees"),
    path("my/payments/<uuid:payment_id>/", views.my_receipt, name="my_receipt"),
    path("my/payments/<uuid:payment_id>/pdf/", views.my_receipt_pdf, name="my_receipt_pdf"),
    path("my/pay/", views.my_pay, name="my_pay"),
    path("my/pay/<uuid:online_id>/", views.my_online, name="my_online"),
    path("my/pay/<uuid:online_id>/status/", views.my_online_status, name="my_online_status"),
    path("online/", views.online_list, name="online_list"),
    path("online/<uuid:online_id>/", views.online_detail, name="online_detail"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("reconciliation/<str:day>/", views.reconciliation_day, name="reconciliation_day"),
    path("differences/<uuid:difference_id>/<slug:action>/", views.difference_act, name="difference_act"),
]
