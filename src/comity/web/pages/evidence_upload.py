"""Receive a multipart form with evidence files, streaming each file straight to a folder on
the node's disk (never whole in memory), within a size limit, refusing file names that try to
leave the folder. The CSRF token must come before any file: no byte of a forged form is
written."""

from __future__ import annotations

import hmac
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from comity.kit.errors import ComityError
from comity.web.core import CSRF_FIELD, CsrfRefused

MAX_FIELD_BYTES = 20_000
MAX_FIELDS = 100
MAX_FILES = 1000
MAX_NAME_BYTES = 255
#: Bytes of headers in one part (names, content type): a browser sends a few hundred.
MAX_HEADER_BYTES = 8192
#: Parts in one form: every field and every file, and a few more.
MAX_PARTS = MAX_FIELDS + MAX_FILES + 10
EXPIRED = "this form has expired or did not come from this site: reload the page"


class UploadRefused(ComityError):
    status_code = 400
    code = "upload_refused"


class UploadTooLarge(ComityError):
    status_code = 413
    code = "upload_too_large"


@dataclass
class Upload:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[tuple[str, int]] = field(default_factory=list)  # (name, bytes)

    def value(self, name: str) -> str:
        values = self.fields.get(name, [])
        return values[0] if values else ""

    def values(self, name: str) -> list[str]:
        return self.fields.get(name, [])


def safe_file_name(raw: str) -> str:
    """The name a file is stored under: one plain name, no folder, nothing hidden in it."""
    name = unicodedata.normalize("NFC", raw.strip())
    if (
        not name
        or name in {".", ".."}
        or "/" in name
        or "\\" in name
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
        or len(name.encode("utf-8")) > MAX_NAME_BYTES
    ):
        raise UploadRefused(
            f"the file name {raw!r} is not allowed: give plain file names, without folders",
            field="files",
        )
    return name


def _disposition(value: bytes) -> tuple[str, str | None]:
    _, params = parse_options_header(value)
    try:
        name = params.get(b"name", b"").decode("utf-8")
        filename = params.get(b"filename")
        return name, None if filename is None else filename.decode("utf-8")
    except UnicodeDecodeError:
        raise UploadRefused("a form field or file name is not UTF-8", field="files") from None


class _Receiver:
    def __init__(self, folder: Path, max_bytes: int, csrf: str) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.csrf = csrf
        self.upload = Upload()
        self.total = 0
        self.csrf_ok = False
        self.headers: dict[bytes, bytes] = {}
        self.header_field = b""
        self.header_value = b""
        self.name = ""
        self.filename: str | None = None
        self.buffer = bytearray()
        self.sink: IO[bytes] | None = None
        self.size = 0
        self.fields = 0
        self.parts = 0
        self.header_bytes = 0
        self.csrf_seen = False

    # python-multipart callbacks
    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise UploadRefused("the form has too many parts")
        self.headers, self.buffer, self.sink, self.size = {}, bytearray(), None, 0
        self.name, self.filename = "", None
        self.header_bytes = 0

    def _count_header(self, size: int) -> None:
        self.header_bytes += size
        if self.header_bytes > MAX_HEADER_BYTES:
            raise UploadRefused("a part of the form has headers that are too long")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.header_field.lower()] = self.header_value
        self.header_field, self.header_value = b"", b""

    def on_headers_finished(self) -> None:
        self.name, self.filename = _disposition(self.headers.get(b"content-disposition", b""))
        if self.filename is None:
            self.fields += 1
            if self.fields > MAX_FIELDS:
                raise UploadRefused("the form has too many fields")
            return
        if not self.csrf_ok:
            raise CsrfRefused(
                "this form has expired or did not come from this site: reload the page"
            )
        if self.filename == "":
            return  # a file input left empty
        name = safe_file_name(self.filename)
        if any(existing == name for existing, _ in self.upload.files):
            raise UploadRefused(f"two files are named {name!r}: rename one", field="files")
        if len(self.upload.files) >= MAX_FILES:
            raise UploadRefused(f"at most {MAX_FILES} files in one upload", field="files")
        self.filename = name
        descriptor = os.open(self.folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.sink = os.fdopen(descriptor, "wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.filename is None:
            self.buffer.extend(data[start:end])
            if len(self.buffer) > MAX_FIELD_BYTES:
                raise UploadRefused(f"the field {self.name!r} is too long", field=self.name)
            return
        if self.sink is None:
            if end > start:
                raise UploadRefused("a file was sent without a name", field="files")
            return
        self.total += end - start
        if self.total > self.max_bytes:
            raise UploadTooLarge(
                f"the files are larger than this node accepts in one upload ({self.max_bytes}"
                " bytes): seal them with the command line instead",
                field="files",
            )
        self.sink.write(data[start:end])
        self.size += end - start

    def on_part_end(self) -> None:
        if self.filename is None:
            try:
                text = self.buffer.decode("utf-8")
            except UnicodeDecodeError:
                raise UploadRefused(f"the field {self.name!r} is not UTF-8") from None
            if self.name == CSRF_FIELD:
                # One token per form: a second one must not replace the verdict on the first.
                if self.csrf_seen:
                    raise CsrfRefused(EXPIRED)
                self.csrf_seen = True
                self.csrf_ok = bool(self.csrf) and hmac.compare_digest(text, self.csrf)
            self.upload.fields.setdefault(self.name, []).append(text)
            return
        if self.sink is not None:
            if self.size == 0:
                raise UploadRefused(
                    f"the file {self.filename!r} is empty: choose the file again", field="files"
                )
            self.sink.flush()
            os.fsync(self.sink.fileno())
            self.sink.close()
            self.sink = None
            self.upload.files.append((self.filename, self.size))

    def close(self) -> None:
        if self.sink is not None:
            self.sink.close()


async def receive(request: Request, folder: Path, max_bytes: int, csrf: str) -> Upload:
    """Read the multipart body of `request` into `folder` (files) and memory (short fields).
    Raises `CsrfRefused` when a file comes before a valid CSRF token, `UploadTooLarge` past
    `max_bytes`, `UploadRefused` for unsafe or duplicate names and malformed forms."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise UploadRefused("send the form with its files (multipart/form-data)")
    receiver = _Receiver(folder, max_bytes, csrf)
    callbacks = {
        "on_part_begin": receiver.on_part_begin,
        "on_header_field": receiver.on_header_field,
        "on_header_value": receiver.on_header_value,
        "on_header_end": receiver.on_header_end,
        "on_headers_finished": receiver.on_headers_finished,
        "on_part_data": receiver.on_part_data,
        "on_part_end": receiver.on_part_end,
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise UploadRefused(f"the form is malformed: {exc}") from None
    finally:
        receiver.close()
    if not receiver.csrf_ok:
        raise CsrfRefused(EXPIRED)
    return receiver.upload
