from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import health

_HEALTH_VIEWS = {"/healthz": health.healthz, "/readyz": health.readyz}


class HealthCheckMiddleware:
    """Answers /healthz and /readyz before the host is resolved to a company.

    Probes come from load balancers and kubelets that address the pod by IP, not by a company's domain,
    so these two paths must not depend on the host; they read no company's data.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = _HEALTH_VIEWS.get(request.path.rstrip("/"))
        if view is not None and request.method in {"GET", "HEAD"}:
            return view(request)
        return self.get_response(request)
