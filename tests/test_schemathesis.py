"""Property-based check of the generated OpenAPI document against the live app (SPEC §12).

Schemathesis reads ``specs.json`` from a small CRUD app served in-process over ASGI, generates
requests from it and checks that no response is a 5xx and every response conforms to the
document (status codes, content types, body schemas).
"""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from pydantic import BaseModel, Field  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from patera import HttpStatus, MediaType, Request, Response  # noqa: E402
from patera.controller import (  # noqa: E402
    Controller,
    Descriptor,
    consumes,
    delete,
    get,
    open_api_docs,
    patch,
    path,
    post,
    produces,
    put,
)
from patera.exceptions import NotFound  # noqa: E402

from .conftest import build_app  # noqa: E402


class Tag(BaseModel):
    label: str = Field(min_length=1, max_length=20)


class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=50)
    body: str = ""
    tags: list[Tag] = []


class Note(NoteIn):
    id: int


class NotePatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=50)
    body: str | None = None


class Problem(BaseModel):
    status: str
    message: str


class Login(BaseModel):
    username: str = Field(min_length=1)
    remember: bool = False


MISSING = Descriptor(status=HttpStatus.NOT_FOUND, description="No such note", body=Problem)


@path("/notes", tags=["Notes"])
class Notes(Controller):
    """A CRUD resource kept in memory on the controller instance."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store: dict[int, Note] = {}
        self.next_id = 1

    def _get(self, note_id: int) -> Note:
        note = self.store.get(note_id)
        if note is None:
            raise NotFound("Note not found")
        return note

    @get("/")
    async def list_notes(self, req: Request) -> Response[list[Note]]:
        """All notes."""
        return req.response.json(list(self.store.values()))

    @post("/")
    @consumes(MediaType.APPLICATION_JSON)
    @produces(MediaType.APPLICATION_JSON, HttpStatus.CREATED)
    async def create(self, req: Request, data: NoteIn) -> Response[Note]:
        """Create a note."""
        note = Note(id=self.next_id, **data.model_dump())
        self.store[note.id] = note
        self.next_id += 1
        return req.response.json(note)

    @get("/<int:note_id>")
    @open_api_docs(MISSING)
    async def read(self, req: Request, note_id: int) -> Response[Note]:
        return req.response.json(self._get(note_id))

    @put("/<int:note_id>")
    @consumes(MediaType.APPLICATION_JSON)
    @open_api_docs(MISSING)
    async def replace(self, req: Request, note_id: int, data: NoteIn) -> Response[Note]:
        self._get(note_id)
        note = self.store[note_id] = Note(id=note_id, **data.model_dump())
        return req.response.json(note)

    @patch("/<int:note_id>")
    @consumes(MediaType.APPLICATION_JSON)
    @open_api_docs(MISSING)
    async def update(self, req: Request, note_id: int, data: NotePatch) -> Response[Note]:
        note = self._get(note_id)
        changes = data.model_dump(exclude_none=True)
        note = self.store[note_id] = note.model_copy(update=changes)
        return req.response.json(note)

    @delete("/<int:note_id>")
    @produces(MediaType.NO_CONTENT, HttpStatus.NO_CONTENT)
    @open_api_docs(MISSING)
    async def remove(self, req: Request, note_id: int) -> Response:
        self._get(note_id)
        del self.store[note_id]
        return req.response.no_content()

    @get("/by-tag/<string(maxlength=20):label>")
    async def by_tag(self, req: Request, label: str) -> Response[list[Note]]:
        return req.response.json([n for n in self.store.values() if any(t.label == label for t in n.tags)])

    @get("/kind/<any(draft, published):kind>")
    @produces(MediaType.TEXT_PLAIN)
    async def kind(self, req: Request, kind: str) -> Response[str]:
        return req.response.text(kind)


@path("/session")
class Session(Controller):
    @post("/login")
    @consumes(MediaType.APPLICATION_X_WWW_FORM_URLENCODED)
    async def login(self, req: Request, form: Login) -> Response[dict[str, str]]:
        return req.response.json({"user": form.username})


application = build_app(Notes, Session, DEBUG=True, OPEN_API=True)
# NOTE: coverage/stateful phases multiply the run time; fuzzing + examples stay under a few seconds.
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "generation": {"max-examples": 15, "deterministic": True, "database": "none"},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_asgi("/openapi/specs.json", application, config=CONFIG)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_document(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)
