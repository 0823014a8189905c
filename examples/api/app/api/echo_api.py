"""A WebSocket echo, written the README way (raw ASGI messages)."""

from __future__ import annotations

from patera import Request
from patera.controller import Controller, path, socket


@path("/api/v1")
class EchoApi(Controller):
    @socket("/echo")
    async def echo(self, req: Request) -> None:
        """Send every text message back, prefixed with ``echo: ``."""
        await req.accept()
        while True:
            message = await req.receive()
            if message["type"] == "websocket.disconnect":
                break
            if message.get("text") is not None:
                await req.res.send({"type": "websocket.send", "text": "echo: " + message["text"]})
            elif message.get("bytes") is not None:
                await req.res.send({"type": "websocket.send", "bytes": message["bytes"]})
