"""invoice-pdf: render once, store the URL, email the invoice with its PDF once."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
import responses
from standardwebhooks import Webhook

from models import Invoice
from senders import Outcome, Result
from tests import factories as f
from tests.triggered_support import (
    INVOICING_CONFIG,
    INVOICING_URL,
    SIGNING_SECRET,
    log_rows,
    pdf_bytes,
)

RENDER = f"{INVOICING_URL}/render"
PDF_URL = "https://files.invoicing.test/RG-2026-0042.pdf"
PDF = pdf_bytes("RG/2026/0042")


@pytest.fixture
def config_overrides():
    return dict(INVOICING_CONFIG)


@pytest.fixture
def http():
    """The invoicing service and its file host; any other request fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def service_answers(http, render=None, pdf=None):
    http.post(RENDER, **(render or {"json": {"url": PDF_URL}}))
    http.get(PDF_URL, **(pdf or {"body": PDF, "content_type": "application/pdf"}))


def calls_to(http, url):
    return [call for call in http.calls if call.request.url == url]


@pytest.fixture
def invoice(clock):
    """A paid service invoice: Rs 2,500 taxable at 18 %, intra-state."""
    branch = f.branch(id="br_kor", name="Koramangala", gstin="29ABCDE1234F1Z5")
    customer = f.customer(
        id="cus_priya", name="Priya Sharma", email="priya@x.in", phone="+919811111111"
    )
    booking = f.booking(
        customer,
        branch,
        f.at("2026-12-04 13:00"),
        id="bk_42",
        service=f.service(name="Swedish Massage (60 min)"),
        status="completed",
    )
    return f.invoice(
        customer,
        branch,
        paid_at=f.at("2026-12-04 14:10"),
        taxable="2500.00",
        id="inv_42",
        number="RG/2026/0042",
        booking=booking,
        created_at=f.at("2026-12-04 14:05"),
    )


EXPECTED_DOCUMENT = {
    "id": "inv_42",
    "number": "RG/2026/0042",
    "kind": "service",
    "status": "paid",
    "invoiceDate": "2026-12-04",
    "createdAt": "2026-12-04T08:35:00Z",
    "paidAt": "2026-12-04T08:40:00Z",
    "branch": {
        "id": "br_kor",
        "name": "Koramangala",
        "gstin": "29ABCDE1234F1Z5",
        "stateCode": "29",
    },
    "customer": {
        "id": "cus_priya",
        "name": "Priya Sharma",
        "email": "priya@x.in",
        "phone": "+919811111111",
    },
    "bookingId": "bk_42",
    "membershipId": None,
    "description": "Swedish Massage (60 min)",
    "sacCode": "999721",
    "gstRate": "18.00",
    "taxableAmount": "2500.00",
    "cgst": "225.00",
    "sgst": "225.00",
    "igst": "0.00",
    "total": "2950.00",
    "currency": "INR",
}


def test_invoice_is_rendered_stored_and_emailed_with_its_pdf(
    call_job, senders, http, invoice
):
    service_answers(http)

    response = call_job("invoice-pdf", {"invoiceId": "inv_42"})

    assert response.status_code == 200
    assert response.get_json() == {
        "success": True,
        "attached": True,
        "reason": None,
        "sent": True,
    }
    [render] = calls_to(http, RENDER)
    assert json.loads(render.request.body) == EXPECTED_DOCUMENT
    assert Webhook(SIGNING_SECRET).verify(render.request.body, render.request.headers)
    assert Invoice.get_by_id("inv_42").pdf_url == PDF_URL
    [email] = senders.email.sent
    assert email.to == "priya@x.in"
    assert email.subject == "Your invoice RG/2026/0042 from The Royal Glow Koramangala"
    assert [(a.filename, a.content, a.content_type) for a in email.attachments] == [
        ("Invoice-RG-2026-0042.pdf", PDF, "application/pdf")
    ]
    assert email.text == (
        "Hi Priya,\n\n"
        "Thank you for choosing The Royal Glow Koramangala. Here is your tax "
        "invoice; the PDF is attached.\n\n"
        "Invoice:       RG/2026/0042\n"
        "Date:          Fri 4 Dec 2026\n"
        "Branch:        Koramangala (GSTIN 29ABCDE1234F1Z5)\n"
        "For:           Swedish Massage (60 min) (SAC 999721)\n"
        "Taxable value: ₹2,500.00\n"
        "CGST 9%: ₹225.00\n"
        "SGST 9%: ₹225.00\n"
        "Total:         ₹2,950.00 (paid)\n\n"
        "Warm regards,\n"
        "The Royal Glow Koramangala\n"
    )
    assert "29ABCDE1234F1Z5" in email.html and "₹2,950.00" in email.html
    assert email.idempotency_key == "invoice:inv_42"
    assert log_rows() == [("invoice:inv_42", "email", "sent", "cus_priya")]
    assert senders.heartbeat.pings == []


def test_existing_pdf_url_is_reused_without_rendering(call_job, senders, http, invoice):
    Invoice.update(pdf_url=PDF_URL).where(Invoice.id == "inv_42").execute()
    service_answers(http)

    response = call_job("invoice-pdf", {"invoiceId": "inv_42"})

    assert response.get_json()["attached"] is True
    assert calls_to(http, RENDER) == []
    assert senders.email.sent[0].attachments[0].content == PDF


def test_second_delivery_neither_renders_nor_emails_again(
    call_job, senders, http, invoice
):
    service_answers(http)
    call_job("invoice-pdf", {"invoiceId": "inv_42"})

    again = call_job("invoice-pdf", {"invoiceId": "inv_42"})

    assert again.get_json() == {
        "success": True,
        "attached": False,
        "reason": None,
        "sent": False,
    }
    assert len(calls_to(http, RENDER)) == 1
    assert len(senders.email.sent) == 1


def test_retry_after_a_failed_email_reuses_the_rendered_pdf(
    call_job, senders, http, invoice
):
    service_answers(http)
    senders.email.script.then(Result(Outcome.TRANSIENT, "provider answered 502"))

    first = call_job("invoice-pdf", {"invoiceId": "inv_42"})
    retry = call_job("invoice-pdf", {"invoiceId": "inv_42"})

    assert (first.status_code, first.data) == (500, b"Job failed")
    assert Invoice.get_by_id("inv_42").pdf_url == PDF_URL
    assert retry.get_json() == {
        "success": True,
        "attached": True,
        "reason": None,
        "sent": True,
    }
    assert len(calls_to(http, RENDER)) == 1
    assert [len(e.attachments) for e in senders.email.sent] == [1]


def test_invoice_named_by_its_booking_is_emailed(call_job, senders, http, invoice):
    service_answers(http)

    response = call_job("invoice-pdf", {"bookingId": "bk_42"})

    assert response.get_json()["sent"] is True
    assert senders.email.sent[0].subject.startswith("Your invoice RG/2026/0042")


def assert_sent_without_pdf(response, senders, reason):
    assert response.status_code == 200
    assert response.get_json() == {
        "success": True,
        "attached": False,
        "reason": reason,
        "sent": True,
    }
    [email] = senders.email.sent
    assert email.attachments == []
    assert "The PDF copy is not ready yet." in email.text
    assert "the PDF is attached" not in email.text


@pytest.mark.parametrize(
    "config_overrides",
    [{"INVOICING_URL": None}, {"INVOICING_SIGNING_SECRET": None}],
    ids=["no url", "no secret"],
)
def test_unconfigured_service_sends_the_email_without_pdf(
    call_job, senders, http, invoice, config_overrides
):
    response = call_job("invoice-pdf", {"invoiceId": "inv_42"})

    assert_sent_without_pdf(response, senders, "unconfigured")
    assert len(http.calls) == 0
    assert Invoice.get_by_id("inv_42").pdf_url is None


@pytest.mark.parametrize(
    "render",
    [
        {"status": 500, "json": {"error": "chromium crashed"}},
        {"body": requests.ReadTimeout("read timed out")},
        {"json": {"nothing": "useful"}},
    ],
    ids=["server error", "timeout", "answer without url"],
)
def test_failed_render_sends_the_email_without_pdf(
    call_job, senders, http, invoice, render
):
    service_answers(http, render=render)

    response = call_job("invoice-pdf", {"invoiceId": "inv_42"})

    assert_sent_without_pdf(response, senders, "render_failed")
    assert Invoice.get_by_id("inv_42").pdf_url is None
    assert calls_to(http, PDF_URL) == []


@pytest.mark.parametrize(
    "pdf",
    [
        {"status": 404},
        {"body": requests.ConnectTimeout("connect timed out")},
        {"body": "<html>sign in</html>"},
    ],
    ids=["not found", "timeout", "not a pdf"],
)
def test_failed_fetch_sends_the_email_without_pdf_and_keeps_the_url(
    call_job, senders, http, invoice, pdf
):
    service_answers(http, pdf=pdf)

    response = call_job("invoice-pdf", {"invoiceId": "inv_42"})

    assert_sent_without_pdf(response, senders, "fetch_failed")
    assert Invoice.get_by_id("inv_42").pdf_url == PDF_URL


@pytest.mark.parametrize(
    "config_overrides", [{**INVOICING_CONFIG, "INVOICE_PDF_MAX_BYTES": 1024}]
)
def test_pdf_over_the_size_cap_is_not_attached(
    call_job, senders, http, invoice, config_overrides
):
    service_answers(http, pdf={"body": PDF.ljust(1025, b" ")})

    response = call_job("invoice-pdf", {"invoiceId": "inv_42"})

    assert_sent_without_pdf(response, senders, "fetch_failed")


def test_customer_without_email_gets_the_pdf_rendered_but_no_email(
    call_job, senders, http, invoice
):
    invoice.customer.email = None
    invoice.customer.save()
    service_answers(http)

    response = call_job("invoice-pdf", {"invoiceId": "inv_42"})

    assert response.get_json() == {
        "success": True,
        "attached": False,
        "reason": None,
        "sent": False,
    }
    assert Invoice.get_by_id("inv_42").pdf_url == PDF_URL
    assert calls_to(http, PDF_URL) == []
    assert log_rows() == [("invoice:inv_42", "email", "skipped", "cus_priya")]


@pytest.mark.parametrize("status", ["draft", "void"])
def test_draft_or_void_invoice_is_not_emailed(call_job, senders, http, invoice, status):
    Invoice.update(status=status).where(Invoice.id == "inv_42").execute()

    response = call_job("invoice-pdf", {"invoiceId": "inv_42"})

    assert response.get_json()["sent"] is False
    assert len(http.calls) == 0 and senders.email.sent == []


def test_invoice_of_a_deleted_customer_is_not_emailed(
    call_job, senders, http, invoice, clock
):
    invoice.customer.deleted_at = clock.now() - timedelta(days=1)
    invoice.customer.save()

    response = call_job("invoice-pdf", {"invoiceId": "inv_42"})

    assert response.get_json()["sent"] is False
    assert len(http.calls) == 0 and senders.email.sent == []


def test_inter_state_membership_invoice_shows_igst(call_job, senders, http, clock):
    branch = f.branch(name="Indiranagar", gstin=None)
    customer = f.customer(name="Rahul Verma")
    gold = f.membership(customer, clock.now() + timedelta(days=365), plan_name="Gold")
    f.invoice(
        customer,
        branch,
        paid_at=clock.now(),
        id="inv_igst",
        number="RG/2026/0043",
        kind="membership_purchase",
        membership=gold,
        taxable="10000.00",
        rate="5.00",
        cgst=Decimal("0.00"),
        sgst=Decimal("0.00"),
        igst=Decimal("500.00"),
    )
    service_answers(http)

    call_job("invoice-pdf", {"invoiceId": "inv_igst"})

    document = json.loads(calls_to(http, RENDER)[0].request.body)
    assert (document["description"], document["igst"], document["total"]) == (
        "Gold membership",
        "500.00",
        "10500.00",
    )
    text = senders.email.sent[0].text
    assert "Branch:        Indiranagar\n" in text
    assert "IGST 5%: ₹500.00\n" in text and "CGST" not in text


def test_product_invoice_names_its_hsn_code_not_a_sac(call_job, senders, http, clock):
    branch = f.branch(name="Indiranagar")
    customer = f.customer(name="Rahul Verma")
    f.invoice(
        customer,
        branch,
        paid_at=clock.now(),
        id="inv_oil",
        number="RG/2026/0044",
        kind="product",
        sac_code="3304",
        taxable="1000.00",
        rate="18.00",
    )
    service_answers(http)

    call_job("invoice-pdf", {"invoiceId": "inv_oil"})

    text = senders.email.sent[0].text
    assert "(HSN 3304)\n" in text and "SAC" not in text
