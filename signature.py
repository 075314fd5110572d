"""Verify QStash's Upstash-Signature header; never raises, fails closed.

The token is checked with PyJWT, as qstash-py's Receiver does, but directly:
in qstash 3.4.0 the Receiver hands its clock tolerance to PyJWT in a form
PyJWT ignores, and when both keys fail it reports the second key's error,
which hides why the token was refused.
"""

import base64
import hashlib
import hmac
import logging

import jwt

log = logging.getLogger(__name__)

REQUIRED_CLAIMS = ["iss", "sub", "exp", "nbf", "body"]


class Rejected(Exception):
    """Why a token was refused; the message never quotes the token."""


def verify_request(config, token, body, url):
    """Return True only if `token` is a valid QStash signature of `body` for `url`.

    `body` is the raw bytes as received. The token must be an HS256 JWT signed
    with the current or the next signing key, issued by Upstash, whose `sub`
    is `url` exactly and whose `body` claim is the base64url SHA-256 of the
    body, inside `exp`/`nbf` give or take QSTASH_CLOCK_TOLERANCE seconds.
    Any failure, including no keys configured, is False and logged with its
    reason.
    """
    keys = [
        key
        for key in (
            config.get("QSTASH_CURRENT_SIGNING_KEY"),
            config.get("QSTASH_NEXT_SIGNING_KEY"),
        )
        if key
    ]
    try:
        if not keys:
            raise Rejected("no QStash signing keys are configured")
        if not token:
            raise Rejected("no Upstash-Signature header")
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise Rejected("the body is not UTF-8") from None
        leeway = int(config.get("QSTASH_CLOCK_TOLERANCE") or 0)
        claims = _decode(token, keys, leeway)
        if claims["sub"] != url:
            raise Rejected("invalid subject: the token was signed for another URL")
        if not hmac.compare_digest(str(claims["body"]).rstrip("="), _digest(body)):
            raise Rejected("invalid body hash: the body is not the one signed")
    except Rejected as reason:
        log.warning("signature: rejected for %s, %s", url, reason)
        return False
    except Exception as error:  # fail closed on anything unforeseen
        log.warning("signature: rejected for %s, %s", url, type(error).__name__)
        return False
    return True


def _decode(token, keys, leeway):
    """Decode with the first key whose signature matches; report the real reason."""
    for key in keys:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=["HS256"],
                issuer="Upstash",
                leeway=leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.InvalidSignatureError:
            continue  # maybe signed with the other key
        except jwt.ExpiredSignatureError:
            raise Rejected("the token expired") from None
        except jwt.ImmatureSignatureError:
            raise Rejected("the token is not valid yet") from None
        except jwt.MissingRequiredClaimError as error:
            raise Rejected(f"the token has no {error.claim} claim") from None
        except jwt.InvalidIssuerError:
            raise Rejected("the token was not issued by Upstash") from None
        except jwt.InvalidAlgorithmError:
            raise Rejected("the token is not signed with HS256") from None
        except jwt.InvalidTokenError as error:
            raise Rejected(f"the token is malformed ({type(error).__name__})") from None
    raise Rejected("the token is not signed with either signing key")


def _digest(body):
    """The base64url SHA-256 of the body, unpadded, as QStash puts it in `body`."""
    digest = hashlib.sha256(body).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
