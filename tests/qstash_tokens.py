"""Build Upstash-Signature tokens the way QStash builds them."""

import base64
import hashlib
import time
import uuid

import jwt

CURRENT_KEY = "sig_current_test_key_0123456789abcdef"
NEXT_KEY = "sig_next_test_key_9876543210fedcba0"
BASE = "http://localhost"


def body_hash(body):
    digest = hashlib.sha256(body).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def make_token(url, body=b"", key=CURRENT_KEY, now=None, drop=(), **overrides):
    """An HS256 JWT with iss, sub, exp, nbf, iat, jti and body claims."""
    now = int(time.time()) if now is None else now
    claims = {
        "iss": "Upstash",
        "sub": url,
        "exp": now + 300,
        "nbf": now,
        "iat": now,
        "jti": "jwt_" + uuid.uuid4().hex,
        "body": body_hash(body),
    }
    claims.update(overrides)
    for name in drop:
        claims.pop(name, None)
    return jwt.encode(claims, key, algorithm="HS256")
