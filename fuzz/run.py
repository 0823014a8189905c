"""Long fuzz run over patera's parsers; see fuzz/README.md.

Two engines drive the targets in ``targets.py``:

* ``builtin`` (default): a seeded mutation fuzzer (stdlib only). Seeds are real
  inputs (tests/data/multipart captures, hand-written headers and rules), mutated by
  byte edits, dictionary tokens, range duplication and splicing; inputs that reach
  the interesting part of a target are kept as new seeds. Deterministic for a seed.
* ``atheris``: coverage-guided libFuzzer via atheris (optional, ``pip install atheris``),
  one process per target.

Exit status: 0 when no finding, 1 on a finding (failing inputs are written to
``fuzz/findings/``), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import math
import multiprocessing
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
FINDINGS = HERE / "findings"
MAX_FAILURES_PER_SHARD = 5
TARGET_NAMES = ("router", "multipart", "urlencoded", "cookie_header", "options_header", "set_cookie")


def _setup_path() -> None:
    for entry in (str(HERE.parent), str(HERE)):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    # NOTE: some codecs a client may name (unicode_escape) warn on odd input; not a finding.
    warnings.simplefilter("ignore")


@dataclass
class ShardResult:
    target: str
    runs: int = 0
    interesting: int = 0
    elapsed: float = 0.0
    slowest: float = 0.0
    slowest_len: int = 0
    slowest_input: bytes = b""
    failures: list[tuple[bytes, str]] = field(default_factory=list)


# ----------------------------------------------------------------------------- built-in mutator


class Mutator:
    """Byte-level mutations with a token dictionary and splicing, over a growing corpus."""

    def __init__(self, rng: random.Random, seeds: list[bytes], tokens: list[bytes], max_len: int) -> None:
        self.rng = rng
        self.corpus = list(seeds) or [b""]
        self.tokens = tokens or [b"\x00"]
        self.max_len = max_len

    def _one(self, data: bytearray) -> None:
        rng = self.rng
        n = len(data)
        op = rng.randrange(10)
        pos = rng.randint(0, n)
        if op == 0 and n:  # flip a bit
            i = rng.randrange(n)
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1 and n:  # set a byte to an interesting value
            data[rng.randrange(n)] = rng.choice(
                (0, 0x0A, 0x0D, 0x20, 0x22, 0x25, 0x2F, 0x3B, 0x3D, 0x5C, 0x7F, 0x80, 0xFF)
            )
        elif op in (2, 3):  # insert a token
            data[pos:pos] = rng.choice(self.tokens)
        elif op == 4 and n:  # overwrite with a token
            token = rng.choice(self.tokens)
            data[pos : pos + len(token)] = token
        elif op == 5 and n:  # delete a range
            data[pos : pos + rng.choice((1, 2, 4, rng.randint(1, 64)))] = b""
        elif op == 6 and n:  # duplicate a range (repetitions find non-linear parsing)
            start = rng.randrange(n)
            chunk = bytes(data[start : start + rng.randint(1, 16)])
            data[pos:pos] = chunk * rng.choice((1, 2, 8, 64, 512))
        elif op == 7:  # random bytes
            data[pos:pos] = rng.randbytes(rng.randint(1, 8))
        elif op == 8:  # splice with another corpus entry
            other = rng.choice(self.corpus)
            if other:
                cut = rng.randrange(len(other))
                data[pos:] = other[cut:]
        else:  # truncate
            del data[pos:]

    def next(self) -> bytes:
        rng = self.rng
        data = bytearray(rng.choice(self.corpus))
        for _ in range(rng.choice((1, 1, 2, 3, 4, 8))):
            self._one(data)
        if len(data) > self.max_len:
            del data[self.max_len :]
        return bytes(data)

    def keep(self, data: bytes) -> None:
        if len(self.corpus) < 2000:
            self.corpus.append(data)
        else:
            self.corpus[self.rng.randrange(len(self.corpus))] = data


def _failure_key(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    return f"{type(exc).__name__}@{where}"


def run_shard(args: tuple[str, int, int, float, int | None]) -> ShardResult:
    """Fuzz one target with one seed for ``runs`` inputs or until ``deadline`` (epoch seconds)."""
    name, seed, runs, deadline, max_len = args
    _setup_path()
    from targets import TARGETS

    target = TARGETS[name]
    rng = random.Random(f"{name}:{seed}")
    mutator = Mutator(rng, target.seeds, target.tokens, max_len or target.max_len)
    result = ShardResult(name)
    seen: set[str] = set()
    check = target.check
    clock = time.perf_counter
    start = clock()
    inputs = iter(target.seeds) if seed == 0 else iter(())  # shard 0 replays the seeds first
    for i in range(runs):
        data = next(inputs, None)
        if data is None:
            data = mutator.next()
        t0 = clock()
        try:
            hit = check(data)
        except Exception as exc:  # noqa: BLE001 - a finding: record it, keep fuzzing for others
            hit = False
            key = _failure_key(exc)
            if key not in seen:
                seen.add(key)
                text = "".join(traceback.format_exception(exc, limit=-4))
                result.failures.append((data, f"{key}\n{text}"))
                if len(result.failures) >= MAX_FAILURES_PER_SHARD:
                    result.runs = i + 1
                    break
        took = clock() - t0
        if took > result.slowest:
            result.slowest, result.slowest_len, result.slowest_input = took, len(data), data
        if hit:
            result.interesting += 1
            if rng.random() < 0.02:
                mutator.keep(data)
        if (i & 1023) == 0 and time.time() > deadline:
            result.runs = i + 1
            break
    else:
        result.runs = runs
    result.elapsed = clock() - start
    return result


def _save(name: str, data: bytes) -> Path:
    FINDINGS.mkdir(exist_ok=True)
    path = FINDINGS / f"{name}-{hashlib.sha1(data).hexdigest()[:12]}.bin"
    path.write_bytes(data)
    return path


def run_builtin(names: list[str], runs: int, max_time: float | None, jobs: int, seed: int, max_len: int | None) -> int:
    shards_per_target = max(jobs, 1)
    per_shard = -(-runs // shards_per_target)
    deadline = time.time() + max_time if max_time else float("inf")
    tasks = [(name, seed * 1000 + k, per_shard, deadline, max_len) for name in names for k in range(shards_per_target)]
    started = time.perf_counter()
    totals = {name: ShardResult(name) for name in names}
    ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    with ctx.Pool(jobs) as pool:
        for shard in pool.imap_unordered(run_shard, tasks):
            total = totals[shard.target]
            total.runs += shard.runs
            total.interesting += shard.interesting
            total.elapsed += shard.elapsed
            if shard.slowest > total.slowest:
                total.slowest, total.slowest_len, total.slowest_input = (
                    shard.slowest,
                    shard.slowest_len,
                    shard.slowest_input,
                )
            total.failures.extend(shard.failures)
            print(
                f"  shard {shard.target:<15} {shard.runs:>9,} inputs in {shard.elapsed:7.1f} s"
                f"  ({shard.runs / max(shard.elapsed, 1e-9):,.0f}/s)  failures={len(shard.failures)}",
                flush=True,
            )
    wall = time.perf_counter() - started
    return _report(totals, wall, jobs)


def _retime(name: str, data: bytes) -> float:
    """Best of three runs of one input: tells a slow parse from a scheduling hiccup."""
    from targets import TARGETS

    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        with contextlib.suppress(Exception):  # already reported as a finding
            TARGETS[name].check(data)
        best = min(best, time.perf_counter() - t0)
    return best


def _report(totals: dict[str, ShardResult], wall: float, jobs: int) -> int:
    print()
    header = (
        f"{'target':<15} {'inputs':>11} {'reached':>10} {'cpu s':>8}"
        f" {'inputs/s':>9} {'slowest':>9} {'re-timed':>9} {'size':>6}"
    )
    print(header + "  findings")
    found = 0
    for total in totals.values():
        rate = total.runs / total.elapsed if total.elapsed else 0.0
        again = _retime(total.target, total.slowest_input) if total.runs else 0.0
        print(
            f"{total.target:<15} {total.runs:>11,} {total.interesting:>10,} {total.elapsed:>8.1f} {rate:>9,.0f}"
            f" {total.slowest * 1000:>7.1f}ms {again * 1000:>7.1f}ms {total.slowest_len:>6}  {len(total.failures)}"
        )
    for total in totals.values():
        unique: dict[str, tuple[bytes, str]] = {}
        for data, text in total.failures:
            unique.setdefault(text.split("\n", 1)[0], (data, text))
        for data, text in unique.values():
            found += 1
            path = _save(total.target, data)
            print(f"\nFINDING in {total.target}: {path}\n  input: {data[:200]!r}\n{text}")
    print(f"\nwall time {wall:.1f} s on {jobs} process(es); {f'FINDINGS: {found}' if found else 'no findings'}")
    return 1 if found else 0


# ----------------------------------------------------------------------------- atheris


def _libfuzzer_dict(tokens: list[bytes], path: Path) -> None:
    lines = ['"' + "".join(f"\\x{b:02x}" for b in token) + '"' for token in tokens if token]
    path.write_text("\n".join(lines) + "\n")


def atheris_child(name: str, runs: int, max_time: float | None, seed: int, max_len: int | None) -> None:
    """Runs inside its own process: libFuzzer exits it when done or on a finding."""
    _setup_path()
    import atheris

    with atheris.instrument_imports(include=["patera", "targets"]):
        from targets import TARGETS
    target = TARGETS[name]
    work = Path(tempfile.mkdtemp(prefix=f"patera-fuzz-{name}-"))
    corpus = work / "corpus"
    corpus.mkdir()
    for i, data in enumerate(target.seeds):
        (corpus / f"seed{i}").write_bytes(data)
    _libfuzzer_dict(target.tokens, work / "tokens.dict")
    FINDINGS.mkdir(exist_ok=True)
    argv = [
        sys.argv[0],
        f"-runs={runs}",
        f"-seed={seed + 1}",
        f"-max_len={max_len or target.max_len}",
        f"-dict={work / 'tokens.dict'}",
        f"-artifact_prefix={FINDINGS}/{name}-",
        "-timeout=10",
        "-rss_limit_mb=2048",
        "-print_final_stats=1",
        str(corpus),
    ]
    if max_time:
        argv.insert(2, f"-max_total_time={int(max_time)}")

    def one(data: bytes) -> None:
        target.check(data)

    atheris.Setup(argv, one)
    atheris.Fuzz()


def run_atheris(names: list[str], runs: int, max_time: float | None, jobs: int, seed: int, max_len: int | None) -> int:
    started = time.perf_counter()
    pending = list(names)
    running: dict[str, tuple[subprocess.Popen[str], float, Path]] = {}
    status = 0
    logs = Path(tempfile.mkdtemp(prefix="patera-fuzz-logs-"))
    rows: list[str] = []
    while pending or running:
        while pending and len(running) < jobs:
            name = pending.pop(0)
            log = logs / f"{name}.log"
            cmd = [
                sys.executable,
                str(Path(__file__)),
                "--atheris-child",
                name,
                "--runs",
                str(runs),
                "--seed",
                str(seed),
            ]
            if max_len:
                cmd += ["--max-len", str(max_len)]
            if max_time:
                cmd += ["--max-time", str(max_time)]
            proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True)
            running[name] = (proc, time.perf_counter(), log)
        time.sleep(0.5)
        for name, (proc, t0, log) in list(running.items()):
            if proc.poll() is None:
                continue
            del running[name]
            took = time.perf_counter() - t0
            text = log.read_text(errors="replace")
            done = re.search(r"Done (\d+) runs in (\d+) second", text)
            count = int(done.group(1)) if done else -1
            cov = re.findall(r"cov: (\d+) ft: (\d+)", text)
            row = f"{name:<15} {count:>11,} inputs  {took:8.1f} s  rc={proc.returncode}"
            if cov:
                row += f"  cov={cov[-1][0]} ft={cov[-1][1]}"
            rows.append(row)
            print(row, flush=True)
            if proc.returncode != 0 or not done:
                status = 1
                print(f"FINDING in {name} (log {log}):\n" + text[-4000:], flush=True)
    print()
    print("\n".join(rows))
    print(f"\nwall time {time.perf_counter() - started:.1f} s; {'FINDINGS' if status else 'no findings'}")
    return status


# ----------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    _setup_path()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", help=f"subset of: {', '.join(TARGET_NAMES)} (default: all)")
    parser.add_argument("--engine", choices=("builtin", "atheris"), default="builtin")
    parser.add_argument("--runs", type=int, default=1_000_000, help="inputs per target (default 1,000,000)")
    parser.add_argument(
        "--max-time",
        type=float,
        default=None,
        help="time bound in seconds: the whole run (builtin), each target (atheris)",
    )
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-len", type=int, default=None, help="largest input in bytes (default: per target)")
    parser.add_argument("--replay", type=Path, nargs="+", help="run saved inputs through the target(s) and exit")
    parser.add_argument("--atheris-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.atheris_child:
        atheris_child(args.atheris_child, args.runs, args.max_time, args.seed, args.max_len)
        return 0  # not reached: libFuzzer exits the process
    # NOTE: imported only now, so an atheris child can instrument patera on its first import.
    from targets import TARGETS

    names = args.targets or list(TARGETS)
    unknown = [name for name in names if name not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s): {', '.join(unknown)}")
    if args.replay:
        status = 0
        for path in args.replay:
            data = path.read_bytes()
            for name in names if args.targets else [n for n in TARGETS if path.name.startswith(n)] or names:
                try:
                    TARGETS[name].check(data)
                    print(f"{path} {name}: ok")
                except Exception:  # noqa: BLE001 - any exception is a failed reproduction
                    status = 1
                    print(f"{path} {name}: FAILED\n{traceback.format_exc()}")
        return status
    print(f"engine={args.engine} runs={args.runs:,} per target, jobs={args.jobs}, max_time={args.max_time}", flush=True)
    if args.engine == "atheris":
        return run_atheris(names, args.runs, args.max_time, args.jobs, args.seed, args.max_len)
    return run_builtin(names, args.runs, args.max_time, args.jobs, args.seed, args.max_len)


if __name__ == "__main__":
    sys.exit(main())
