"""Receiving an upload: in memory only, and no further than spreadsheets.MAX_FILE_BYTES.

Django's default handlers spill an upload over 2.5 MB into a temporary file: one more copy of a company's
data on a disk shared by every company. This handler keeps the file in memory and stops keeping it once it
passes the limit (the rest of the request is read and thrown away, never stored), so a 50 MB file costs
20 MB of memory for a moment and is refused. A request that announces more than the limit in its
Content-Length is refused before any of it is read.

Upload handlers must be in place before the body is parsed: pages install them in a csrf_exempt view that
then applies CSRF protection itself; API views install them when the request is initialized, before
authentication (session authentication reads the body for its CSRF check).
"""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest

from . import spreadsheets

# Room for the other form fields and the multipart framing around the file.
ENVELOPE_BYTES = 64 * 1024


class BoundedMemoryUploadHandler(FileUploadHandler):
    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.limit = spreadsheets.MAX_FILE_BYTES
        self.too_big = False
        self.buffer = io.BytesIO()
        self.size = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.size = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.size > self.limit:
            self.too_big = True
            self.buffer = io.BytesIO()
            raise SkipFile()
        self.buffer.write(raw_data)

    def file_complete(self, file_size: int) -> InMemoryUploadedFile | None:
        if self.too_big:
            return None
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


def install(request: HttpRequest) -> BoundedMemoryUploadHandler:
    handler = BoundedMemoryUploadHandler(request)
    request.upload_handlers = [handler]
    return handler


def announced_too_big(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > spreadsheets.MAX_FILE_BYTES + ENVELOPE_BYTES


def too_big(request: HttpRequest) -> bool:
    """After parsing: whether the file went past the limit (and was dropped)."""
    return any(getattr(handler, "too_big", False) for handler in request.upload_handlers)
