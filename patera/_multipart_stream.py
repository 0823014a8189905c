"""``parse_multipart``: drives :class:`~._multipart.MultipartParser` from the request body.

Fields are collected in memory; file content goes into :class:`UploadedFile` objects that spool
to temporary files past ``FORM_SPOOL_MAX_SIZE``, written off the event loop.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Final

from ._limits import BodyLimits
from ._multipart import PART_END, MultipartParser, Part, boundary_from_content_type
from ._text import scrub_surrogates
from .exceptions import RequestEntityTooLarge
from .uploads import UploadedFile

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

__all__ = ("parse_multipart",)

# Spooled file data is copied into buffers of this size, each handed to a worker thread
# when full; at most _MAX_IN_FLIGHT of them are queued while the next one fills.
_WRITE_BATCH: Final = 2 << 20
_MAX_IN_FLIGHT: Final = 2


def _decode_field(raw: bytes, charset: str) -> str:
    try:
        return scrub_surrogates(raw.decode(charset))
    except UnicodeDecodeError:
        return raw.decode("latin-1")
    except (LookupError, ValueError):  # an unusable codec (UnicodeError of punycode/undefined, NUL in the name)
        pass
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _close_all(uploads: list[UploadedFile]) -> None:
    for upload in uploads:
        with contextlib.suppress(Exception):  # cleanup must not mask the original error
            upload.close()


def _consume_result(fut: asyncio.Future[None]) -> None:
    if not fut.cancelled():
        fut.exception()


async def parse_multipart(
    chunks: AsyncIterator[bytes], content_type: str, limits: BodyLimits
) -> tuple[list[tuple[str, str]], list[tuple[str, UploadedFile]]]:
    """Parse a ``multipart/form-data`` body into ``(fields, files)`` in arrival order.

    Files above ``limits.form_spool_max_size`` are spooled to temporary files; those
    writes run in a private worker thread in batches of 2 MiB (at most two queued
    while the next fills), so the event loop never waits on the disk.
    On any error, including the chunk iterator raising (``ClientDisconnected``),
    every file created so far is closed (deleting its temp file) and the error re-raised.

    Raises:
        BadRequest: missing/invalid boundary or a malformed (including truncated) body.
        RequestEntityTooLarge: a body or form limit was crossed.
    """
    parser = MultipartParser(boundary_from_content_type(content_type), limits)
    spool_max = limits.form_spool_max_size
    max_length = limits.max_content_length
    raw_fields: list[tuple[str, bytes, str | None]] = []
    files: list[tuple[str, UploadedFile]] = []
    part: Part | None = None
    field_data: list[bytes] = []
    upload: UploadedFile | None = None
    pending: list[bytes] = []
    pending_size = 0
    written = 0  # bytes of `upload` appended in memory or handed to the writer
    spooling = False  # `upload` has (or will have) a temp file: writes go to the thread
    # Batches queued on the private writer thread, oldest first (one worker: FIFO order).
    in_flight: deque[asyncio.Future[None]] = deque()
    received = 0

    executor: ThreadPoolExecutor | None = None
    # PERF: spooled content is copied into a few reused buffers as it arrives. Handing the
    # received chunks themselves to the writer freed a whole batch of them at once when it
    # was written; the allocator then gave those pages back to the OS and faulted fresh
    # ones in for the next chunks (~25,000 page faults, a third of the CPU per 100 MiB).
    buffer: bytearray | None = None
    buffered = 0
    in_flight_buffers: deque[bytearray | None] = deque()  # the buffer of each in_flight write

    async def next_buffer() -> bytearray:
        # the oldest write's buffer once that write is done; bounded memory, the disk sets the pace
        if in_flight and (in_flight[0].done() or len(in_flight) >= _MAX_IN_FLIGHT):
            await in_flight.popleft()
            if (done := in_flight_buffers.popleft()) is not None:
                return done
        return bytearray(_WRITE_BATCH)

    def submit(target: UploadedFile, finish: bool) -> None:
        nonlocal executor, buffer, buffered, written
        if executor is None:
            # PERF: one private worker per spooling parse. The shared default pool hands
            # consecutive batches to different threads (cold caches, more CPU) because
            # the next batch is submitted before the previous worker reports idle.
            from concurrent.futures import ThreadPoolExecutor  # only uploads that spool to disk

            executor = ThreadPoolExecutor(1, thread_name_prefix="patera-upload")
        view = memoryview(buffer)[:buffered] if buffer is not None else memoryview(b"")
        # Content that still fits in memory is kept by reference: never a reused buffer.
        batch: bytes | memoryview = view.tobytes() if written + buffered <= spool_max else view
        # PERF: queue without waiting for the previous batch, so the worker goes
        # straight on to the next one instead of sleeping between round trips.
        in_flight.append(asyncio.get_running_loop().run_in_executor(executor, target._append, [batch], finish))
        in_flight_buffers.append(buffer)
        written += buffered
        buffer, buffered = None, 0

    async def spool(target: UploadedFile, data: bytes) -> None:
        nonlocal buffer, buffered
        start, end = 0, len(data)
        while start < end:
            if buffer is None:
                buffer = await next_buffer()
            n = min(_WRITE_BATCH - buffered, end - start)
            buffer[buffered : buffered + n] = data if n == end else memoryview(data)[start : start + n]
            buffered += n
            start += n
            if buffered == _WRITE_BATCH:
                submit(target, False)

    try:
        async for chunk in chunks:
            if max_length is not None:
                received += len(chunk)
                if received > max_length:
                    raise RequestEntityTooLarge("Request body too large")
            for event in parser.feed(chunk):
                if type(event) is bytes:
                    if upload is None:
                        field_data.append(event)
                    elif spooling:
                        await spool(upload, event)
                    else:
                        pending.append(event)
                        pending_size += len(event)
                elif event is PART_END:
                    if upload is None:
                        assert part is not None
                        raw_fields.append((part.name, b"".join(field_data), part.charset))
                        field_data = []
                    elif spooling or written + pending_size > spool_max:
                        spooling = True
                        for data in pending:
                            await spool(upload, data)
                        submit(upload, True)
                        pending, pending_size = [], 0
                    else:
                        upload._append(pending, True)  # in memory: no I/O to offload
                        pending, pending_size = [], 0
                    part = upload = None
                else:
                    assert isinstance(event, Part)
                    part = event
                    if event.filename is not None:
                        upload = UploadedFile(
                            None, event.filename, event.content_type, event.headers, spool_max_size=spool_max
                        )
                        files.append((event.name, upload))
                        written, spooling = 0, False
            if upload is not None and pending:
                if written + pending_size <= spool_max:
                    upload._append(pending)
                    written += pending_size
                else:  # past the spool size: from now on its content goes through the buffers
                    spooling = True
                    for data in pending:
                        await spool(upload, data)
                pending, pending_size = [], 0
            if parser.complete:
                break
        parser.close()
        while in_flight:
            await in_flight.popleft()
        in_flight_buffers.clear()
    except BaseException:
        uploads = [f for _, f in files]
        for fut in in_flight:
            fut.add_done_callback(_consume_result)
        if executor is not None and in_flight:
            # NOTE: never close a file under a running writev (its fd number could be
            # reused); the single FIFO worker closes them right after the queued writes,
            # independent of the event loop's lifetime.
            executor.submit(_close_all, uploads)
        else:
            _close_all(uploads)
        raise
    finally:
        if executor is not None:
            executor.shutdown(wait=False)  # the thread exits once its last batch is done

    charset = "utf-8"
    for name, raw, _cs in raw_fields:
        if name == "_charset_":
            candidate = raw.decode("latin-1").strip()
            try:
                codecs.lookup(candidate)
                charset = candidate
            except (LookupError, ValueError):  # ValueError: a NUL in the name
                pass
            break
    fields = [(name, _decode_field(raw, cs or charset)) for name, raw, cs in raw_fields]
    return fields, files
