"""In-process ASGI benchmark: patera (bare and README style) against raw ASGI, Starlette, Litestar, Falcon and FastAPI.

No sockets and no server: each app is called directly with a prepared HTTP scope,
so the figures are framework overhead only (routing, request/response objects,
parsing, serialisation). Besides requests/s it prints each framework's overhead
over raw ASGI per request (``1/fw - 1/raw``, µs) and the overhead ratios against
both patera styles. See ``bench/README.md`` for what is measured and how to read it.

    python bench/run.py [--quick] [--only patera,patera-readme,raw,falcon] [--rounds N]

Peers that are not installed are skipped; ``bash bench/setup_venv.sh`` creates
``bench/.venv`` with all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.apps._common import FORM_FIELDS

__all__ = ("main",)

# Column order. The subjects are the two patera styles; overheads are taken over "raw".
FRAMEWORKS = {
    "patera": "bench.apps.patera_app",
    "patera-readme": "bench.apps.patera_readme_app",
    "raw": "bench.apps.raw_app",
    "starlette": "bench.apps.starlette_app",
    "litestar": "bench.apps.litestar_app",
    "falcon": "bench.apps.falcon_app",
    "fastapi": "bench.apps.fastapi_app",
}
SUBJECTS = ("patera-readme", "patera")
PEERS = ("starlette", "litestar", "falcon", "fastapi")
FLOOR = "raw"
FILLER = 50
SCALING_SIZES = (10, 100, 1000)
UPLOAD_SIZE = 256 * 1024
CHUNK = 64 * 1024  # what a server typically hands over per http.request message
DISCONNECT = {"type": "http.disconnect"}
# NOTE: CPU time of the process by default: on a shared machine wall time mostly measures
# the neighbours. Work the apps hand to the thread pool is still counted (all threads).
CLOCK: Callable[[], float] = time.process_time


# ---------------------------------------------------------------------- scenarios


@dataclass
class Scenario:
    """One request, sent identically to every framework."""

    key: str
    label: str
    method: str
    path: str
    status: int
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    check: Callable[[bytes], bool] = lambda body: True


def _json_is(expected: Any) -> Callable[[bytes], bool]:
    return lambda body: json.loads(body) == expected


def _multipart(size: int) -> tuple[bytes, bytes]:
    """A form with one file field ``file`` of ``size`` pseudo-random bytes; (content type, body)."""
    boundary = "----patera-bench-7d1f0c2b9e4a4b55"
    content = random.Random(0).randbytes(size)
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="blob.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}".encode(), body


def _urlencoded(count: int) -> bytes:
    """``count`` distinct fields, short names and values, as a large HTML form sends them."""
    return "&".join(f"field{i}=value+{i}%21" for i in range(count)).encode()


def scenarios() -> list[Scenario]:
    item = {"name": "widget", "price": 9.99, "quantity": 3, "tags": ["a", "b", "c"]}
    item_body = json.dumps(item).encode()
    form_type, form_body = _multipart(UPLOAD_SIZE)
    urlencoded = _urlencoded(FORM_FIELDS)
    return [
        Scenario("plaintext", "GET plaintext", "GET", "/plaintext", 200, check=lambda b: b == b"Hello, World!"),
        Scenario("json", "GET JSON", "GET", "/json", 200, check=_json_is({"message": "Hello, World!"})),
        Scenario("user", f"GET /users/<id> (+{FILLER} routes)", "GET", "/users/42", 200, check=_json_is({"id": 42})),
        Scenario(
            "post_json", "POST JSON (pydantic)", "POST", "/items", 200,
            headers=[(b"content-type", b"application/json")], body=item_body, check=_json_is(item),
        ),
        Scenario(
            "upload", "multipart 256 KiB upload", "POST", "/upload", 200,
            headers=[(b"content-type", form_type)], body=form_body, check=_json_is({"size": UPLOAD_SIZE}),
        ),
        Scenario(
            "form", f"urlencoded form, {FORM_FIELDS:,} fields", "POST", "/form", 200,
            headers=[(b"content-type", b"application/x-www-form-urlencoded")], body=urlencoded,
            check=_json_is({"fields": FORM_FIELDS}),
        ),
        Scenario("not_found", "404", "GET", "/does/not/exist", 404),
    ]


# ---------------------------------------------------------------------- the driver


class Receiver:
    """``receive`` for one request: the body messages, then ``http.disconnect`` forever."""

    __slots__ = ("_messages",)

    def __init__(self, messages: tuple[dict[str, Any], ...]) -> None:
        self._messages = iter(messages)

    async def __call__(self) -> dict[str, Any]:
        return next(self._messages, DISCONNECT)


class CountingSend:
    """``send`` for timed batches: counts responses with the expected status."""

    __slots__ = ("bad", "expected", "good")

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.good = 0
        self.bad = 0

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            if message["status"] == self.expected:
                self.good += 1
            else:
                self.bad += 1


class CapturingSend:
    """``send`` for the correctness check before timing."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


class Case:
    """One framework × scenario: the scope template, body messages and a calibrated batch size."""

    def __init__(self, app: Any, scenario: Scenario) -> None:
        self.app = app
        self.scenario = scenario
        headers = [
            (b"host", b"bench.local"),
            (b"user-agent", b"patera-bench/1"),
            (b"accept", b"*/*"),
            *scenario.headers,
        ]
        if scenario.method in ("POST", "PUT", "PATCH"):
            headers.append((b"content-length", str(len(scenario.body)).encode()))
        path, _, query = scenario.path.partition("?")
        self.template: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": scenario.method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 51000),
            "server": ("127.0.0.1", 8000),
        }
        body = scenario.body
        chunks = [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)] or [b""]
        self.messages = tuple(
            {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
        )
        self.batch = 1

    async def check(self) -> str | None:
        """Send the request once; an error text when the answer is not the expected one."""
        sink = CapturingSend()
        try:
            await self.app({**self.template, "state": {}}, Receiver(self.messages), sink)
        except Exception as exc:  # noqa: BLE001 - reported, the case is skipped
            return f"raised {type(exc).__name__}: {exc}"
        if sink.status != self.scenario.status:
            return f"status {sink.status} (expected {self.scenario.status}): {sink.body[:200]!r}"
        try:
            ok = self.scenario.check(sink.body)
        except Exception:  # noqa: BLE001 - unparsable body
            ok = False
        return None if ok else f"unexpected body {sink.body[:200]!r}"

    async def run(self, count: int) -> float:
        """Seconds (of ``CLOCK``) taken by ``count`` sequential requests."""
        app, template, messages = self.app, self.template, self.messages
        send = CountingSend(self.scenario.status)
        clock = CLOCK
        gc.collect()
        started = clock()
        for _ in range(count):
            # NOTE: a fresh scope per request, as a server makes: frameworks cache parsed
            # headers/body in the scope ("state", "_litestar" keys...), so reuse would cheat.
            scope = template.copy()
            scope["state"] = {}
            await app(scope, Receiver(messages), send)
        elapsed = clock() - started
        if send.good != count:
            raise RuntimeError(f"{send.bad} of {count} responses had an unexpected status")
        return elapsed

    async def calibrate(self, target: float) -> None:
        """Pick a batch size that takes about ``target`` seconds (after a warm-up)."""
        count = 4  # NOTE: small: the 10,000-field form takes milliseconds per request
        while True:
            elapsed = await self.run(count)
            if elapsed >= target / 4 or count >= 1 << 22:
                break
            count *= 4
        self.batch = max(4, int(count * target / max(elapsed, 1e-9)))


# ---------------------------------------------------------------------- lifespan


class Lifespan:
    """Runs an app's lifespan protocol: startup before measuring, shutdown at the end."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self._task = asyncio.ensure_future(self.app(scope, self._inbox.get, self._outbox.put))
        await self._inbox.put({"type": "lifespan.startup"})
        message = await asyncio.wait_for(self._outbox.get(), 30)
        if message["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"lifespan startup failed: {message}")

    async def shutdown(self) -> None:
        if self._task is None:
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(self._outbox.get(), 30)
        finally:
            self._task.cancel()


# ---------------------------------------------------------------------- measuring


@dataclass
class Result:
    framework: str
    label: str
    samples: list[float] = field(default_factory=list)  # requests per second, one per round

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def spread(self) -> float:
        """Half the min–max range relative to the median (how noisy the rounds were)."""
        if len(self.samples) < 2:
            return 0.0
        return (max(self.samples) - min(self.samples)) / 2 / self.median


async def measure(
    cases: dict[tuple[str, str], Case], rounds: int, target: float, progress: str
) -> dict[tuple[str, str], Result]:
    """Calibrate each case, then run ``rounds`` interleaved rounds.

    Within a round the frameworks of one scenario run back to back, in an order shuffled
    each round: the batches a ratio compares are seconds apart, so a machine that speeds
    up or slows down between rounds (frequency, neighbours) moves both alike.
    """
    for case in cases.values():
        await case.calibrate(target)
    results = {key: Result(*key) for key in cases}
    groups: dict[str, list[tuple[str, str]]] = {}
    for key in cases:
        groups.setdefault(key[1], []).append(key)
    shuffle = random.Random(1).shuffle
    tty = sys.stderr.isatty()
    for index in range(rounds):
        if tty:
            print(f"\r  {progress}: round {index + 1}/{rounds}", end="", file=sys.stderr, flush=True)
        for keys in groups.values():
            order = list(keys)
            shuffle(order)
            for key in order:
                case = cases[key]
                elapsed = await case.run(case.batch)
                results[key].samples.append(case.batch / elapsed)
    if tty:
        print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)
    return results


def ratio(subject: Result, other: Result) -> float:
    """Median over rounds of the per-round ratio (both ran back to back in each round)."""
    return statistics.median(_round_ratios(subject, other))


def _round_ratios(subject: Result, other: Result) -> list[float]:
    return [a / b for a, b in zip(subject.samples, other.samples, strict=True)]


def overheads(result: Result, floor: Result) -> list[float]:
    """Per round: µs per request above the floor's, ``1/fw - 1/raw`` (both from the same round)."""
    return [1e6 / a - 1e6 / b for a, b in zip(result.samples, floor.samples, strict=True)]


def overhead_ratios(peer: Result, subject: Result, floor: Result) -> list[float]:
    """Per round: the peer's overhead divided by the subject's (above 1: the subject costs less).

    Rounds where the subject's overhead is not positive (it is within noise of the floor)
    have no ratio.
    """
    pairs = zip(overheads(peer, floor), overheads(subject, floor), strict=True)
    return [p / s for p, s in pairs if s > 0]


def _median_iqr(values: list[float], digits: int = 2) -> str:
    """The median and, with 4+ values, the interquartile range: ``2.10 (1.95-2.30)``."""
    if not values:
        return "-"
    if len(values) < 4:
        return f"{statistics.median(values):.{digits}f}"
    low, mid, high = statistics.quantiles(values, n=4)
    return f"{mid:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def _ratio_cell(subject: Result, other: Result) -> str:
    """The median per-round ratio and, with 4+ rounds, its interquartile range."""
    return _median_iqr(_round_ratios(subject, other))


# ---------------------------------------------------------------------- loading apps


def load_frameworks(selected: list[str]) -> dict[str, Any]:
    """Import each selected app module; missing frameworks are reported and skipped."""
    modules = {}
    for key in selected:
        try:
            modules[key] = importlib.import_module(FRAMEWORKS[key])
        except ImportError as exc:
            print(f"  skipping {key}: {exc}", file=sys.stderr)
    return modules


async def start_app(name: str, module: Any, extra: int, lifespans: list[Lifespan]) -> Any | None:
    try:
        app = module.build(extra)
        lifespan = Lifespan(app)
        await lifespan.startup()
    except Exception as exc:  # noqa: BLE001 - one broken peer must not stop the run
        print(f"  skipping {name} (+{extra} routes): {type(exc).__name__}: {exc}", file=sys.stderr)
        return None
    lifespans.append(lifespan)
    return app


# ---------------------------------------------------------------------- output


def _rate(value: float) -> str:
    if math.isnan(value):
        return "-"
    if value < 1000:
        return f"{value:,.1f}"
    return f"{value / 1000:,.1f}k" if value < 1e7 else f"{value / 1e6:,.1f}M"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs)

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def framework_table(results: dict[tuple[str, str], Result], names: dict[str, str], labels: list[str]) -> str:
    """Requests/s: the median over rounds and ``±`` half the min-max range."""
    present = [f for f in names if any(k[0] == f for k in results)]
    headers = ["scenario (req/s, median)", *(names[f] for f in present)]
    rows = []
    for label in labels:
        row = [label]
        for f in present:
            result = results.get((f, label))
            row.append(f"{_rate(result.median)} ±{result.spread:.0%}" if result else "-")
        rows.append(row)
    return _table(headers, rows)


def overhead_table(results: dict[tuple[str, str], Result], names: dict[str, str], labels: list[str]) -> str:
    """µs per request above raw ASGI (median of per-round ``1/fw - 1/raw``), and README-style ÷ bare."""
    present = [f for f in names if f != FLOOR and any(k[0] == f for k in results)]
    styles = all(s in present for s in SUBJECTS)
    headers = ["overhead over raw ASGI (µs/request)", *(names[f] for f in present)]
    if styles:
        headers.append("readme ÷ bare")
    rows = []
    for label in labels:
        floor = results.get((FLOOR, label))
        row = [label]
        for f in present:
            result = results.get((f, label))
            row.append(f"{statistics.median(overheads(result, floor)):.1f}" if result and floor else "-")
        if styles:
            readme, bare = (results.get((s, label)) for s in SUBJECTS)
            row.append(_median_iqr(overhead_ratios(readme, bare, floor)) if readme and bare and floor else "-")
        rows.append(row)
    return _table(headers, rows)


def overhead_ratio_table(
    results: dict[tuple[str, str], Result], names: dict[str, str], labels: list[str], subject: str
) -> str | None:
    """Each peer's overhead ÷ the subject's: median (interquartile range) of per-round ratios."""
    peers = [p for p in PEERS if p in names and any(k[0] == p for k in results)]
    if not peers or not any(k[0] == subject for k in results):
        return None
    headers = [f"peer overhead ÷ {names[subject]} overhead", *(names[p] for p in peers)]
    rows = []
    for label in labels:
        floor, mine = results.get((FLOOR, label)), results.get((subject, label))
        row = [label]
        for p in peers:
            other = results.get((p, label))
            row.append(_median_iqr(overhead_ratios(other, mine, floor)) if other and mine and floor else "-")
        rows.append(row)
    return _table(headers, rows)


def scaling_table(results: dict[tuple[str, str], Result], names: dict[str, str]) -> str:
    span = f"{SCALING_SIZES[-1]}/{SCALING_SIZES[0]}"
    headers = ["GET /users/<id> (req/s)", *(f"+{n} routes" for n in SCALING_SIZES), span]
    rows = []
    for f, name in names.items():
        cells = [results.get((f, f"+{n}")) for n in SCALING_SIZES]
        if not any(cells):
            continue
        first, last = cells[0], cells[-1]
        span_ratio = f"{ratio(last, first):.2f}" if first and last else "-"
        rows.append([name, *(f"{_rate(c.median)} ±{c.spread:.0%}" if c else "-" for c in cells), span_ratio])
    return _table(headers, rows)


# ---------------------------------------------------------------------- profiling


def load_average() -> str:
    """The 1/5/15-minute load averages: how busy the machine was while measuring."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


async def profile(scenario_key: str, seconds: float, framework: str = "patera-readme") -> None:
    """Profile one patera style alone on one scenario: pyinstrument if installed, else cProfile."""
    module = importlib.import_module(FRAMEWORKS[framework])
    app = module.build(FILLER)
    lifespan = Lifespan(app)
    await lifespan.startup()
    scenario = next(s for s in scenarios() if s.key == scenario_key)
    case = Case(app, scenario)
    problem = await case.check()
    if problem:
        raise SystemExit(f"patera {scenario.label}: {problem}")
    await case.calibrate(seconds)
    try:
        from pyinstrument import Profiler
    except ImportError:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        await case.run(case.batch)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    else:
        profiler = Profiler(interval=0.0001, async_mode="disabled")
        profiler.start()
        await case.run(case.batch)
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    await lifespan.shutdown()


# ---------------------------------------------------------------------- main


async def run(args: argparse.Namespace) -> dict[str, Any]:
    target = args.seconds or (0.02 if args.quick else 0.1)
    rounds = args.rounds or (3 if args.quick else 15)
    modules = load_frameworks(args.only)
    names = {key: module.NAME for key, module in modules.items()}
    versions = {module.NAME: module.version() for module in modules.values()}
    print(f"python {platform.python_version()} ({platform.python_implementation()}), {platform.machine()}; "
          + ", ".join(f"{n} {v}" for n, v in versions.items() if v != "-"))
    print(f"{rounds} interleaved rounds, ~{target:.2f}s {args.clock} time per batch; "
          "±x% = half the min-max range over rounds; ratios: median (interquartile range) of per-round ratios")
    print(f"at start: {load_average()}\n")
    lifespans: list[Lifespan] = []
    report: dict[str, Any] = {"python": platform.python_version(), "versions": versions, "groups": {}}

    selected = [s for s in scenarios() if not args.scenarios or s.key in args.scenarios]
    if selected:
        cases: dict[tuple[str, str], Case] = {}
        for key, module in modules.items():
            app = await start_app(key, module, FILLER, lifespans)
            if app is None:
                continue
            for scenario in selected:
                case = Case(app, scenario)
                problem = await case.check()
                if problem:
                    print(f"  skipping {names[key]} / {scenario.label}: {problem}", file=sys.stderr)
                    continue
                cases[(key, scenario.label)] = case
        results = await measure(cases, rounds, target, "frameworks")
        labels = [s.label for s in selected]
        print(framework_table(results, names, labels))
        if FLOOR in names:
            print()
            print(overhead_table(results, names, labels))
            for subject in SUBJECTS:
                table = overhead_ratio_table(results, names, labels, subject) if subject in names else None
                if table:
                    print()
                    print(table)
        report["groups"]["frameworks"] = {f"{k[0]}|{k[1]}": r.samples for k, r in results.items()}

    if not args.no_scaling:
        user = next(s for s in scenarios() if s.key == "user")
        scaling_keys = [k for k in modules if k != FLOOR and (args.scaling_peers or k in SUBJECTS)]
        cases = {}
        for key in scaling_keys:
            for size in SCALING_SIZES:
                app = await start_app(key, modules[key], size, lifespans)
                if app is None:
                    continue
                case = Case(app, user)
                problem = await case.check()
                if problem:
                    print(f"  skipping {names[key]} +{size}: {problem}", file=sys.stderr)
                    continue
                cases[(key, f"+{size}")] = case
        if cases:
            results = await measure(cases, rounds, target, "routing scaling")
            print()
            print(scaling_table(results, names))
            report["groups"]["scaling"] = {f"{k[0]}|{k[1]}": r.samples for k, r in results.items()}

    for lifespan in lifespans:
        await lifespan.shutdown()
    print(f"\nat end: {load_average()}")
    report["load_average_end"] = load_average()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short batches and 3 rounds (CI smoke test)")
    parser.add_argument("--only", type=lambda s: [x.strip().lower() for x in s.split(",") if x.strip()],
                        default=list(FRAMEWORKS), help=f"comma-separated subset of {','.join(FRAMEWORKS)}")
    parser.add_argument("--rounds", type=int, default=0, help="interleaved rounds (default 15, --quick 3)")
    parser.add_argument("--seconds", type=float, default=0.0,
                        help="target duration of one batch (default 0.1, --quick 0.02)")
    parser.add_argument("--scenarios", type=lambda s: [x.strip() for x in s.split(",")], default=None,
                        help="subset of " + ",".join(s.key for s in scenarios()))
    parser.add_argument("--no-scaling", action="store_true", help="skip the routing-scaling group")
    parser.add_argument("--scaling-peers", action="store_true", help="also run the routing-scaling group for the peers")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="cpu: process CPU time (default, robust on a busy machine); wall: perf_counter")
    parser.add_argument("--json", metavar="PATH", help="also write the raw samples as JSON")
    parser.add_argument("--profile", metavar="SCENARIO", help="profile patera on one scenario instead of comparing")
    parser.add_argument("--style", choices=("readme", "bare"), default="readme",
                        help="which patera style --profile profiles (default readme)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.only if name not in FRAMEWORKS]
    if unknown:
        parser.error(f"unknown framework(s) {', '.join(unknown)}; choose from {', '.join(FRAMEWORKS)}")
    keys = [s.key for s in scenarios()]
    unknown = [key for key in (args.scenarios or []) + ([args.profile] if args.profile else []) if key not in keys]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(keys)}")
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.profile:
        asyncio.run(profile(args.profile, (args.seconds or 0.1) * 4, "patera-readme" if args.style == "readme" else "patera"))
        return 0
    report = asyncio.run(run(args))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
