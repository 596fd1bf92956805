"""One error shape for services, pages and the API.

Services raise `ServiceError` (or Django's ValidationError) with a machine-readable code and a message a
person can act on; the API answers every error as

    {"error": {"code": "...", "message": "...", "fields": {"field": ["message", ...]}}}
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ServiceError(Exception):
    """A request a service refuses. Nothing has been changed when it is raised."""

    code = "invalid"
    http_status: int = status.HTTP_400_BAD_REQUEST

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field or (next(iter(fields)) if fields else None)
        self.fields = fields

    def as_fields(self) -> dict[str, list[str]]:
        if self.fields:
            return self.fields
        return {self.field: [self.message]} if self.field else {}

    @classmethod
    def from_validation(cls, error: DjangoValidationError, *, code: str = "invalid") -> ServiceError:
        """Django's model validation (validators, constraints' messages) as one ServiceError that names
        every field at fault; errors not tied to a field are under "__all__"."""
        fields = (
            {name: [str(m) for m in messages] for name, messages in error.message_dict.items()}
            if hasattr(error, "error_dict")
            else {"__all__": [str(m) for m in error.messages]}
        )
        message = " ".join(message for messages in fields.values() for message in messages)
        return cls(message, code=code, fields=fields)


class PolicyDenied(ServiceError):
    """The user may not do this (a policy said no)."""

    code = "permission_denied"
    http_status = status.HTTP_403_FORBIDDEN


class NotFound(ServiceError):
    code = "not_found"
    http_status = status.HTTP_404_NOT_FOUND


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [str(item) if not isinstance(item, (dict, list)) else _flatten(item) for item in detail]
    return [str(detail)]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ServiceError):
        return Response(error_body(exc.code, exc.message, exc.as_fields()), status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {}
        message = "; ".join(exc.messages)
        return Response(error_body("invalid", message, fields), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail) if isinstance(exc.detail, dict) else {"non_field_errors": _flatten(exc.detail)}
        response.data = error_body("invalid", "The request has invalid fields.", fields)
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        response.data = error_body(code, str(exc.detail))
    return response
