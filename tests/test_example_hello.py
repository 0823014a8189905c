"""The README quickstart (examples/hello) in-process and under the README's run command."""

from __future__ import annotations

import sys
from pathlib import Path

from examples.hello.app import application
from patera.testing import PateraTestClient

from .test_serve import server


async def test_hello_in_process() -> None:
    async with PateraTestClient(application) as client:
        r = await client.get("/api/hello/world")
        assert (r.status_code, r.json()) == (200, {"message": "Hello, world!"})
        r = await client.post("/api/greetings", json={"name": "Ana"})
        assert (r.status_code, r.json()) == (201, {"name": "Ana", "excited": False})
        assert (await client.post("/api/greetings", json={"excited": True})).status_code == 422
        assert (
            await client.post("/api/greetings", content=b"{", headers={"content-type": "application/json"})
        ).status_code == 400
        assert (
            await client.post("/api/greetings", content=b"{}", headers={"content-type": "text/plain"})
        ).status_code == 415


def test_readme_run_command_serves_hello(tmp_path: Path) -> None:
    def args(port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "patera.cli",
            "run",
            "--app",
            "examples.hello.app:application",
            "--port",
            str(port),
        ]

    with server(args, tmp_path / "server.log") as client:
        assert client.get("/api/hello/world").json() == {"message": "Hello, world!"}
