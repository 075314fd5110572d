"""The triggered jobs: enqueued with a delay after a business event.

Each body names one record. The job re-reads that record and acts on its
state at run time, never on what the event said: a booking confirmed in the
meantime is left alone, a renewed membership gets no expiry email. A body
that names nothing usable (missing, malformed, a non-string, empty or
overlong id, an id that does not exist) makes the job do nothing and answer
its "nothing done" shape.
"""

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from peewee import JOIN

from clock import format_ist, format_ist_date, ist_date, utc_iso
from formatting import first_name, hours, inr
from messages import push_message, render_email
from models import (
    Booking,
    Branch,
    Customer,
    Invoice,
    Service,
    SpaMembership,
    Staff,
)
from notifications import Notice, claim, mark, wait_for_holders
from senders import Attachment, Outcome, Result
from senders.invoicing import InvoicingClient

log = logging.getLogger(__name__)

MAX_ID_LENGTH = 128
STALE_AFTER = timedelta(hours=24)
AUTO_REJECT_REASON = "Auto-rejected: not confirmed within 24 hours"
EMAILED_INVOICE_STATUSES = ("issued", "paid")


def payload_id(payload, key):
    """The record id under `key`, or None unless it is a usable string.

    Usable: non-empty, at most MAX_ID_LENGTH characters, and printable (a NUL
    or a lone surrogate would make the database driver raise).
    """
    value = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        return None
    return value if value.isprintable() else None


def post_service_followup(ctx):
    """Ask for a review a day after a completed visit, with consent and an email."""
    booking = _booking(payload_id(ctx.payload, "bookingId"))
    if booking is None or booking.status != "completed":
        return {"success": True, "sent": False}
    customer = booking.customer
    if (
        customer.deleted_at is not None
        or not customer.marketing_consent
        or not customer.email
    ):
        return {"success": True, "sent": False}

    key = f"review-request:{booking.id}"
    name = first_name(customer.name)
    notice = Notice(
        dedupe_key=key,
        type="review-request",
        recipient_type="customer",
        recipient_id=customer.id,
        booking_id=booking.id,
        email=render_email(
            "review_request",
            customer.email,
            f"How was your visit to The Royal Glow {booking.branch.name}?",
            idempotency_key=key,
            first_name=name,
            service=_service_name(booking),
            branch=booking.branch.name,
            when=format_ist(booking.start_time),
            review_url=_link(ctx.config["REVIEW_URL"], booking=booking.id),
        ),
    )
    tally = ctx.notify([notice])

    return {"success": True, "sent": tally.processed > 0}


def stale_booking_alert(ctx):
    """Auto-reject a booking pending for over 24 h, else alert its receptionists.

    The rejection is a status-guarded UPDATE, so a confirmation that lands
    first always wins. A retry after the rejection (its notices failed)
    finishes the notices and changes nothing else.
    """
    booking = _booking(payload_id(ctx.payload, "bookingId"))
    if booking is None:
        return _stale_answer("none", 0)
    if booking.status == "rejected" and booking.status_reason == AUTO_REJECT_REASON:
        tally = ctx.notify(_rejection_notices(ctx, booking))
        return _stale_answer("none", tally.processed)
    if booking.status != "pending":
        return _stale_answer("none", 0)

    if booking.created_at < ctx.now - STALE_AFTER:
        changed = (
            Booking.update(
                status="rejected",
                status_reason=AUTO_REJECT_REASON,
                updated_at=ctx.now,
            )
            .where(Booking.id == booking.id, Booking.status == "pending")
            .execute()
        )
        if not changed:
            log.info("%s: %s changed meanwhile, not rejected", ctx.job, booking.id)
            return _stale_answer("none", 0)
        log.info("%s: %s auto-rejected", ctx.job, booking.id)
        tally = ctx.notify(_rejection_notices(ctx, booking))
        return _stale_answer("rejected", tally.processed)

    staff = receptionists(booking.branch_id)
    tally = ctx.notify([_pending_alert(ctx, booking, person) for person in staff])
    return _stale_answer("alerted", tally.processed)


def _stale_answer(action, notified):
    return {"success": True, "action": action, "notified": notified}


def _rejection_notices(ctx, booking):
    customer = booking.customer
    if customer.deleted_at is not None:
        return []
    key = f"stale-booking:{booking.id}:rejected:{customer.id}"
    service = _service_name(booking)
    when = format_ist(booking.start_time)
    branch = booking.branch.name
    return [
        Notice(
            dedupe_key=key,
            type="stale-booking",
            recipient_type="customer",
            recipient_id=customer.id,
            booking_id=booking.id,
            push=push_message(
                "Booking not confirmed",
                f"Sorry, {first_name(customer.name)}: your {service} at {branch} "
                f"on {when} could not be confirmed. Please pick another slot.",
                f"{ctx.config['APP_URL']}/bookings/{booking.id}",
                tag=f"booking-{booking.id}",
            ),
            email=render_email(
                "booking_rejected",
                customer.email,
                f"Your booking at The Royal Glow {branch} could not be confirmed",
                idempotency_key=key,
                first_name=first_name(customer.name),
                service=service,
                branch=branch,
                when=when,
                book_url=f"{ctx.config['APP_URL']}/book",
            ),
        )
    ]


def _pending_alert(ctx, booking, person):
    return Notice(
        dedupe_key=f"stale-booking:{booking.id}:alerted:{person.id}",
        type="stale-booking",
        recipient_type="staff",
        recipient_id=person.id,
        booking_id=booking.id,
        push=push_message(
            "Booking waiting for confirmation",
            f"{booking.customer.name}'s {_service_name(booking)} on "
            f"{format_ist(booking.start_time)} at {booking.branch.name} is still "
            "pending. Confirm or decline it.",
            f"{ctx.config['ADMIN_URL']}/bookings/{booking.id}",
            tag=f"booking-{booking.id}",
        ),
    )


def noshow_check(ctx):
    """Ask receptionists to review a booking still confirmed after it ended.

    Only an alert: whether the customer came is for people to decide, so the
    booking is never changed here.
    """
    booking = _booking(payload_id(ctx.payload, "bookingId"))
    if booking is None or booking.status != "confirmed" or booking.end_time >= ctx.now:
        return {"success": True, "notified": 0}

    notices = [
        Notice(
            dedupe_key=f"noshow:{booking.id}:{person.id}",
            type="noshow",
            recipient_type="staff",
            recipient_id=person.id,
            booking_id=booking.id,
            push=push_message(
                "Did the customer come?",
                f"{booking.customer.name}'s {_service_name(booking)} at "
                f"{booking.branch.name} ended at {format_ist(booking.end_time)} "
                "and is still confirmed. Mark it completed or a no-show.",
                f"{ctx.config['ADMIN_URL']}/bookings/{booking.id}",
                tag=f"booking-{booking.id}",
            ),
        )
        for person in receptionists(booking.branch_id)
    ]
    tally = ctx.notify(notices)

    return {"success": True, "notified": tally.processed}


def membership_expired_notice(ctx):
    """Email the renewal offer once a membership has expired and not been renewed.

    Renewing moves `expires_at` into the future, which is what this checks;
    the dedupe key holds the expiry instant, so a later expiry earns a new
    email.
    """
    membership = _membership(payload_id(ctx.payload, "membershipId"))
    if (
        membership is None
        or membership.status not in ("active", "expired")
        or membership.expires_at > ctx.now
    ):
        return {"success": True, "sent": False}
    customer = membership.customer
    if customer.deleted_at is not None or not customer.email:
        return {"success": True, "sent": False}

    key = f"membership-expired:{membership.id}:{utc_iso(membership.expires_at)}"
    left = membership.total_hours - membership.used_hours
    branch = membership.branch.name if membership.branch is not None else None
    notice = Notice(
        dedupe_key=key,
        type="membership-expired",
        recipient_type="customer",
        recipient_id=customer.id,
        email=render_email(
            "membership_expired",
            customer.email,
            f"Your {membership.plan_name} membership has expired",
            idempotency_key=key,
            first_name=first_name(customer.name),
            plan=membership.plan_name,
            branch=branch,
            expired_on=format_ist_date(ist_date(membership.expires_at)),
            unused=hours(left) if left > 0 else None,
            renew_url=f"{ctx.config['APP_URL']}/memberships/{membership.id}",
        ),
    )
    tally = ctx.notify([notice])

    return {"success": True, "sent": tally.processed > 0}


@dataclass(frozen=True)
class InvoiceFile:
    """The PDF for the invoice email, or why there is none."""

    attachment: Attachment | None = None
    reason: str | None = None  # unconfigured, render_failed, fetch_failed


def invoice_pdf(ctx):
    """Render the invoice's PDF if it has none, and email it to the customer.

    The email's notification row is claimed first and the PDF is rendered
    only while it is held, so simultaneous deliveries render and send once.
    Whatever goes wrong with the PDF, the email still goes, without it.
    """
    invoice = _invoice(ctx.payload)
    if (
        invoice is None
        or invoice.status not in EMAILED_INVOICE_STATUSES
        or invoice.customer.deleted_at is not None
    ):
        return _invoice_answer()
    notice = Notice(
        dedupe_key=f"invoice:{invoice.id}",
        type="invoice",
        recipient_type="customer",
        recipient_id=invoice.customer.id,
        booking_id=invoice.booking_id,
        email=_invoice_email(ctx, invoice),
    )
    claimed, held = claim(ctx, [notice])
    if held:
        wait_for_holders(ctx, held)
    if not claimed:
        log.info("%s: %s was emailed already", ctx.job, invoice.id)
        return _invoice_answer()

    pair = (notice.dedupe_key, "email")
    results = {}
    try:
        pdf = _invoice_file(ctx, invoice, wanted=bool(notice.email.to))
        if pdf.attachment is not None:
            notice.email = _invoice_email(ctx, invoice, pdf.attachment)
        results[pair] = _send_invoice_email(ctx, invoice, notice.email)
    finally:
        mark(ctx, claimed, results)

    sent = results[pair].outcome.delivered
    log.info(
        "%s: %s %s, pdf %s",
        ctx.job,
        invoice.id,
        "sent" if sent else results[pair].outcome.value,
        "attached" if pdf.attachment is not None else (pdf.reason or "not needed"),
    )
    return _invoice_answer(pdf.attachment is not None, pdf.reason, sent)


def _invoice_answer(attached=False, reason=None, sent=False):
    return {"success": True, "attached": attached, "reason": reason, "sent": sent}


def _invoice_file(ctx, invoice, wanted):
    """Reuse or render the invoice's PDF, then fetch it if `wanted`."""
    client = ctx.senders.invoicing or InvoicingClient(ctx.config)
    # Read again now that the claim is held: an earlier delivery whose email
    # failed may have stored a URL since the invoice was loaded.
    url = Invoice.select(Invoice.pdf_url).where(Invoice.id == invoice.id).scalar()

    if not url:
        if not client.configured:
            log.info("%s: invoicing is not configured, no pdf", ctx.job)
            return InvoiceFile(reason="unconfigured")
        rendered = client.render(invoice_document(invoice), _time_left(ctx))
        if rendered.url is None:
            log.warning("%s: %s not rendered, %s", ctx.job, invoice.id, rendered.error)
            return InvoiceFile(reason="render_failed")
        url = _store_pdf_url(invoice.id, rendered.url)
    if not wanted:
        return InvoiceFile()

    fetched = client.fetch_pdf(url, _time_left(ctx))
    if fetched.content is None:
        log.warning("%s: %s pdf not fetched, %s", ctx.job, invoice.id, fetched.error)
        return InvoiceFile(reason="fetch_failed")
    return InvoiceFile(Attachment(_pdf_filename(invoice.number), fetched.content))


def _store_pdf_url(invoice_id, url):
    """Keep the first URL stored for an invoice; answer the one that stands."""
    empty = Invoice.pdf_url.is_null() | (Invoice.pdf_url == "")
    stored = (
        Invoice.update(pdf_url=url).where(Invoice.id == invoice_id, empty).execute()
    )
    if stored:
        return url
    return Invoice.select(Invoice.pdf_url).where(Invoice.id == invoice_id).scalar()


def _send_invoice_email(ctx, invoice, email):
    """Send one email on its own: provider batch calls take no attachments."""
    if not email.to:
        return Result(Outcome.NO_ADDRESS, "no email")
    try:
        result = ctx.senders.email.send(email)
    except Exception as error:  # a sender bug must not lose the claim
        log.exception("%s: the email sender raised", ctx.job)
        result = Result(Outcome.TRANSIENT, f"{type(error).__name__}: {error}"[:500])
    if result.outcome is Outcome.TRANSIENT:
        ctx.transient_failures += 1
        log.warning("%s: %s email failed, %s", ctx.job, invoice.id, result.detail)
    return result


def _time_left(ctx):
    budget = ctx.budget
    return budget.seconds - (budget.timer() - budget.started)


def invoice_document(invoice):
    """The invoice as the invoicing service takes it; amounts are exact strings."""
    branch, customer = invoice.branch, invoice.customer
    return {
        "id": invoice.id,
        "number": invoice.number,
        "kind": invoice.kind,
        "status": invoice.status,
        "invoiceDate": ist_date(invoice.paid_at or invoice.created_at).isoformat(),
        "createdAt": utc_iso(invoice.created_at),
        "paidAt": utc_iso(invoice.paid_at) if invoice.paid_at else None,
        "branch": {
            "id": branch.id,
            "name": branch.name,
            "gstin": branch.gstin,
            "stateCode": branch.state_code,
        },
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
        },
        "bookingId": invoice.booking_id,
        "membershipId": invoice.membership_id,
        "description": _invoice_description(invoice),
        "sacCode": invoice.sac_code,
        "gstRate": str(invoice.gst_rate),
        "taxableAmount": str(invoice.taxable_amount),
        "cgst": str(invoice.cgst),
        "sgst": str(invoice.sgst),
        "igst": str(invoice.igst),
        "total": str(invoice.total),
        "currency": "INR",
    }


def _invoice_email(ctx, invoice, attachment=None):
    key = f"invoice:{invoice.id}"
    rate = invoice.gst_rate
    email = render_email(
        "invoice",
        invoice.customer.email,
        f"Your invoice {invoice.number} from The Royal Glow {invoice.branch.name}",
        idempotency_key=key,
        first_name=first_name(invoice.customer.name),
        number=invoice.number,
        date=format_ist_date(ist_date(invoice.paid_at or invoice.created_at)),
        paid=invoice.status == "paid",
        branch=invoice.branch.name,
        gstin=invoice.branch.gstin,
        description=_invoice_description(invoice),
        sac=invoice.sac_code,
        # Goods carry an HSN code, services a SAC, in the same column.
        code_kind="HSN" if invoice.kind == "product" else "SAC",
        taxable=inr(invoice.taxable_amount),
        rate=_percent(rate),
        half_rate=_percent(rate / 2),
        cgst=inr(invoice.cgst),
        sgst=inr(invoice.sgst),
        igst=inr(invoice.igst) if invoice.igst else None,
        total=inr(invoice.total),
        attached=attachment is not None,
    )
    if attachment is not None:
        email.attachments = [attachment]
    return email


def _invoice_description(invoice):
    if invoice.kind == "membership_purchase" and invoice.membership is not None:
        return f"{invoice.membership.plan_name} membership"
    if invoice.kind == "service" and invoice.booking is not None:
        service = invoice.booking.service
        return service.name if service is not None else "Spa service"
    return {"membership_purchase": "Spa membership", "product": "Products"}.get(
        invoice.kind, "Spa service"
    )


def _percent(rate):
    return f"{rate.normalize():f}%"


def _pdf_filename(number):
    return "Invoice-" + re.sub(r"[^A-Za-z0-9._-]+", "-", number).strip("-") + ".pdf"


def receptionists(branch_id):
    """Active receptionists of a branch, those without a branch included."""
    return list(
        Staff.select(Staff.id)
        .where(
            Staff.is_active == True,  # noqa: E712 (SQL, not Python)
            Staff.role == "receptionist",
            (Staff.branch == branch_id) | Staff.branch.is_null(),
        )
        .order_by(Staff.id)
    )


def _booking(booking_id):
    """A booking with its customer, branch and service, in one query."""
    if booking_id is None:
        return None
    return (
        Booking.select(Booking, Customer, Branch, Service)
        .join(Customer)
        .switch(Booking)
        .join(Branch)
        .switch(Booking)
        .join(Service, JOIN.LEFT_OUTER)
        .where(Booking.id == booking_id)
        .first()
    )


def _membership(membership_id):
    if membership_id is None:
        return None
    return (
        SpaMembership.select(SpaMembership, Customer, Branch)
        .join(Customer)
        .switch(SpaMembership)
        .join(Branch, JOIN.LEFT_OUTER)
        .where(SpaMembership.id == membership_id)
        .first()
    )


def _invoice(payload):
    """The invoice a body names: `invoiceId`, or the invoice of `bookingId`."""
    invoice_id = payload_id(payload, "invoiceId")
    booking_id = None if invoice_id else payload_id(payload, "bookingId")
    if invoice_id is None and booking_id is None:
        return None
    query = (
        Invoice.select(Invoice, Customer, Branch, Booking, Service, SpaMembership)
        .join(Customer)
        .switch(Invoice)
        .join(Branch)
        .switch(Invoice)
        .join(Booking, JOIN.LEFT_OUTER)
        .join(Service, JOIN.LEFT_OUTER)
        .switch(Invoice)
        .join(SpaMembership, JOIN.LEFT_OUTER)
    )
    if invoice_id is not None:
        return query.where(Invoice.id == invoice_id).first()
    return (
        query.where(
            Invoice.booking == booking_id,
            Invoice.status.in_(EMAILED_INVOICE_STATUSES),
        )
        .order_by(Invoice.created_at.desc(), Invoice.id.desc())
        .first()
    )


def _service_name(booking):
    return booking.service.name if booking.service is not None else "appointment"


def _link(base, **params):
    """`base` with `params` added to its query string."""
    parts = urlsplit(base)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit(parts._replace(query=query))
