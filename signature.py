"""Verify QStash's Upstash-Signature header; never raises, fails closed."""

import logging

from qstash import Receiver

log = logging.getLogger(__name__)


def verify_request(config, token, body, url):
    """Return True only if `token` is a valid QStash signature of `body` for `url`.

    `body` is the raw bytes as received. The check is delegated to qstash-py's
    Receiver (current key, then next): HS256, issuer Upstash, `sub` equal to
    the called URL, `body` the SHA-256 of the body, `exp`/`nbf` with the
    configured leeway. Any failure, including no keys configured, is False;
    the reason is logged without the token.
    """
    current = config.get("QSTASH_CURRENT_SIGNING_KEY") or ""
    upcoming = config.get("QSTASH_NEXT_SIGNING_KEY") or ""
    if not current and not upcoming:
        log.warning("signature: rejected, no QStash signing keys are configured")
        return False
    if not token:
        log.warning("signature: rejected, no Upstash-Signature header")
        return False
    try:
        text = body.decode("utf-8")
        receiver = Receiver(
            current_signing_key=current or upcoming,
            next_signing_key=upcoming or current,
        )
        receiver.verify(
            signature=token,
            body=text,
            url=url,
            clock_tolerance=int(config.get("QSTASH_CLOCK_TOLERANCE", 5)),
        )
    except UnicodeDecodeError:
        log.warning("signature: rejected, body is not UTF-8")
        return False
    except Exception as error:  # fail closed on anything the SDK raises
        log.warning("signature: rejected for %s, %s", url, _reason(error))
        return False
    return True


def _reason(error):
    """Name the failure without echoing the token or claims back."""
    text = str(error)
    if isinstance(error, KeyError):
        return f"missing claim {text}"
    for marker in ("Invalid subject", "Invalid body hash", "expired"):
        if marker in text:
            return marker.lower()
    return type(error).__name__ + ": " + text.split(":")[0][:80]
