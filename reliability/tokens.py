"""Upstash-Signature tokens as QStash signs them, and the forgeries it never would."""

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt


def body_hash(body):
    digest = hashlib.sha256(body).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def claims(url, body, now=None, **overrides):
    now = int(time.time()) if now is None else now
    found = {
        "iss": "Upstash",
        "sub": url,
        "exp": now + 300,
        "nbf": now,
        "iat": now,
        "jti": "jwt_" + uuid.uuid4().hex,
        "body": body_hash(body),
    }
    found.update(overrides)
    return found


def sign(url, body, key, **overrides):
    """A token QStash would send for a POST of `body` to `url`."""
    return jwt.encode(claims(url, body, **overrides), key, algorithm="HS256")


def _segment(data):
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unsigned(url, body):
    """An `alg: none` token: claims that verify only if the algorithm is trusted."""
    header = _segment({"alg": "none", "typ": "JWT"})
    return header + "." + _segment(claims(url, body)) + "."


def signed_with(secret, url, body):
    """HS256 by hand, so that any key (empty included) can be tried."""
    signing_input = (
        _segment({"alg": "HS256", "typ": "JWT"}) + "." + _segment(claims(url, body))
    )
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _segment(mac)
