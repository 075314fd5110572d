"""A stand-in for the invoicing service, for local runs and tests.

It listens on 127.0.0.1 only. `POST /render` checks the Standard Webhooks
signature with the shared secret (401 when it does not verify), renders a
one-page PDF of the invoice and answers `{"url": ".../pdf/<name>.pdf"}`;
`GET /pdf/<name>.pdf` serves it.

From the command line:

    python -m devtools.fake_invoicing --port 8787 --secret whsec_...

From a test, as a context manager that serves on a thread:

    with FakeInvoicingServer(secret) as server:
        server.url  # http://127.0.0.1:<port>
"""

import argparse
import base64
import json
import logging
import os
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
MAX_BODY_BYTES = 64 * 1024


class FakeInvoicingServer:
    """The fake service and what it saw.

    `renders` holds every verified invoice document, `rejected` the reason of
    every request whose signature failed. Set `fail_with` to an HTTP status
    to make `/render` answer it instead of rendering.
    """

    def __init__(self, secret, port=0):
        self.webhook = Webhook(secret)
        self.renders = []
        self.rejected = []
        self.fetches = []
        self.fail_with = None
        self.pdfs = {}
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((HOST, port), _handler_for(self))
        self.httpd.daemon_threads = True
        self.thread = None

    @property
    def url(self):
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def render(self, body, headers):
        """Verify a render request and store its PDF: (status, answer)."""
        try:
            self.webhook.verify(body, headers, json_parse=False)
        except WebhookVerificationError as error:
            log.warning("fake invoicing: rejected a render request, %s", error)
            with self.lock:
                self.rejected.append(str(error))
            return 401, {"error": "invalid signature"}
        if self.fail_with:
            return self.fail_with, {"error": "rendering is switched off"}
        try:
            document = json.loads(body)
        except ValueError:
            return 400, {"error": "the body is not JSON"}
        if not isinstance(document, dict) or not document.get("number"):
            return 422, {"error": "an invoice needs a number"}

        name = secrets.token_hex(8)
        with self.lock:
            self.renders.append(document)
            self.pdfs[name] = invoice_pdf(document)
        log.info("fake invoicing: rendered invoice %s", document["number"])
        return 200, {"url": f"{self.url}/pdf/{name}.pdf"}


def _handler_for(server):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            if self.path != "/render":
                return self._json(404, {"error": "not found"})
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                return self._json(413, {"error": "body too large"})
            body = self.rfile.read(length)
            status, answer = server.render(body, dict(self.headers.items()))
            self._json(status, answer)

        def do_GET(self):
            name = self.path.removeprefix("/pdf/").removesuffix(".pdf")
            pdf = server.pdfs.get(name) if self.path.startswith("/pdf/") else None
            if pdf is None:
                return self._json(404, {"error": "not found"})
            with server.lock:
                server.fetches.append(name)
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(pdf)))
            self.end_headers()
            self.wfile.write(pdf)

        def _json(self, status, answer):
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):
            log.debug("fake invoicing: " + format, *args)

    return Handler


def invoice_pdf(document):
    """A small, valid one-page PDF listing the invoice's main figures."""
    branch = document.get("branch") or {}
    customer = document.get("customer") or {}
    lines = [
        f"Tax invoice {document.get('number', '')}",
        f"Date: {document.get('invoiceDate', '')}",
        f"{branch.get('name', '')}  GSTIN {branch.get('gstin') or '-'}",
        f"Billed to: {customer.get('name', '')}",
        f"SAC {document.get('sacCode', '')}  GST {document.get('gstRate', '')}%",
        f"Taxable value: INR {document.get('taxableAmount', '')}",
        f"CGST: INR {document.get('cgst', '')}  SGST: INR {document.get('sgst', '')}"
        f"  IGST: INR {document.get('igst', '')}",
        f"Total: INR {document.get('total', '')}",
    ]
    text = ["BT", "/F1 12 Tf", "14 TL", "50 780 Td"]
    for line in lines:
        text.append(f"({_pdf_text(line)}) Tj T*")
    text.append("ET")
    stream = "\n".join(text).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
        b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _pdf_text(line):
    """A line as a PDF string literal's contents, in Latin-1."""
    safe = line.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def new_secret():
    """A fresh signing secret in the whsec_<base64> form both sides accept."""
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Fake invoicing service on 127.0.0.1 for local runs."
    )
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument(
        "--secret",
        default=os.environ.get("INVOICING_SIGNING_SECRET"),
        help="whsec_<base64>; default INVOICING_SIGNING_SECRET, else a new one",
    )
    args = parser.parse_args(argv)
    secret = args.secret or new_secret()

    logging.basicConfig(level=logging.INFO)
    server = FakeInvoicingServer(secret, port=args.port)
    print(f"INVOICING_URL={server.url}")
    print(f"INVOICING_SIGNING_SECRET={secret}")
    print("fake invoicing: serving, Ctrl-C to stop", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


if __name__ == "__main__":
    main()
