"""``UploadedFile``: one uploaded file, small ones in memory, large ones spooled to disk."""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from io import BytesIO
from typing import IO, TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

__all__ = ("UploadedFile",)

DEFAULT_CONTENT_TYPE = "application/octet-stream"
_COPY_CHUNK = 1 << 20
_writev = getattr(os, "writev", None)
# Control characters (C0, DEL and C1) never belong in a file name on disk.
_CONTROL = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)])


def _write_all(f: IO[bytes], chunks: Sequence[bytes | memoryview]) -> None:
    """Write every chunk to an unbuffered file (``writev`` where available)."""
    if not isinstance(f, io.FileIO) or _writev is None:
        f.writelines(chunks)
        return
    if len(chunks) > 64:  # stay far below IOV_MAX
        chunks = [b"".join(chunks)]
    fd = f.fileno()
    total = sum(map(len, chunks))
    done = _writev(fd, chunks)
    if done < total:  # a short write is rare but legal: finish byte-exact
        rest = memoryview(b"".join(chunks))[done:]
        while rest:
            rest = rest[os.write(fd, rest) :]


class UploadedFile:
    """A file from a multipart form (or built by hand / by pydantic).

    The content lives in ``stream``: a ``BytesIO`` while it is at most
    ``spool_max_size`` bytes, an anonymous temporary file (deleted on
    :meth:`close`) once it grows beyond that.
    """

    __slots__ = ("_closed", "_file", "_parts", "_size", "_spool_max_size", "content_type", "filename", "headers")

    def __init__(
        self,
        stream: BinaryIO | IO[bytes] | bytes | bytearray | memoryview | None = None,
        filename: str = "",
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        size: int | None = None,
        spool_max_size: int = 1_048_576,
    ) -> None:
        if stream is None:
            stream, size = BytesIO(), 0
        elif isinstance(stream, (bytes, bytearray, memoryview)):
            size = len(stream)
            stream = BytesIO(bytes(stream))
        self.filename: str = filename
        self.content_type: str = content_type or DEFAULT_CONTENT_TYPE
        self.headers: dict[str, str] = {k.lower(): v for k, v in (headers or {}).items()}
        self._file: IO[bytes] = stream
        if size is None:
            here = stream.tell()
            size = stream.seek(0, os.SEEK_END)
            stream.seek(here)
        self._size: int = size
        self._spool_max_size = spool_max_size
        self._closed = False
        #: in-memory content still being received, joined into ``_file`` on finish
        self._parts: list[bytes | memoryview] = []

    # ------------------------------------------------------------------ attributes

    @property
    def size(self) -> int:
        return self._size

    @property
    def safe_filename(self) -> str:
        """The basename with control characters and leading dots removed (may be ``""``)."""
        name = self.filename
        cut = max(name.rfind("/"), name.rfind("\\"))
        return name[cut + 1 :].translate(_CONTROL).lstrip(".")

    @property
    def stream(self) -> IO[bytes]:
        """The underlying binary file (``BytesIO`` or a temporary file)."""
        return self._file

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def in_memory(self) -> bool:
        return isinstance(self._file, BytesIO)

    # ------------------------------------------------------------------ file-like API

    def read(self, size: int = -1) -> bytes:
        f = self._file
        if (size is None or size < 0) and isinstance(f, BytesIO) and f.tell() == 0:
            # PERF: BytesIO.getvalue() hands out its buffer; read() would allocate and fill a
            # second one of the same size (for a 256 KiB upload, most of the request's cost).
            f.seek(0, os.SEEK_END)
            return f.getvalue()
        return f.read(size)

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        return self._file.seek(pos, whence)

    def tell(self) -> int:
        return self._file.tell()

    def get_stream(self) -> BytesIO:
        """A new ``BytesIO`` holding the whole content; the position is left as it was."""
        if isinstance(self._file, BytesIO):
            return BytesIO(self._file.getvalue())
        here = self._file.tell()
        try:
            self._file.seek(0)
            return BytesIO(self._file.read())
        finally:
            self._file.seek(here)

    def save(self, dst: str | os.PathLike[str] | IO[bytes]) -> None:
        """Write the whole content to a path or a binary file; the position is restored."""
        here = self._file.tell()
        try:
            self._file.seek(0)
            if isinstance(dst, (str, os.PathLike)):
                with open(dst, "wb") as out:
                    shutil.copyfileobj(self._file, out, _COPY_CHUNK)
            else:
                shutil.copyfileobj(self._file, dst, _COPY_CHUNK)
        finally:
            self._file.seek(here)

    def close(self) -> None:
        """Close the stream; a spooled temporary file is deleted by the OS on close."""
        self._closed = True
        self._file.close()

    async def aread(self, size: int = -1) -> bytes:
        """:meth:`read`; in the thread pool only when the content is spooled to disk."""
        if isinstance(self._file, BytesIO):
            return self.read(size)  # PERF: memory only; a thread hop costs far more
        return await asyncio.to_thread(self._file.read, size)

    async def asave(self, dst: str | os.PathLike[str] | IO[bytes]) -> None:
        """:meth:`save` in the thread pool."""
        await asyncio.to_thread(self.save, dst)

    def __enter__(self) -> UploadedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<UploadedFile {self.filename!r} ({self.content_type}, {self._size} bytes)>"

    # ------------------------------------------------------------------ writing (parser side)

    def _closed_meanwhile(self) -> bool:
        # NOTE: read again after the spool write: another thread may close the upload while
        # this one writes (a plain re-read would be "unreachable" to mypy's narrowing).
        return self._closed

    def _append(self, chunks: Sequence[bytes | memoryview], finish: bool = False) -> None:
        """Append chunks, rolling over to a temporary file past the spool size.

        Chunks kept in memory are kept by reference: the caller must not reuse them.

        Called inline while the content provably stays in memory, otherwise in a
        worker thread by the multipart parser (disk writes must not block the loop).
        """
        if self._closed:
            raise ValueError("I/O operation on closed UploadedFile")
        f = self._file
        added = sum(map(len, chunks))
        if isinstance(f, BytesIO):
            parts = self._parts
            if self._size + added <= self._spool_max_size:
                # PERF: kept as received and joined once: a growing BytesIO reallocates (and
                # faults in fresh pages) several times for a 256 KiB file.
                parts.extend(chunks)
                self._size += added
                if finish:
                    initial = f.getvalue()
                    if initial:  # content the file was created with comes first
                        parts.insert(0, initial)
                    self._file = BytesIO(parts[0] if len(parts) == 1 else b"".join(parts))  # shares the bytes
                    parts.clear()
                return
            # PERF: the spool file is unbuffered while it is being written so a batch
            # goes out in one writev() (one GIL release, one syscall); it gets a
            # buffered reader on finish.
            spooled: IO[bytes] = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115 - owned by this upload
            try:
                _write_all(spooled, [f.getvalue(), *parts])
            except BaseException:
                spooled.close()
                raise
            parts.clear()
            f.close()
            self._file = f = spooled
            if self._closed_meanwhile():  # closed by an error path meanwhile: do not leak the fd
                spooled.close()
                raise ValueError("I/O operation on closed UploadedFile")
        _write_all(f, chunks)
        self._size += added
        if finish:
            if isinstance(f, io.FileIO):
                f = self._file = io.BufferedRandom(f)
            f.flush()
            f.seek(0)

    # ------------------------------------------------------------------ pydantic integration

    @classmethod
    def _from_value(cls, value: Any) -> UploadedFile:
        if isinstance(value, UploadedFile):
            return value
        if isinstance(value, Mapping):
            if "filename" not in value or "content" not in value:
                raise ValueError("an UploadedFile mapping needs 'filename' and 'content'")
            filename, content, ctype = value["filename"], value["content"], value.get("content_type")
        elif isinstance(value, (tuple, list)) and len(value) in (2, 3):
            filename, content = value[0], value[1]
            ctype = value[2] if len(value) == 3 else None
        else:
            raise ValueError("expected an uploaded file")
        if not isinstance(filename, str):
            raise ValueError("filename must be a string")
        if ctype is not None and not isinstance(ctype, str):
            raise ValueError("content_type must be a string")
        if isinstance(content, str):
            try:
                data = base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("content must be bytes or base64 text") from None
        elif isinstance(content, (bytes, bytearray, memoryview)):
            data = bytes(content)
        else:
            raise ValueError("content must be bytes or base64 text")
        return cls(data, filename, ctype)

    def _to_summary(self) -> dict[str, Any]:
        return {"filename": self.filename, "content_type": self.content_type, "size": self._size}

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic_core import core_schema

        return core_schema.no_info_plain_validator_function(
            cls._from_value,
            serialization=core_schema.plain_serializer_function_ser_schema(cls._to_summary),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {
            "type": "object",
            "title": "UploadedFile",
            "properties": {
                "filename": {"type": "string", "title": "Filename"},
                "content_type": {"type": "string", "title": "Content Type"},
                "size": {"type": "integer", "title": "Size"},
            },
        }
