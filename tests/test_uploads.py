"""UploadedFile: file-like API, spooling, pydantic integration (SPEC §4.2)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from patera.uploads import UploadedFile


def make(data: bytes = b"hello world", **kw: object) -> UploadedFile:
    return UploadedFile(data, "hello.txt", "text/plain", {"Content-Type": "text/plain"}, **kw)  # type: ignore[arg-type]


def test_attributes() -> None:
    f = make()
    assert (f.filename, f.content_type, f.size, f.headers) == (
        "hello.txt",
        "text/plain",
        11,
        {"content-type": "text/plain"},
    )
    assert UploadedFile(b"", "").content_type == "application/octet-stream"
    assert "hello.txt" in repr(f)


@pytest.mark.parametrize(
    ("filename", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\me\\file1.png", "file1.png"),
        ("../../etc/passwd", "passwd"),
        ("dir/..hidden", "hidden"),
        ("...", ""),
        ("", ""),
        ("a\x00b\x1fc\x7fd\r\n.txt", "abcd.txt"),
        ("/", ""),
        ("naïve €.txt", "naïve €.txt"),
    ],
)
def test_safe_filename(filename: str, safe: str) -> None:
    assert UploadedFile(b"", filename).safe_filename == safe


def test_file_like_api(tmp_path: Path) -> None:
    f = make()
    assert f.tell() == 0
    assert f.read(5) == b"hello"
    assert f.tell() == 5
    assert f.read() == b" world"
    assert f.seek(-5, io.SEEK_END) == 6
    assert f.read() == b"world"
    f.seek(3)
    assert f.get_stream().read() == b"hello world"
    target = tmp_path / "out.bin"
    f.save(target)
    assert target.read_bytes() == b"hello world"
    assert f.tell() == 3  # position restored
    buf = io.BytesIO()
    f.save(buf)
    assert buf.getvalue() == b"hello world" and f.tell() == 3
    assert f.stream.read() == b"lo world"
    f.close()
    assert f.closed and f.stream.closed


async def test_async_api(tmp_path: Path) -> None:
    f = make()
    assert await f.aread(5) == b"hello"
    await f.asave(tmp_path / "x")
    assert (tmp_path / "x").read_bytes() == b"hello world"
    assert f.tell() == 5


def test_spooling_rollover_and_close_deletes() -> None:
    f = UploadedFile(None, "big.bin", spool_max_size=10)
    f._append([b"12345"])
    assert f.in_memory
    f._append([b"67890", b"abc"], finish=True)
    assert not f.in_memory and f.size == 13 and f.tell() == 0
    assert f.read() == b"1234567890abc"
    assert f.get_stream().getvalue() == b"1234567890abc"
    spooled = f.stream
    f.close()
    assert spooled.closed
    with pytest.raises(ValueError):
        f._append([b"x"])


@pytest.mark.parametrize("initial", [None, b"abc"], ids=["parser-made", "created-with-content"])
def test_in_memory_appends_keep_order_and_start_at_zero(initial: bytes | None) -> None:
    f = UploadedFile(initial, "small.bin")
    f._append([b"de"])
    f._append([b"f", b"gh"], finish=True)
    expected = (initial or b"") + b"defgh"
    assert f.in_memory and f.size == len(expected) and f.tell() == 0
    assert f.read() == expected
    f.seek(1)
    assert f.read(2) == expected[1:3]


def test_wraps_existing_stream_and_measures_it() -> None:
    stream = io.BytesIO(b"abcdef")
    stream.seek(2)
    f = UploadedFile(stream, "s.bin")
    assert f.size == 6 and f.tell() == 2
    with UploadedFile(b"x") as g:
        assert g.read() == b"x"
    assert g.closed


class Form(BaseModel):
    title: str
    attachment: UploadedFile
    extras: list[UploadedFile] = []


def test_pydantic_accepts_uploaded_file_mapping_and_tuple() -> None:
    upload = make()
    form = Form(
        title="t",
        attachment=upload,
        extras=[
            {"filename": "a.bin", "content": b"\x00\x01"},
            {"filename": "b.txt", "content": base64.b64encode(b"text").decode(), "content_type": "text/plain"},
            ("c.txt", b"ccc"),
            ("d.txt", b"dd", "text/markdown"),
        ],
    )
    assert form.attachment is upload
    got = [(f.filename, f.content_type, f.read()) for f in form.extras]
    assert got == [
        ("a.bin", "application/octet-stream", b"\x00\x01"),
        ("b.txt", "text/plain", b"text"),
        ("c.txt", "application/octet-stream", b"ccc"),
        ("d.txt", "text/markdown", b"dd"),
    ]


@pytest.mark.parametrize(
    "bad",
    [
        42,
        "just a string",
        {"filename": "x"},
        {"filename": 1, "content": b""},
        {"filename": "x", "content": "!!notb64"},
        ("a",),
    ],
)
def test_pydantic_rejects_other_values(bad: object) -> None:
    with pytest.raises(ValidationError):
        Form(title="t", attachment=bad)  # type: ignore[arg-type]


def test_pydantic_serialisation_and_json_input() -> None:
    form = Form.model_validate_json(
        '{"title": "t", "attachment": {"filename": "j.txt", "content": "aGk=", "content_type": "text/plain"}}'
    )
    assert form.attachment.read() == b"hi"
    summary = {"filename": "j.txt", "content_type": "text/plain", "size": 2}
    assert form.model_dump() == {"title": "t", "attachment": summary, "extras": []}
    assert (
        Form.model_validate(form.model_dump(exclude={"attachment"}) | {"attachment": form.attachment}).attachment.size
        == 2
    )
    assert '"attachment":{"filename":"j.txt","content_type":"text/plain","size":2}' in form.model_dump_json()


def test_pydantic_json_schema() -> None:
    schema = TypeAdapter(UploadedFile).json_schema()
    assert schema["type"] == "object" and schema["title"] == "UploadedFile"
    assert set(schema["properties"]) == {"filename", "content_type", "size"}
    model_schema = Form.model_json_schema()
    assert model_schema["properties"]["extras"]["items"]["title"] == "UploadedFile"


def test_public_export() -> None:
    import patera.uploads as mod

    assert mod.__all__ == ("UploadedFile",)
