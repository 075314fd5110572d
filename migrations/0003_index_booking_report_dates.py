"""Index the booking dates the sales figures count by.

The daily and weekly reports count, per branch and IST day, completed
bookings by `completed_at`, new bookings by `created_at` and cancellations by
`updated_at`; nightly-sales-summary counts completed bookings the same way.
schema.sql indexes bookings only by status and start or end time, so each
count read all 2,000,000 bookings. The completed and cancelled indexes are
partial: they hold only the rows those counts can match.
"""

from migrations.online_index import create_index, drop_index

atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction


def up(migrator, db):
    create_index(
        db, "booking_completed_at", "booking", "completed_at", "status = 'completed'"
    )
    create_index(db, "booking_created_at", "booking", "created_at")
    create_index(
        db, "booking_cancelled_at", "booking", "updated_at", "status = 'cancelled'"
    )


def down(migrator, db):
    for name in ("booking_cancelled_at", "booking_created_at", "booking_completed_at"):
        drop_index(db, name)
