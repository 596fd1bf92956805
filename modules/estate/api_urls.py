from django.urls import path

from .api import RESOURCES, views_for

urlpatterns = []
for _prefix, _resource in RESOURCES.items():
    _views = views_for(_prefix)
    _name = _prefix.replace("-", "_")
    # The id is named after its kind (unit_id, meter_id...): the isolation tests make one of that kind.
    _id = f"<uuid:{_resource.keyword}_id>"
    urlpatterns += [
        path(f"{_prefix}/", _views["list"].as_view(), name=f"api-{_name}"),
        path(f"{_prefix}/{_id}/", _views["detail"].as_view(), name=f"api-{_name}-detail"),
        path(f"{_prefix}/{_id}/archive/", _views["archive"].as_view(), name=f"api-{_name}-archive"),
        path(f"{_prefix}/{_id}/restore/", _views["restore"].as_view(), name=f"api-{_name}-restore"),
    ]
