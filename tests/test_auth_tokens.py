"""Signed cookies, password hashes and HS256 JWTs (SPEC §17.1): RFC vectors, PyJWT cross-checks, hostile input."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt as pyjwt
import pytest

from patera import Request, Response
from patera.auth import Authentication, AuthUtils, InvalidJWTError
from patera.auth._jwt import (
    b64url_decode,
    b64url_encode,
    decode_jwt,
    encode_jwt,
    sign_hs256,
)
from patera.controller import Controller, get, path
from patera.testing import PateraTestClient

from .conftest import build_app

SECRET = "unit-test-secret-of-32-bytes-ok!"

# RFC 7515 Appendix A.1 (also RFC 7519 §3.1): the HS256 example JWS and its key.
RFC_KEY = b64url_decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
RFC_HEADER = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
RFC_PAYLOAD = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
RFC_SIGNATURE = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_TOKEN = f"{RFC_HEADER}.{RFC_PAYLOAD}.{RFC_SIGNATURE}"
RFC_CLAIMS = {"iss": "joe", "exp": 1300819380, "http://example.com/is_root": True}


def segment(value: Any) -> str:
    return b64url_encode(json.dumps(value).encode())


def signed_raw(payload: bytes, header: bytes = b'{"alg":"HS256"}') -> str:
    """A correctly signed token whose segments hold these exact bytes."""
    signing_input = f"{b64url_encode(header)}.{b64url_encode(payload)}"
    return f"{signing_input}.{sign_hs256(signing_input.encode(), SECRET)}"


def forge(header: Any, payload: Any, key: str | bytes = SECRET) -> str:
    """A token with any header/payload, correctly signed with ``key``."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    return f"{signing_input}.{sign_hs256(signing_input.encode(), key)}"


# --------------------------------------------------------------------------- RFC vectors


def test_rfc7515_signature_vector() -> None:
    assert sign_hs256(f"{RFC_HEADER}.{RFC_PAYLOAD}".encode(), RFC_KEY) == RFC_SIGNATURE
    assert json.loads(b64url_decode(RFC_HEADER)) == {"typ": "JWT", "alg": "HS256"}


def test_rfc7519_example_validates_before_exp_and_not_after() -> None:
    assert decode_jwt(RFC_TOKEN, RFC_KEY, now=1300819379) == RFC_CLAIMS
    with pytest.raises(InvalidJWTError, match="expired"):
        decode_jwt(RFC_TOKEN, RFC_KEY, now=1300819380)
    assert decode_jwt(RFC_TOKEN, RFC_KEY, now=1300819389, leeway=10) == RFC_CLAIMS
    with pytest.raises(InvalidJWTError, match="signature"):
        decode_jwt(RFC_TOKEN, b"another key", now=1300819379)


# --------------------------------------------------------------------------- PyJWT as the oracle


def test_our_tokens_verify_with_pyjwt() -> None:
    token = AuthUtils.create_jwt_token({"sub": "42", "role": "admin"}, SECRET, expires_in=120)
    claims = pyjwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["sub"] == "42" and claims["role"] == "admin"
    assert claims["exp"] - claims["iat"] == 120 and abs(claims["iat"] - time.time()) < 5
    assert pyjwt.get_unverified_header(token)["alg"] == "HS256"


@pytest.mark.parametrize("extra", [{}, {"nbf": 0}, {"aud": "x", "nested": {"a": [1, 2.5, None]}}])
def test_pyjwt_tokens_verify_with_ours(extra: dict[str, Any]) -> None:
    now = int(time.time())
    token = pyjwt.encode({"sub": "7", "iat": now, "exp": now + 60, **extra}, SECRET, algorithm="HS256")
    assert AuthUtils.validate_jwt_token(token, SECRET) == {"sub": "7", "iat": now, "exp": now + 60, **extra}


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_hmac_algorithms_from_pyjwt_are_refused(algorithm: str) -> None:
    key = SECRET * 2  # PyJWT wants 64 bytes for HS512
    token = pyjwt.encode({"sub": "7", "exp": int(time.time()) + 60}, key, algorithm=algorithm)
    assert pyjwt.decode(token, key, algorithms=[algorithm])["sub"] == "7"
    assert AuthUtils.validate_jwt_token(token, key) is None


def test_unsigned_pyjwt_token_is_refused() -> None:
    token = pyjwt.encode({"sub": "7"}, None, algorithm="none")
    assert AuthUtils.validate_jwt_token(token, SECRET) is None


def test_expired_and_premature_agree_with_pyjwt() -> None:
    now = int(time.time())
    expired = pyjwt.encode({"exp": now - 30}, SECRET, algorithm="HS256")
    premature = pyjwt.encode({"nbf": now + 30}, SECRET, algorithm="HS256")
    for token in (expired, premature):
        with pytest.raises(pyjwt.InvalidTokenError):
            pyjwt.decode(token, SECRET, algorithms=["HS256"])
        assert AuthUtils.validate_jwt_token(token, SECRET) is None
        assert pyjwt.decode(token, SECRET, algorithms=["HS256"], leeway=60)
        assert AuthUtils.validate_jwt_token(token, SECRET, leeway=60) is not None


# --------------------------------------------------------------------------- refusals


def _valid() -> str:
    return AuthUtils.create_jwt_token({"sub": "1"}, SECRET)


def _swap(token: str, index: int, replacement: str) -> str:
    parts = token.split(".")
    parts[index] = replacement
    return ".".join(parts)


def _flip_first_char(text: str) -> str:
    # NOTE: not the last one: a 32-byte MAC's last base64url character carries 2 unused bits,
    # so e.g. "B" -> "A" can decode to the same MAC (a flaky test, 3 tokens in 64).
    return ("A" if text[0] != "A" else "B") + text[1:]


HOSTILE_TOKENS: dict[str, Any] = {
    "alg none, no signature": f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment({'sub': '1'})}.",
    "alg none, kept signature": lambda: _swap(_valid(), 0, segment({"alg": "none", "typ": "JWT"})),
    "alg None": forge({"alg": "None"}, {"sub": "1"}),
    "alg hs256 lower case": forge({"alg": "hs256"}, {"sub": "1"}),
    "alg HS512 signed with HS256": forge({"alg": "HS512"}, {"sub": "1"}),
    "alg RS256": forge({"alg": "RS256"}, {"sub": "1"}),
    "alg missing": forge({"typ": "JWT"}, {"sub": "1"}),
    "alg as list": forge({"alg": ["HS256"]}, {"sub": "1"}),
    "crit header": forge({"alg": "HS256", "crit": ["exp"]}, {"sub": "1"}),
    "tampered header": lambda: _swap(_valid(), 0, segment({"alg": "HS256", "typ": "JWT", "kid": "x"})),
    "tampered payload": lambda: _swap(_valid(), 1, segment({"sub": "2", "exp": 2**40})),
    "tampered signature": lambda: _swap(_valid(), 2, _flip_first_char(_valid().split(".")[2])),
    "wrong secret": lambda: AuthUtils.create_jwt_token({"sub": "1"}, "another secret"),
    "header not JSON": signed_raw(b'{"sub": "1"}', header=b"{alg"),
    "payload not JSON": signed_raw(b'not json'),
    "payload a list": forge({"alg": "HS256"}, [1, 2]),
    "payload NaN exp": signed_raw(b'{"exp": NaN}'),
    "payload invalid UTF-8": signed_raw(b'{"a": "' + bytes([0xFF]) + b'"}'),
    "exp a string": forge({"alg": "HS256"}, {"exp": "9999999999"}),
    "exp true": forge({"alg": "HS256"}, {"exp": True}),
    "exp infinite": signed_raw(b'{"exp": 1e400}'),
    "exp in the past": forge({"alg": "HS256"}, {"exp": 1}),
    "nbf in the future": forge({"alg": "HS256"}, {"nbf": 2**40}),
    "iat not a number": forge({"alg": "HS256"}, {"iat": "now"}),
    "invalid base64 chars": lambda: _valid().replace(".", ".*", 1),
    "padded base64": lambda: _swap(_valid(), 2, _valid().split(".")[2] + "="),
    "impossible base64 length": lambda: _swap(_valid(), 2, _valid().split(".")[2] + "A"),
    "two segments": lambda: ".".join(_valid().split(".")[:2]),
    "four segments": lambda: _valid() + ".x",
    "empty": "",
    "dots only": "..",
    "10,000 characters": "a" * 10_000,
    "10,000-character segments": "a" * 3334 + "." + "b" * 3333 + "." + "c" * 3331,
    "huge": "a." * 100_000,
    "non-ASCII": "é.é.é",
    "not a string": 12345,
    "None": None,
    "deep nesting": signed_raw(b"[" * 100_000),
    "huge integer digits": signed_raw(b'{"exp": 1' + b"0" * 5000 + b"}"),
}


@pytest.mark.parametrize("name", list(HOSTILE_TOKENS))
def test_hostile_tokens_are_refused(name: str) -> None:
    token = HOSTILE_TOKENS[name]
    token = token() if callable(token) else token
    assert AuthUtils.validate_jwt_token(token, SECRET) is None
    with pytest.raises(InvalidJWTError) as info:
        AuthUtils.validate_jwt_token(token, SECRET, raise_errors=True)
    assert info.value.status_code == 401


def test_huge_exp_is_a_valid_far_future_token() -> None:
    for exp in (2**63, 10**400):
        token = forge({"alg": "HS256", "typ": "JWT"}, {"sub": "1", "exp": exp})
        assert AuthUtils.validate_jwt_token(token, SECRET) == {"sub": "1", "exp": exp}


def test_create_refuses_non_dict_payload_and_missing_key() -> None:
    with pytest.raises(ValueError):
        AuthUtils.create_jwt_token(["sub"], SECRET)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        AuthUtils.create_jwt_token({"sub": "1"}, "")
    with pytest.raises(RuntimeError):
        AuthUtils.validate_jwt_token(_valid(), "")


def test_iat_and_exp_are_set_by_create() -> None:
    token = encode_jwt({"sub": "1", "iat": 5, "exp": 6}, SECRET, expires_in=10, now=1000)
    assert decode_jwt(token, SECRET, now=1005) == {"sub": "1", "iat": 1000, "exp": 1010}


# --------------------------------------------------------------------------- signed cookies


@pytest.mark.parametrize("value", [42, "42", "user@example.com", "a|b|c", "", "ünïcode"])
def test_signed_cookie_round_trip(value: str | int) -> None:
    signed = AuthUtils.create_signed_cookie_value(value, SECRET)
    digest = __import__("hmac").new(SECRET.encode(), str(value).encode(), hashlib.sha256).digest()
    mac = base64.urlsafe_b64encode(digest)
    assert signed == f"{value}|{mac.rstrip(b'=').decode()}"
    assert AuthUtils.decode_signed_cookie(signed, SECRET) == str(value)
    assert AuthUtils.decode_signed_cookie(signed, "other secret") is None
    assert AuthUtils.decode_signed_cookie("x" + signed, SECRET) is None


@pytest.mark.parametrize(
    "cookie",
    ["", "|", "42", "42|", "42|!!!", "42|" + "A" * 10_000, "x" * 10_000, None, 42, b"42|x", "42|\ud800", "\ud800|abc"],
)
def test_malformed_signed_cookies_are_none(cookie: Any) -> None:
    assert AuthUtils.decode_signed_cookie(cookie, SECRET) is None


# --------------------------------------------------------------------------- password hashes


def test_password_hash_format_default_iterations() -> None:
    hashed = AuthUtils.create_password_hash("correct horse")
    scheme, iterations, salt, digest = hashed.split("$")
    assert (scheme, iterations) == ("pbkdf2_sha256", "600000")
    assert len(base64.b64decode(salt)) == 16
    assert (
        digest
        == base64.b64encode(hashlib.pbkdf2_hmac("sha256", b"correct horse", base64.b64decode(salt), 600_000)).decode()
    )
    assert AuthUtils.check_password_hash("correct horse", hashed)
    assert not AuthUtils.check_password_hash("wrong horse", hashed)
    assert AuthUtils.create_password_hash("correct horse") != hashed  # fresh salt each time


@pytest.mark.parametrize(
    "hashed",
    [
        "",
        "plain",
        "pbkdf2_sha256$1000$c2FsdA==",
        "pbkdf2_sha256$abc$c2FsdA==$" + "A" * 44,
        "pbkdf2_sha256$0$c2FsdA==$" + "A" * 44,
        "pbkdf2_sha256$99999999999$c2FsdA==$" + "A" * 44,
        "pbkdf2_sha256$١٠٠٠$c2FsdA==$" + "A" * 44,
        "pbkdf2_sha256$1000$!!!$" + "A" * 44,
        "pbkdf2_sha256$1000$c2FsdA==$short",
        "pbkdf2_sha512$1000$c2FsdA==$" + "A" * 44,
        "$2b$12$invalidbcrypthash",
        "$argon2id$v=19$m=65536,t=3,p=4$abc$def",
        None,
    ],
)
def test_malformed_password_hashes_are_false(hashed: Any) -> None:
    assert AuthUtils.check_password_hash("pw", hashed) is False


def test_bcrypt_hashes_without_bcrypt_are_false_with_a_warning(caplog_loguru: list[str]) -> None:
    try:
        import bcrypt  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("bcrypt is installed here")
    from patera.auth import _signing

    _signing._bcrypt_warned = False
    assert AuthUtils.check_password_hash("pw", "$2b$12$" + "a" * 53) is False
    assert AuthUtils.check_password_hash("pw", "$2b$12$" + "a" * 53) is False
    assert sum("bcrypt" in line for line in caplog_loguru) == 1


# --------------------------------------------------------------------------- instance helpers and HTTP


class JwtAuth(Authentication):
    async def user_loader(self, req: Request) -> dict[str, Any] | None:
        header = req.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.validate_jwt_token(token)


jwt_auth = JwtAuth()


@path("/api")
class Me(Controller):
    @get("/me")
    @jwt_auth.login_required
    async def me(self, req: Request) -> Response[Any]:
        return req.response.json({"sub": req.user["sub"]})


@pytest.fixture
async def client() -> AsyncIterator[PateraTestClient]:
    app = build_app(
        Me, SECRET_KEY=SECRET, DEBUG=False, AUTHENTICATION={"JWT_LEEWAY": 5, "PASSWORD_HASH_ITERATIONS": 1000}
    )
    jwt_auth.init_app(app)
    async with PateraTestClient(app) as c:
        yield c


async def test_bearer_jwt_login(client: PateraTestClient) -> None:
    token = jwt_auth.create_jwt_token({"sub": "ann"})
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.json()) == (200, {"sub": "ann"})
    assert pyjwt.decode(token, SECRET, algorithms=["HS256"])["sub"] == "ann"


async def test_leeway_from_config(client: PateraTestClient) -> None:
    just_expired = forge({"alg": "HS256"}, {"sub": "ann", "exp": int(time.time()) - 2})
    assert jwt_auth.validate_jwt_token(just_expired) is not None  # JWT_LEEWAY = 5
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {just_expired}"})
    assert response.status_code == 200
    long_expired = forge({"alg": "HS256"}, {"sub": "ann", "exp": int(time.time()) - 60})
    assert (await client.get("/api/me", headers={"Authorization": f"Bearer {long_expired}"})).status_code == 401


@pytest.mark.parametrize("name", list(HOSTILE_TOKENS))
async def test_hostile_bearer_tokens_are_401(client: PateraTestClient, name: str) -> None:
    token = HOSTILE_TOKENS[name]
    token = token() if callable(token) else token
    if not isinstance(token, str) or not token.isascii() or len(token) > 100_000:
        token = "a" * 10_000
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.json()) == (401, {"status": "error", "message": "Login required"})


async def test_instance_helpers_use_config(client: PateraTestClient) -> None:
    hashed = jwt_auth.create_password_hash("pw")
    assert hashed.split("$")[1] == "1000"
    assert jwt_auth.check_password_hash("pw", hashed) and not jwt_auth.check_password_hash("px", hashed)
    signed = jwt_auth.create_signed_cookie_value(7)
    assert jwt_auth.decode_signed_cookie(signed) == "7"
    assert AuthUtils.decode_signed_cookie(signed, SECRET) == "7"


async def test_helpers_without_secret_key_raise() -> None:
    app = build_app()
    helper = JwtAuth()
    helper.init_app(app)
    for call in (
        lambda: helper.create_signed_cookie_value(1),
        lambda: helper.decode_signed_cookie("1|x"),
        lambda: helper.create_jwt_token({}),
        lambda: helper.validate_jwt_token("a.b.c"),
    ):
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            call()
    with pytest.raises(RuntimeError, match="not initialised"):
        JwtAuth().create_signed_cookie_value(1)
