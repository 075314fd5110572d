"""The invoicing client: signed render requests, capped PDF downloads, no raises."""

import json
import time

import pytest
import requests
import responses
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from senders.invoicing import InvoicingClient, encode_document
from tests.triggered_support import (
    INVOICING_CONFIG,
    INVOICING_URL,
    SIGNING_SECRET,
    pdf_bytes,
)

RENDER = f"{INVOICING_URL}/render"
PDF_URL = "https://files.invoicing.test/inv_1.pdf"
DOCUMENT = {"id": "inv_1", "number": "RG/2026/0042", "total": "1180.00"}


@pytest.fixture
def http():
    """Every HTTP call is answered here; an unexpected one fails the test."""
    with responses.RequestsMock() as mock:
        yield mock


def client(**config):
    return InvoicingClient({**INVOICING_CONFIG, "HTTP_TIMEOUT": 2, **config})


def test_render_request_is_signed_over_the_exact_body(http):
    http.post(RENDER, json={"url": PDF_URL})

    rendered = client().render(DOCUMENT)

    assert rendered.url == PDF_URL and rendered.error is None
    request = http.calls[0].request
    assert request.body == encode_document(DOCUMENT)
    assert json.loads(request.body) == DOCUMENT
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["webhook-id"].startswith("msg_")
    assert request.headers["webhook-signature"].startswith("v1,")
    assert Webhook(SIGNING_SECRET).verify(request.body, request.headers) == DOCUMENT


def test_signature_does_not_verify_for_another_body_or_secret(http):
    http.post(RENDER, json={"url": PDF_URL})
    client().render(DOCUMENT)
    request = http.calls[0].request

    with pytest.raises(WebhookVerificationError):
        Webhook(SIGNING_SECRET).verify(
            request.body.replace(b"1180.00", b"1.00"), request.headers
        )
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==").verify(
            request.body, request.headers
        )


def test_each_render_request_has_its_own_message_id(http):
    http.post(RENDER, json={"url": PDF_URL})
    http.post(RENDER, json={"url": PDF_URL})

    client().render(DOCUMENT)
    client().render(DOCUMENT)

    ids = {call.request.headers["webhook-id"] for call in http.calls}
    assert len(ids) == 2


@pytest.mark.parametrize(
    "config",
    [
        {"INVOICING_URL": None},
        {"INVOICING_SIGNING_SECRET": None},
        {"INVOICING_SIGNING_SECRET": "whsec_!!!"},
    ],
    ids=["no url", "no secret", "secret that is not base64"],
)
def test_unconfigured_client_renders_nothing_and_calls_nobody(http, config):
    unconfigured = client(**config)

    assert unconfigured.configured is False
    assert unconfigured.render(DOCUMENT).error == "unconfigured"
    assert len(http.calls) == 0


FAILED_RENDERS = {
    "server error": {"status": 500, "json": {"error": "boom"}},
    "rejected signature": {"status": 401, "json": {"error": "invalid signature"}},
    "timeout": {"body": requests.ReadTimeout("read timed out")},
    "connection refused": {"body": requests.ConnectionError("refused")},
    "not json": {"body": "<html>oops</html>"},
    "json without url": {"json": {"pdf": PDF_URL}},
    "url that is not http": {"json": {"url": "file:///etc/passwd"}},
    "url that is not a string": {"json": {"url": 42}},
    "answer far too large": {"json": {"url": PDF_URL, "pad": "x" * 20_000}},
    "redirect": {"status": 302, "headers": {"Location": "http://elsewhere.test/"}},
}


@pytest.mark.parametrize("case", sorted(FAILED_RENDERS))
def test_failed_render_comes_back_as_an_error_not_an_exception(http, case):
    http.post(RENDER, **FAILED_RENDERS[case])

    rendered = client().render(DOCUMENT)

    assert rendered.url is None
    assert rendered.error
    assert len(http.calls) == 1


def test_pdf_is_downloaded(http):
    http.get(PDF_URL, body=pdf_bytes("RG/2026/0042"), content_type="application/pdf")

    fetched = client().fetch_pdf(PDF_URL)

    assert fetched.content == pdf_bytes("RG/2026/0042")


def test_pdf_exactly_at_the_cap_is_accepted(http):
    content = pdf_bytes().ljust(2048, b" ")
    http.get(PDF_URL, body=content)

    fetched = client(INVOICE_PDF_MAX_BYTES=2048).fetch_pdf(PDF_URL)

    assert fetched.content == content


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "streamed"])
def test_pdf_over_the_cap_is_refused(http, declared):
    http.get(
        PDF_URL,
        body=pdf_bytes().ljust(2049, b" "),
        auto_calculate_content_length=declared,
    )

    fetched = client(INVOICE_PDF_MAX_BYTES=2048).fetch_pdf(PDF_URL)

    assert fetched.content is None
    assert fetched.error == "pdf over 2048 bytes"


FAILED_FETCHES = {
    "not found": {"status": 404},
    "server error": {"status": 503},
    "timeout": {"body": requests.ReadTimeout("read timed out")},
    "html instead of a pdf": {"body": "<html>login</html>"},
}


@pytest.mark.parametrize("case", sorted(FAILED_FETCHES))
def test_failed_fetch_comes_back_as_an_error_not_an_exception(http, case):
    http.get(PDF_URL, **FAILED_FETCHES[case])

    fetched = client().fetch_pdf(PDF_URL)

    assert fetched.content is None
    assert fetched.error


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x.test/a.pdf", "", None])
def test_pdf_url_that_is_not_http_is_not_fetched(http, url):
    fetched = client().fetch_pdf(url)

    assert fetched.error == "pdf url is not http(s)"
    assert len(http.calls) == 0


def test_fetching_a_stored_url_needs_no_signing_secret(http):
    http.get(PDF_URL, body=pdf_bytes())

    fetched = client(INVOICING_SIGNING_SECRET=None).fetch_pdf(PDF_URL)

    assert fetched.content == pdf_bytes()


class Trickle:
    """A server on 127.0.0.1 that sends a PDF a few bytes at a time, slowly.

    It records how much it managed to send before the client hung up.
    """

    def __init__(self, pieces=300, pause=0.1):
        import http.server
        import threading

        trickle = self
        self.sent = 0
        self.finished = False

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf")
                self.end_headers()
                try:
                    for _ in range(pieces):
                        self.wfile.write(b"%PDF-" if trickle.sent == 0 else b"xxxxx")
                        self.wfile.flush()
                        trickle.sent += 5
                        time.sleep(pause)
                    trickle.finished = True
                except OSError:
                    pass  # the client hung up

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slow.pdf"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_pdf_that_trickles_in_is_given_up_at_the_timeout():
    trickle = Trickle(pieces=300, pause=0.1)  # 30 s to send it all
    try:
        fetched = client(HTTP_TIMEOUT=1).fetch_pdf(trickle.url)
    finally:
        trickle.stop()

    assert fetched.content is None
    assert fetched.error == "fetch Timeout"
    assert not trickle.finished
    assert trickle.sent < 300 * 5
