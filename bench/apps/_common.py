"""What every benchmarked app shares: payloads, the body model and the filler routes.

Endpoints (identical in every framework):

- ``GET /plaintext``        → ``Hello, World!`` as ``text/plain``
- ``GET /json``             → ``{"message": "Hello, World!"}``
- ``GET /users/{id:int}``   → ``{"id": id}``, registered *after* the filler routes
- ``POST /items``           → JSON body validated by :class:`Item`, echoed back
- ``POST /upload``          → multipart, one file field ``file`` read fully, ``{"size": n}``
- ``POST /form``            → urlencoded form parsed by the framework, ``{"fields": n}``
- anything else             → the framework's own 404

Each module also has ``build_upload()``: an app with the one route ``POST /upload``
that reads the file in ``READ_CHUNK`` pieces (as a handler saving it would) and
answers ``{"size": n}``; ``bench/upload_large.py`` sends it 100 MiB.
"""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ("FORM_FIELDS", "GREETING", "PLAINTEXT", "READ_CHUNK", "FillerRoute", "Item", "filler_routes")

PLAINTEXT = "Hello, World!"
GREETING = {"message": "Hello, World!"}
#: fields of the urlencoded form scenario (above the 1000-field default limit of some frameworks)
FORM_FIELDS = 10_000
#: what the large-upload handlers read per call
READ_CHUNK = 1024 * 1024


class Item(BaseModel):
    """The POST body: a few scalar fields and a list, as a typical create call."""

    name: str
    price: float
    quantity: int = 1
    tags: list[str] = []


class FillerRoute:
    """One route that is never hit: ``parts`` alternate literal text and int/str variables."""

    __slots__ = ("method", "parts")

    def __init__(self, method: str, parts: tuple[tuple[str, str], ...]) -> None:
        self.method = method
        self.parts = parts  # ("lit", "/svc3/items/") or ("int"|"str", "item_id")

    def render(self, style: str) -> str:
        """The path in a framework's syntax: ``werkzeug`` (``<int:x>``) or ``brace`` (``{x:int}``)."""
        out = []
        for kind, text in self.parts:
            if kind == "lit":
                out.append(text)
            elif style == "werkzeug":
                out.append(f"<int:{text}>" if kind == "int" else f"<{text}>")
            elif style == "brace-typed":
                out.append(f"{{{text}:int}}" if kind == "int" else f"{{{text}:str}}")
            else:  # plain braces, types from the handler signature (FastAPI)
                out.append(f"{{{text}}}")
        return "".join(out)

    @property
    def variables(self) -> list[tuple[str, str]]:
        return [(kind, text) for kind, text in self.parts if kind != "lit"]


def filler_routes(count: int) -> list[FillerRoute]:
    """``count`` routes under other prefixes: a quarter static, the rest dynamic, mixed methods.

    Several share the ``/users`` prefix so a router cannot reject them on the first segment.
    """
    out: list[FillerRoute] = []
    for i in range(count):
        kind = i % 4
        if kind == 0:
            out.append(FillerRoute("GET", (("lit", f"/svc{i}/status"),)))
        elif kind == 1:
            out.append(FillerRoute("GET", (("lit", f"/svc{i}/items/"), ("int", "item_id"))))
        elif kind == 2:
            out.append(FillerRoute("POST", (("lit", f"/api/v{i}/"), ("str", "name"), ("lit", "/detail"))))
        else:
            out.append(FillerRoute("GET", (("lit", f"/users/x{i}/"), ("int", "item_id"), ("lit", "/posts"))))
    return out
