"""The in-house ``.env`` reader (SPEC §1.3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger

from patera._dotenv import parse_dotenv, read_dotenv


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    """Collect loguru WARNING messages emitted while the test runs."""
    seen: list[str] = []
    sink_id = logger.add(lambda msg: seen.append(msg.record["message"]), level="WARNING")
    yield seen
    logger.remove(sink_id)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("KEY=value", {"KEY": "value"}),
        ("export KEY=value", {"KEY": "value"}),
        ("  KEY  =  value  ", {"KEY": "value"}),
        ("KEY=", {"KEY": ""}),
        ("\n\n# a comment\n   # indented comment\nKEY=v\n", {"KEY": "v"}),
        ("KEY=value # trailing comment", {"KEY": "value"}),
        ("KEY=value\t# tab comment", {"KEY": "value"}),
        ("KEY= # only a comment", {"KEY": ""}),
        ("URL=http://host/#frag", {"URL": "http://host/#frag"}),
        ("KEY=two words", {"KEY": "two words"}),
        ("KEY='single # not a comment'", {"KEY": "single # not a comment"}),
        (r"KEY='literal \n stays'", {"KEY": r"literal \n stays"}),
        ("KEY='$HOME'", {"KEY": "$HOME"}),
        ("KEY=${HOME}", {"KEY": "${HOME}"}),
        ('KEY="$HOME"', {"KEY": "$HOME"}),
        (r'KEY="a\nb"', {"KEY": "a\nb"}),
        (r'KEY="a\tb"', {"KEY": "a\tb"}),
        (r'KEY="say \"hi\""', {"KEY": 'say "hi"'}),
        (r'KEY="back\\slash"', {"KEY": "back\\slash"}),
        (r'KEY="unknown \x escape"', {"KEY": r"unknown \x escape"}),
        ('KEY="quoted" # comment', {"KEY": "quoted"}),
        ('KEY=" padded "', {"KEY": " padded "}),
        ('KEY="line1\nline2"', {"KEY": "line1\nline2"}),
        ("KEY=a=b=c", {"KEY": "a=b=c"}),
        ("KEY=first\nKEY=second", {"KEY": "second"}),
        ("lower_case=1", {"lower_case": "1"}),
        ("\ufeffKEY=bom", {"KEY": "bom"}),
        ("KEY=crlf\r\nOTHER=2\r\n", {"KEY": "crlf", "OTHER": "2"}),
        ("exported=1", {"exported": "1"}),
    ],
    ids=[
        "plain",
        "export-prefix",
        "whitespace-trimmed",
        "empty-value",
        "blank-and-comment-lines",
        "inline-comment",
        "inline-comment-after-tab",
        "comment-only-value",
        "hash-without-space-kept",
        "inner-spaces-kept",
        "single-quoted-hash-kept",
        "single-quoted-no-escapes",
        "single-quoted-no-interpolation",
        "unquoted-no-interpolation",
        "double-quoted-no-interpolation",
        "double-escape-newline",
        "double-escape-tab",
        "double-escape-quote",
        "double-escape-backslash",
        "double-unknown-escape-kept",
        "double-quoted-then-comment",
        "double-quoted-keeps-padding",
        "double-quoted-multiline",
        "equals-in-value",
        "later-assignment-wins",
        "lower-case-key",
        "utf8-bom",
        "crlf-line-endings",
        "name-starting-with-export",
    ],
)
def test_parse(text: str, expected: dict[str, str]) -> None:
    assert parse_dotenv(text) == expected


@pytest.mark.parametrize(
    ("text", "bad_line"),
    [
        ("GOOD=1\nno equals sign\nOTHER=2", 2),
        ("GOOD=1\n1BAD=x\nOTHER=2", 2),
        ("GOOD=1\nBAD KEY=x\nOTHER=2", 2),
        ("GOOD=1\nBAD='a'b\nOTHER=2", 2),
        ("GOOD=1\nOTHER=2\nBAD=\"never closed", 3),
        ("GOOD=1\n=novalue\nOTHER=2", 2),
    ],
    ids=["missing-equals", "digit-first-key", "space-in-key", "text-after-quote", "unterminated-quote", "empty-key"],
)
def test_malformed_lines_are_skipped_with_warning(
    text: str, bad_line: int, warnings: list[str]
) -> None:
    assert parse_dotenv(text, source="app.env") == {"GOOD": "1", "OTHER": "2"}
    assert len(warnings) == 1
    assert f"line {bad_line}" in warnings[0]
    assert "app.env" in warnings[0]


def test_read_missing_file_is_empty(tmp_path: Path) -> None:
    assert read_dotenv(tmp_path / "absent.env") == {}


def test_read_file_with_encoding(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("NAME=čevapčići\n", encoding="iso8859-2")
    assert read_dotenv(path, encoding="iso8859-2") == {"NAME": "čevapčići"}


def test_read_file_names_path_in_warning(tmp_path: Path, warnings: list[str]) -> None:
    path = tmp_path / "broken.env"
    path.write_text("oops\n", encoding="utf-8")
    assert read_dotenv(path) == {}
    assert str(path) in warnings[0]
    assert "line 1" in warnings[0]
