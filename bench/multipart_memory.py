"""Peak memory while parse_multipart() streams a 1 GiB upload generated on the fly.

The body (one 1 GiB file part plus a small field) comes from an async generator
of 64 KiB chunks, so the only memory that can grow is the parser's. Peak RSS
(VmHWM, falling back to ru_maxrss) is read before and after; the growth must stay
below 64 MiB. The spooled temp file goes to $TMPDIR (needs ~1 GiB of disk).

Run: .venv/bin/python bench/multipart_memory.py [size_in_MiB]
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import resource
import sys
import time
from collections.abc import AsyncIterator

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from patera._limits import BodyLimits
from patera._multipart_stream import parse_multipart

BOUNDARY = b"----patera-memory-bench-1b00618e787f"
CHUNK = 64 * 1024
LIMIT_MIB = 64


def peak_rss_kib() -> int:
    """Peak resident set size of this process in KiB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


async def body(size: int, digest: hashlib._Hash) -> AsyncIterator[bytes]:
    yield (
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="upload"; filename="big.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    # Content with CR/LF and "--" look-alikes so the delimiter search has real work.
    pattern = (b"\r\n--" + BOUNDARY[:-1] + b"\r\n" + bytes(range(256))) * 64
    remaining = size
    offset = 0
    while remaining:
        n = min(CHUNK, remaining)
        chunk = (pattern * (CHUNK // len(pattern) + 2))[offset % len(pattern) :][:n]
        offset += n
        remaining -= n
        digest.update(chunk)
        yield chunk
    yield b"\r\n--" + BOUNDARY + b"--\r\n"


async def main(size: int) -> int:
    before = peak_rss_kib()
    expected = hashlib.sha256()
    start = time.perf_counter()
    fields, files = await parse_multipart(
        body(size, expected), "multipart/form-data; boundary=" + BOUNDARY.decode(), BodyLimits()
    )
    elapsed = time.perf_counter() - start
    after = peak_rss_kib()
    [(name, upload)] = files
    got = hashlib.sha256()
    while block := upload.read(1 << 20):
        got.update(block)
    upload.close()
    assert fields == [("note", "hello")] and name == "upload"
    assert upload.size == size, (upload.size, size)
    assert got.digest() == expected.digest(), "content mismatch"
    growth_mib = (after - before) / 1024
    print(
        f"parsed {size / (1 << 20):.0f} MiB upload in {elapsed:.2f} s"
        f" ({size / (1 << 20) / elapsed:.0f} MiB/s), content verified"
    )
    print(f"peak RSS before {before / 1024:.1f} MiB, after {after / 1024:.1f} MiB")
    print(
        f"peak RSS growth: {growth_mib:.1f} MiB (limit {LIMIT_MIB} MiB) -> {'OK' if growth_mib < LIMIT_MIB else 'FAIL'}"
    )
    return 0 if growth_mib < LIMIT_MIB else 1


if __name__ == "__main__":
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    sys.exit(asyncio.run(main(mib * 1024 * 1024)))
