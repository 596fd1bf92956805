from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "wuye.core"
    label = "core"
    verbose_name = "Wuye core"
