"""Build Upstash-Signature tokens the way QStash builds them, for the tests."""

import jwt

from reliability.tokens import body_hash, claims

__all__ = ["BASE", "CURRENT_KEY", "NEXT_KEY", "body_hash", "make_token"]

CURRENT_KEY = "sig_current_test_key_0123456789abcdef"
NEXT_KEY = "sig_next_test_key_9876543210fedcba0"
BASE = "http://localhost"


def make_token(url, body=b"", key=CURRENT_KEY, now=None, drop=(), **overrides):
    """An HS256 JWT with iss, sub, exp, nbf, iat, jti and body claims."""
    found = claims(url, body, now=now, **overrides)
    for name in drop:
        found.pop(name, None)
    return jwt.encode(found, key, algorithm="HS256")
