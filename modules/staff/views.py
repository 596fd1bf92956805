from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from wuye.accounts.policies import acting_user
from wuye.core.errors import PolicyDenied
from wuye.portal.views import refusal

from . import selectors


@login_required
def department_list(request: HttpRequest) -> HttpResponse:
    try:
        departments = selectors.department_list(viewer=acting_user(request))
    except PolicyDenied as exc:
        return refusal(request, exc)
    return render(request, "staff/department_list.html", {"departments": departments})
