"""Index push_subscription by owner: every push loads its recipient's browsers.

The notifier loads the subscriptions of a chunk of recipients at once
(`customer_id IN (...)`, `staff_id IN (...)`), and membership-usage-nudges
keeps only members who have a browser. schema.sql indexes neither column, so
each lookup would read the whole table (220,000 rows at chain scale).
"""

from migrations.online_index import create_index, drop_index

atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction


def up(migrator, db):
    create_index(
        db, "push_subscription_customer_id", "push_subscription", "customer_id"
    )
    create_index(db, "push_subscription_staff_id", "push_subscription", "staff_id")


def down(migrator, db):
    drop_index(db, "push_subscription_staff_id")
    drop_index(db, "push_subscription_customer_id")
