from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("i18n/language/", views.language_set, name="language"),
]
