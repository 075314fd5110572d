"""Index the usage nudges already sent, by member and time.

membership-usage-nudges skips members nudged in the last 7 days and counts
today's nudges; both read notification_log rows of type `usage-nudge`. The
log holds every notification the service ever sent, so without this index
each run reads all of it. Partial: only usage-nudge rows (20 a day) are in it,
so the millions of other notifications cost it nothing.
"""

from migrations.online_index import create_index, drop_index

atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction


def up(migrator, db):
    create_index(
        db,
        "notification_log_usage_nudge",
        "notification_log",
        "recipient_id, created_at",
        "type = 'usage-nudge'",
    )


def down(migrator, db):
    drop_index(db, "notification_log_usage_nudge")
