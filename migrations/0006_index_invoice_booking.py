"""Index invoices by booking: invoice-pdf may name a booking instead of an invoice.

When the completion event sends `{"bookingId": ...}`, invoice-pdf looks up
that booking's invoice. schema.sql does not index invoice.booking_id, so the
lookup would read all 1,500,000 invoices.
"""

from migrations.online_index import create_index, drop_index

atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction


def up(migrator, db):
    create_index(db, "invoice_booking_id", "invoice", "booking_id")


def down(migrator, db):
    drop_index(db, "invoice_booking_id")
