"""The invoicing service: render an invoice PDF over a signed request, fetch it.

The service renders GST invoices to PDF and answers with the file's URL. A
render request is `POST <INVOICING_URL>/render` with the invoice as JSON,
signed the Standard Webhooks way: HMAC-SHA256 over `<id>.<timestamp>.<body>`
with `INVOICING_SIGNING_SECRET`, sent in the `webhook-id`,
`webhook-timestamp` and `webhook-signature` headers. The receiver checks the
signature and rejects a timestamp outside its replay window.
"""

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from standardwebhooks import Webhook

log = logging.getLogger(__name__)

RENDER_PATH = "/render"
MAX_ANSWER_BYTES = 16 * 1024  # a render answer is one short JSON object
MAX_URL_LENGTH = 2048
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Rendered:
    """What a render request gave: the PDF's URL, or why there is none."""

    url: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Fetched:
    """A downloaded PDF, or why there is none."""

    content: bytes | None = None
    error: str | None = None


class TooLarge(Exception):
    """A response body went past its cap; reading stopped there."""


def encode_document(document):
    """The exact body bytes that are signed and sent."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def signed_headers(secret, body, msg_id=None, timestamp=None):
    """Standard Webhooks headers signing `body` (bytes) with `secret`."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = timestamp or datetime.now(UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, timestamp, body),
    }


class InvoicingClient:
    """Client of the invoicing service. Never raises.

    `render` and `fetch_pdf` answer with a Rendered or Fetched that carries
    either the result or a short error: unconfigured, network failures,
    timeouts, non-2xx answers, malformed answers and oversized files all come
    back as errors, so the caller can degrade to an email without the PDF.
    Unconfigured (either setting missing, or a secret that is not base64) it
    renders nothing; fetching a URL needs no secret and still works.
    """

    def __init__(self, config, session=None, clock=None):
        self.url = (config.get("INVOICING_URL") or "").rstrip("/")
        self.secret = config.get("INVOICING_SIGNING_SECRET") or ""
        self.timeout = float(config.get("HTTP_TIMEOUT", 10))
        self.max_pdf_bytes = int(config.get("INVOICE_PDF_MAX_BYTES", 5 * 1024 * 1024))
        self.session = session or requests.Session()
        # The signature's timestamp is checked against the receiver's real
        # clock, so it comes from the system clock, not from a job's instant.
        self.clock = clock or (lambda: datetime.now(UTC))
        self.configured = bool(self.url and self.secret) and _usable_secret(self.secret)

    def render(self, document, timeout=None):
        """Ask the service to render `document` (a JSON-able dict) to a PDF."""
        if not self.configured:
            return Rendered(error="unconfigured")
        body = encode_document(document)
        headers = signed_headers(self.secret, body, timestamp=self.clock())
        headers["Content-Type"] = "application/json"
        timeout = self._timeout(timeout)

        try:
            status, content = self._read(
                "POST",
                self.url + RENDER_PATH,
                MAX_ANSWER_BYTES,
                timeout,
                data=body,
                headers=headers,
            )
        except TooLarge:
            log.warning("invoicing: render answer is over %d bytes", MAX_ANSWER_BYTES)
            return Rendered(error="render answer too large")
        except Exception as error:  # network, TLS, a bad URL: all degrade alike
            log.warning("invoicing: render failed, %s", type(error).__name__)
            return Rendered(error=f"render {type(error).__name__}")
        if not 200 <= status < 300:
            log.warning("invoicing: render answered %s", status)
            return Rendered(error=f"render answered {status}")

        url = _url_from(content)
        if url is None:
            log.warning("invoicing: render answer has no usable url")
            return Rendered(error="render answer has no url")
        return Rendered(url=url)

    def fetch_pdf(self, url, timeout=None):
        """Download the PDF at `url`, stopping past INVOICE_PDF_MAX_BYTES."""
        if not _is_http_url(url):
            return Fetched(error="pdf url is not http(s)")
        try:
            status, content = self._read(
                "GET",
                url,
                self.max_pdf_bytes,
                self._timeout(timeout),
                allow_redirects=True,
            )
        except TooLarge:
            log.warning("invoicing: pdf is over %d bytes", self.max_pdf_bytes)
            return Fetched(error=f"pdf over {self.max_pdf_bytes} bytes")
        except Exception as error:
            log.warning("invoicing: pdf fetch failed, %s", type(error).__name__)
            return Fetched(error=f"fetch {type(error).__name__}")

        if not 200 <= status < 300:
            log.warning("invoicing: pdf fetch answered %s", status)
            return Fetched(error=f"fetch answered {status}")
        if not content.startswith(b"%PDF-"):
            return Fetched(error="fetched file is not a pdf")
        return Fetched(content=content)

    def _timeout(self, timeout):
        return self.timeout if timeout is None else max(0.1, min(timeout, self.timeout))

    def _read(self, method, url, limit, timeout, allow_redirects=False, **kwargs):
        """Send a request and read at most `limit` bytes of the answer.

        `timeout` bounds the whole exchange, not only each socket read, so a
        server that trickles bytes cannot hold the job past it.
        """
        deadline = time.monotonic() + timeout
        with self.session.request(
            method,
            url,
            timeout=timeout,
            stream=True,
            allow_redirects=allow_redirects,
            **kwargs,
        ) as response:
            if not 200 <= response.status_code < 300:
                return response.status_code, b""
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise TooLarge()
            chunks, size = [], 0
            while True:
                # read1 answers with whatever has arrived, so a trickle of a
                # few bytes at a time still reaches the deadline check.
                chunk = response.raw.read1(CHUNK_BYTES)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise TooLarge()
                if time.monotonic() > deadline:
                    raise requests.Timeout("the answer took longer than the timeout")
                chunks.append(chunk)
            return response.status_code, b"".join(chunks)


def _usable_secret(secret):
    try:
        Webhook(secret)
    except Exception:
        log.error(
            "invoicing: INVOICING_SIGNING_SECRET is not a base64 secret "
            "(whsec_...); invoices are emailed without a PDF"
        )
        return False
    return True


def _url_from(content):
    try:
        answer = json.loads(content)
    except (ValueError, RecursionError):
        return None
    url = answer.get("url") if isinstance(answer, dict) else None
    return url if _is_http_url(url) else None


def _is_http_url(url):
    if not isinstance(url, str) or not 0 < len(url) <= MAX_URL_LENGTH:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
