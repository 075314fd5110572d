"""Sign requests the way QStash does, to call a running server by hand."""

import base64
import hashlib
import secrets
import shlex
import time

import jwt

from exceptions import ConfigurationError


def sign(key, url, body=b"", now=None, ttl=300):
    """An Upstash-Signature for `body` sent to `url`: HS256, valid `ttl` seconds.

    The claims are QStash's: iss Upstash, sub the called URL, body the
    unpadded base64url SHA-256 of the exact body bytes, and iat/nbf/exp.
    """
    if not key:
        raise ConfigurationError("QSTASH_CURRENT_SIGNING_KEY is not set")
    issued = int(time.time() if now is None else now)
    digest = hashlib.sha256(body).digest()
    claims = {
        "iss": "Upstash",
        "sub": url,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "jti": "jwt_" + secrets.token_hex(12),
        "body": base64.urlsafe_b64encode(digest).decode().rstrip("="),
    }
    return jwt.encode(claims, key, algorithm="HS256")


def curl_command(url, token, body=b""):
    """A ready `curl` command that POSTs `body` to `url` with the signature."""
    parts = [
        "curl",
        "-sS",
        "-i",
        "-X",
        "POST",
        url,
        "-H",
        f"Upstash-Signature: {token}",
        "-H",
        "Content-Type: application/json",
        "--data-raw",
        body.decode(),
    ]
    return " ".join(shlex.quote(part) for part in parts)
