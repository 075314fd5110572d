"""Hostile requests for every route, as hypothesis strategies.

A `Hostile` is what an attacker (or a broken client) sends: any method, a
job route or a path near one, odd headers, any body, and an Upstash-Signature
that is missing, forged, or valid. `prepare` turns one into concrete headers
for a base URL, and says whether the service must run the job for it.
"""

import json
from dataclasses import dataclass

from hypothesis import strategies as st

from jobs.catalog import JOBS
from reliability import tokens

ROUTES = [spec.name for spec in JOBS]
METHODS = ["POST", "GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
ID_FIELDS = ["bookingId", "membershipId", "invoiceId", "date", "month"]

# How the Upstash-Signature header is made; only the first two are valid.
VALID = ("valid", "valid with the next key")
FORGED = (
    "missing",
    "garbage",
    "for another route",
    "for another body",
    "for another host",
    "expired",
    "guessed key",
    "empty key",
    "alg none",
)


GUESSED_KEY = "sig_" + "0123456789abcdef" * 2


@dataclass(frozen=True)
class Hostile:
    method: str
    route: str | None  # a job route, or None for a path that is none
    path: str  # what is requested, query string included
    headers: tuple  # (name, value) pairs, besides the signature
    body: bytes
    signature: str  # one of VALID or FORGED
    garbage: str = ""
    chunked: bool = False  # over HTTP: no Content-Length, chunked encoding

    def describe(self):
        return (
            f"{self.method} {self.path[:80]} sig={self.signature} "
            f"body={len(self.body)}B{' chunked' if self.chunked else ''} "
            f"{self.body[:40]!r}"
        )


@dataclass(frozen=True)
class Prepared:
    headers: dict
    runs_job: bool  # the service must run the route's job for this request


def prepare(hostile, base_url, current_key, next_key, max_body):
    """Concrete headers for `hostile` sent to `base_url`, and what must happen."""
    url = base_url.rstrip("/") + hostile.path
    body = hostile.body
    token = {
        "missing": lambda: None,
        "garbage": lambda: hostile.garbage,
        "valid": lambda: tokens.sign(url, body, current_key),
        "valid with the next key": lambda: tokens.sign(url, body, next_key),
        "for another route": lambda: tokens.sign(
            url.replace(hostile.route or "jobs", _other(hostile.route)),
            body,
            current_key,
        ),
        "for another body": lambda: tokens.sign(url, body + b" ", current_key),
        "for another host": lambda: tokens.sign(
            url.replace("://", "://evil.", 1), body, current_key
        ),
        "expired": lambda: tokens.sign(url, body, current_key, exp=1_000_000_000),
        "guessed key": lambda: tokens.sign(url, body, GUESSED_KEY),
        "empty key": lambda: tokens.signed_with(b"", url, body),
        "alg none": lambda: tokens.unsigned(url, body),
    }[hostile.signature]()
    headers = dict(hostile.headers)
    if token is not None:
        headers["Upstash-Signature"] = token
    runs_job = (
        hostile.method == "POST"
        and hostile.route is not None
        and hostile.signature in VALID
        and len(body) <= max_body
        and _utf8(body)
    )
    return Prepared(headers, runs_job)


def expected_status(hostile, prepared, max_body):
    """The one answer the service may give to this request."""
    if hostile.route is None:
        return 404
    if hostile.method != "POST":
        return 405
    if len(hostile.body) > max_body:
        return 413
    return 200 if prepared.runs_job else 401


def _other(route):
    names = [name for name in ROUTES if name != route]
    return names[len(route or "") % len(names)]


def _utf8(body):
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Bodies ------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)

odd_ids = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(st.text(max_size=8), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    st.text(max_size=60),
    st.sampled_from(
        [
            "",
            "\x00",
            "bk_\x00",
            "' OR 1=1 --",
            "bk_000001",
            "../../etc/passwd",
            "x" * 5000,
            "2026-02-30",
            "9999-12-31",
            "0000-01-01",
            "2026-13",
            "2026-00",
            "１２３",
        ]
    ),
)


def _dump(value):
    return json.dumps(value, allow_nan=True).encode()


@st.composite
def payload_bodies(draw):
    """JSON objects naming the fields the jobs read, with the wrong types."""
    fields = draw(st.lists(st.sampled_from(ID_FIELDS), min_size=1, max_size=3))
    value = {name: draw(odd_ids) for name in fields}
    return _dump(value)


@st.composite
def deep_json(draw):
    depth = draw(st.sampled_from([50, 500, 5000, 20000]))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    tail = "1" if opener != "[" else ""
    return (opener * depth + tail + closer * depth).encode()


@st.composite
def huge_bodies(draw):
    size = draw(st.sampled_from([64 * 1024, 64 * 1024 + 1, 200 * 1024, 1024 * 1024]))
    return b'{"bookingId": "' + b"x" * max(0, size - 18) + b'"}'


bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=512),
    st.text(max_size=200).map(str.encode),
    json_values.map(_dump),
    payload_bodies(),
    deep_json(),
    huge_bodies(),
    st.sampled_from(
        [
            b"null",
            b"[]",
            b"{}",
            b'"text"',
            b"{not json",
            b'{"bookingId": NaN}',
            b'{"bookingId": 1e999}',
            b"\xff\xfe\x00\x00",
            b'{"bookingId": "\\ud800"}',
            b'{"a": 1, "a": 2}',
        ]
    ),
)

# Headers -----------------------------------------------------------------

header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=latin-1",
        "text/plain",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "",
    ]
)
upstash_headers = st.sampled_from(
    ["Upstash-Message-Id", "Upstash-Retried", "Upstash-Schedule-Id"]
)
# Past what job_run.retried can hold (2**31 on PostgreSQL, 2**63 on SQLite).
OUT_OF_RANGE_RETRIED = ["2147483648", "9223372036854775808", "9" * 40]
retried_values = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(OUT_OF_RANGE_RETRIED),
    header_text,
    st.sampled_from(["", "1.5", "-0", "0x10", "NaN", "+7", " 3 "]),
)
other_headers = st.sampled_from(
    [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Proto", "gopher"),
        ("X-Forwarded-Host", "evil.test"),
        ("X-Forwarded-For", "1.2.3.4, 5.6.7.8"),
        ("Content-Encoding", "gzip"),
        ("Accept", "*/*"),
        ("Expect", "100-continue"),
    ]
)


@st.composite
def header_sets(draw):
    headers = []
    if draw(st.booleans()):
        headers.append(("Content-Type", draw(content_types)))
    for name in draw(st.lists(upstash_headers, max_size=3, unique=True)):
        value = draw(retried_values if name == "Upstash-Retried" else header_text)
        headers.append((name, value))
    headers += draw(st.lists(other_headers, max_size=2, unique_by=lambda h: h[0]))
    return tuple(headers)


# Requests ----------------------------------------------------------------


@st.composite
def paths(draw):
    """(route, path): mostly a job route, sometimes a near miss."""
    route = draw(st.sampled_from(ROUTES))
    kind = draw(
        st.sampled_from(["route"] * 8 + ["query", "slash", "unknown", "prefix"])
    )
    if kind == "route":
        return route, f"/api/jobs/{route}"
    if kind == "query":
        query = draw(st.sampled_from(["a=1", "bookingId=bk_1", "x=%00", "=&&="]))
        return route, f"/api/jobs/{route}?{query}"
    if kind == "slash":
        return None, f"/api/jobs/{route}/"
    if kind == "unknown":
        return None, f"/api/jobs/{route}-x"
    return None, draw(st.sampled_from(["/", "/api/jobs", "/api/jobs/", "/api"]))


@st.composite
def hostile_requests(draw):
    route, path = draw(paths())
    method = draw(st.sampled_from(["POST"] * 6 + METHODS[1:]))
    signature = draw(st.sampled_from(VALID * 3 + FORGED))
    garbage = draw(header_text) if signature == "garbage" else ""
    return Hostile(
        method=method,
        route=route,
        path=path,
        headers=draw(header_sets()),
        body=draw(bodies),
        signature=signature,
        garbage=garbage,
        chunked=draw(st.booleans()),
    )


# Raw requests no HTTP client would send: request smuggling shapes and broken
# framing. gunicorn must refuse them or the app must answer 4xx; none may run.
RAW_REQUESTS = [
    b"POST /api/jobs/{route} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /api/jobs/{route} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
    b"Content-Length: 9\r\n\r\n{}",
    b"POST /api/jobs/{route} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"POST /api/jobs/{route} HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 99999999999999999999\r\n\r\n{}",
    b"POST /api/jobs/{route} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    b"\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"POST /api/jobs/{route} HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    b"POST /api/jobs/{route} HTTP/1.1\r\nHost: x\r\nX-Big: "
    + b"a" * 70000
    + b"\r\n\r\n",
    b"POST /api/jobs/{route}\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /api/jobs/{route} HTTP/9.9\r\nHost: x\r\n\r\n",
    b"POST /api/jobs/{route} HTTP/1.1\r\nHost: x\r\nUpstash-Signature: a\r\n"
    b" folded\r\n\r\n",
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",  # a TLS hello
]
