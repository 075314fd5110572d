"""invoice-pdf end to end against the fake invoicing service on 127.0.0.1.

The fake service checks each request's signature with the standardwebhooks
library, so these runs prove the two sides agree on the signing scheme.
"""

import re

import pytest

from devtools.fake_invoicing import FakeInvoicingServer, invoice_pdf
from models import Invoice
from senders.invoicing import InvoicingClient, encode_document, signed_headers
from tests import factories as f
from tests.triggered_support import SIGNING_SECRET, local_session


@pytest.fixture
def service():
    with FakeInvoicingServer(SIGNING_SECRET) as server:
        yield server


@pytest.fixture
def config_overrides(service):
    return {"INVOICING_URL": service.url, "INVOICING_SIGNING_SECRET": SIGNING_SECRET}


@pytest.fixture
def invoicing(app, senders):
    """The real client, over a session that never goes through a proxy."""
    senders.invoicing = InvoicingClient(app.config, session=local_session())
    return senders.invoicing


@pytest.fixture
def invoice(clock):
    branch = f.branch(name="Koramangala", gstin="29ABCDE1234F1Z5")
    customer = f.customer(name="Priya Sharma", email="priya@x.in")
    return f.invoice(customer, branch, paid_at=clock.now(), number="RG/2026/0042")


def test_service_binds_to_the_loopback_address_only(service):
    assert service.httpd.server_address[0] == "127.0.0.1"
    assert service.url.startswith("http://127.0.0.1:")


def test_invoice_pdf_run_is_verified_and_rendered_by_the_service(
    call_job, senders, service, invoicing, invoice
):
    response = call_job("invoice-pdf", {"invoiceId": invoice.id})

    assert response.get_json() == {
        "success": True,
        "attached": True,
        "reason": None,
        "sent": True,
    }
    assert service.rejected == []
    assert [doc["number"] for doc in service.renders] == ["RG/2026/0042"]
    stored = Invoice.get_by_id(invoice.id).pdf_url
    assert stored.startswith(f"{service.url}/pdf/")
    [attachment] = senders.email.sent[0].attachments
    assert attachment.filename == "Invoice-RG-2026-0042.pdf"
    assert attachment.content == invoice_pdf(service.renders[0])
    assert b"(Tax invoice RG/2026/0042) Tj" in attachment.content


def test_request_signed_with_the_wrong_secret_is_rejected(
    call_job, senders, service, invoice
):
    wrong = "whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA=="
    senders.invoicing = InvoicingClient(
        {"INVOICING_URL": service.url, "INVOICING_SIGNING_SECRET": wrong},
        session=local_session(),
    )

    response = call_job("invoice-pdf", {"invoiceId": invoice.id})

    assert response.get_json()["reason"] == "render_failed"
    assert service.rejected == ["No matching signature found"]
    assert service.renders == []
    assert senders.email.sent[0].attachments == []


def test_service_rejects_a_tampered_body_and_a_missing_signature(service):
    body = encode_document({"number": "RG/1", "total": "1180.00"})
    headers = signed_headers(SIGNING_SECRET, body)
    session = local_session()

    tampered = session.post(
        f"{service.url}/render",
        data=body.replace(b"1180.00", b"1.00"),
        headers=headers,
        timeout=5,
    )
    unsigned = session.post(f"{service.url}/render", data=body, timeout=5)
    genuine = session.post(
        f"{service.url}/render", data=body, headers=headers, timeout=5
    )

    assert (tampered.status_code, unsigned.status_code) == (401, 401)
    assert genuine.status_code == 200
    assert service.rejected == [
        "No matching signature found",
        "Missing required headers",
    ]


def test_served_pdf_is_a_well_formed_pdf(service):
    pdf = invoice_pdf({"number": "RG/(1)", "total": "1180.00"})

    assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
    start = int(re.search(rb"startxref\n(\d+)\n", pdf).group(1))
    assert pdf[start:].startswith(b"xref\n0 6\n")
    offsets = [int(o) for o in re.findall(rb"(\d{10}) 00000 n", pdf)]
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(b"%d 0 obj" % number)
    assert b"(Tax invoice RG/\\(1\\)) Tj" in pdf


def test_unknown_pdf_is_not_found(service):
    answer = local_session().get(f"{service.url}/pdf/nothing.pdf", timeout=5)

    assert answer.status_code == 404


def test_service_is_reachable_without_the_app(service):
    client = InvoicingClient(
        {"INVOICING_URL": service.url, "INVOICING_SIGNING_SECRET": SIGNING_SECRET},
        session=local_session(),
    )

    rendered = client.render({"number": "RG/7", "total": "590.00"})
    fetched = client.fetch_pdf(rendered.url)

    assert service.renders == [{"number": "RG/7", "total": "590.00"}]
    assert fetched.content == invoice_pdf(service.renders[0])
