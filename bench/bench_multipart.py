"""Throughput of patera's multipart parser against python-multipart, same run.

Two workloads, interleaved rounds, medians of wall-clock and CPU time (CPU time is
the steadier figure on a shared machine):
  (a) one 100 MiB file part, fed in 64 KiB chunks
  (b) 10,000 small fields, fed in 64 KiB chunks

Two levels each:
  sans-I/O  patera MultipartParser.feed()  vs python_multipart.MultipartParser (no-op callbacks)
  full      patera parse_multipart() (fields decoded, files spooled to temp files off-loop)
            vs python_multipart.FormParser (Field/File objects, files spooled to temp files)

python-multipart is imported here only (bench/ is not part of the package).
Run: .venv/bin/python bench/bench_multipart.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import python_multipart
from python_multipart.multipart import FormParser

from patera._limits import BodyLimits
from patera._multipart import MultipartParser
from patera._multipart_stream import parse_multipart

BOUNDARY = b"----patera-bench-boundary-7d91b03a20128"
CHUNK = 64 * 1024


def big_file_body(size: int) -> bytes:
    block = (bytes(range(256)) * 256)[: 64 * 1024]
    content = (block * (size // len(block) + 1))[:size]
    return (
        b"--" + BOUNDARY + b"\r\n"
        b'Content-Disposition: form-data; name="upload"; filename="big.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n--" + BOUNDARY + b"--\r\n"
    )


def many_fields_body(count: int) -> bytes:
    parts = [
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="field%d"\r\n\r\nvalue number %d\r\n' % (i, i)
        for i in range(count)
    ]
    return b"".join(parts) + b"--" + BOUNDARY + b"--\r\n"


def chunked(body: bytes) -> list[bytes]:
    return [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]


LIMITS = BodyLimits(max_form_fields=20_000, max_form_files=10, max_form_memory_size=1 << 20)


def patera_sansio(chunks: list[bytes]) -> None:
    parser = MultipartParser(BOUNDARY, LIMITS)
    for chunk in chunks:
        parser.feed(chunk)
    parser.close()


def pm_sansio(chunks: list[bytes]) -> None:
    def noop(*_: object) -> None:
        return None

    callbacks = {
        name: noop
        for name in (
            "on_part_begin", "on_part_data", "on_part_end", "on_header_begin", "on_header_field",
            "on_header_value", "on_header_end", "on_headers_finished", "on_end",
        )
    }
    parser = python_multipart.MultipartParser(BOUNDARY, callbacks)  # type: ignore[arg-type]
    for chunk in chunks:
        parser.write(chunk)
    parser.finalize()


def patera_full(chunks: list[bytes]) -> None:
    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    async def run() -> None:
        ctype = "multipart/form-data; boundary=" + BOUNDARY.decode()
        _fields, files = await parse_multipart(source(), ctype, LIMITS)
        for _, f in files:
            f.close()

    asyncio.run(run())


def pm_full(chunks: list[bytes]) -> None:
    fields: list[object] = []
    files: list[object] = []
    parser = FormParser(
        "multipart/form-data",
        fields.append,
        files.append,
        boundary=BOUNDARY,
        config={"MAX_MEMORY_FILE_SIZE": 1 << 20, "MAX_FIELDS": 20_000, "MAX_FIELD_SIZE": 1 << 20},
    )
    for chunk in chunks:
        parser.write(chunk)
    parser.finalize()
    for f in files:
        f.close()  # type: ignore[attr-defined]


def bench(
    name: str,
    body: bytes,
    rounds: int,
    pairs: list[tuple[str, Callable[[list[bytes]], None], Callable[[list[bytes]], None]]],
) -> bool:
    chunks = chunked(body)
    mib = len(body) / (1 << 20)
    ok = True
    print(f"\n== {name}: {mib:.1f} MiB body, {len(chunks)} chunks of {CHUNK // 1024} KiB, {rounds} interleaved rounds")
    for level, ours, theirs in pairs:
        wall: dict[str, list[float]] = {"patera": [], "pm": []}
        cpu: dict[str, list[float]] = {"patera": [], "pm": []}
        for _ in range(rounds):
            for label, fn in (("patera", ours), ("pm", theirs)):
                c0, t0 = time.process_time(), time.perf_counter()
                fn(chunks)
                wall[label].append(time.perf_counter() - t0)
                cpu[label].append(time.process_time() - c0)
        for kind, samples in (("wall", wall), ("cpu", cpu)):
            med = {k: statistics.median(v) for k, v in samples.items()}
            ratio = med["pm"] / med["patera"]
            ok &= ratio >= 1.0
            print(
                f"  {level:8s} {kind:4s}  patera {mib / med['patera']:8.1f} MB/s ({med['patera'] * 1000:7.1f} ms)"
                f"   python-multipart {mib / med['pm']:8.1f} MB/s ({med['pm'] * 1000:7.1f} ms)   ratio {ratio:5.2f}x"
            )
    return ok


def main() -> None:
    print(f"python-multipart {python_multipart.__version__}, Python {sys.version.split()[0]}")
    levels = [("sans-I/O", patera_sansio, pm_sansio), ("full", patera_full, pm_full)]
    ok = bench("(a) one 100 MiB file part", big_file_body(100 * 1024 * 1024), 7, levels)
    ok &= bench("(b) 10,000 small fields", many_fields_body(10_000), 15, levels)
    print(
        "\n(MB/s = MiB of body per second; medians of wall-clock and of process CPU time (all threads);"
        "\n ratio = python-multipart time / patera time, >1 means patera is faster)"
    )
    print("RESULT:", "patera at least as fast everywhere" if ok else "patera SLOWER somewhere")


if __name__ == "__main__":
    main()
