"""Fill a PostgreSQL database with a spa chain's worth of rows, in minutes.

    python -m bench.seed                 # 200 branches, 500,000 customers, ...
    python -m bench.seed --scale 0.002   # the same shape at 1,000 customers

The database (BENCH_DATABASE_URL, default jobs_bench on 127.0.0.1) is dropped
and created again. Tables come from the service's models, with the indexes
of schema.sql (not the ones Peewee adds on foreign keys), then the service's
migrations as a release runs them; rows are generated inside PostgreSQL with set-based
`INSERT ... SELECT generate_series(...)`, from a seeded hash, so two runs at
the same scale produce the same rows. Every row is laid out around one fixed
instant (`--now`, stored in `bench_meta`) with the due counts a real day
has: a few hundred reminders per window, about 1,400 birthdays, memberships
expiring in 30, 7 and 1 days, gem lots expiring, overdue follow-up leads,
yesterday's and last month's invoices at 5 % and 18 %, half the sessions
expired. The notification log holds the last 30 days of reminders, so
appointment-reminders meets the steady state of a job that runs every 15
minutes.
"""

import argparse
import time
from datetime import UTC, datetime

from peewee import ForeignKeyField

from bench.common import (
    bench_url,
    connect,
    database_name,
    lower_priority,
    recreate_database,
    session_settings,
    write_json,
)
from models import PLATFORM_MODELS, create_tables, db

DEFAULT_NOW = "2026-12-04T10:00:00+00:00"  # Friday 15:30 IST

FULL = {
    "branches": 200,
    "customers": 500_000,
    "bookings": 2_000_000,
    "memberships": 100_000,
    "earned_lots": 1_600_000,  # with redemptions and expiries: ~3,000,000 rows
    "leads": 50_000,
    "invoices": 1_500_000,
    "sessions": 1_000_000,
    "offers": 1_000,
}
SERVICES = 40
STAFF_PER_BRANCH = 11  # 1 manager, 3 receptionists, 6 therapists, 1 sales
FUTURE_SHARE = 0.0175  # bookings made ahead: about 60 % of tomorrow is booked

FIRST_NAMES = (
    "Priya Ananya Rahul Arjun Kavya Meera Rohan Isha Vikram Sneha Aditya Divya "
    "Karan Pooja Nikhil Lakshmi"
).split()
LAST_NAMES = (
    "Sharma Iyer Verma Reddy Nair Gupta Rao Menon Das Kapoor Singh Joshi"
).split()

HELPERS = """
CREATE TABLE bench_meta (key text PRIMARY KEY, value text NOT NULL);

-- A uniform number in [0, 1) from a row number and a salt: the same every run.
CREATE FUNCTION bench_rand(i bigint, salt int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ((hashint8extended(i, salt) >> 11) & 9007199254740991)::float8
             / 9007199254740992.0 $$;

-- A whole number in [1, n].
CREATE FUNCTION bench_pick(i bigint, salt int, n bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT 1 + floor(bench_rand(i, salt) * n)::bigint $$;

CREATE FUNCTION bench_now() RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT timestamptz '{now}' $$;

CREATE FUNCTION bench_today() RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (bench_now() AT TIME ZONE 'Asia/Kolkata')::date $$;

-- The instant at `minutes` past midnight IST on day `d`.
CREATE FUNCTION bench_ist(d date, minutes int) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (d + make_interval(mins => minutes)) AT TIME ZONE 'Asia/Kolkata' $$;
"""

# The indexes schema.sql declares that the models do not; the platform's
# database has them, so the bench must too.
PLATFORM_INDEXES = """
CREATE INDEX IF NOT EXISTS gems_transaction_expires_at ON gems_transaction (expires_at)
    WHERE kind = 'earned';
"""


def steps(n):
    """The generating statements, in dependency order, for the sizes in `n`."""
    past = n["bookings"] - round(n["bookings"] * FUTURE_SHARE)
    first = "ARRAY[" + ",".join(f"'{x}'" for x in FIRST_NAMES) + "]"
    last = "ARRAY[" + ",".join(f"'{x}'" for x in LAST_NAMES) + "]"
    staff_top = (n["branches"] + 1) * STAFF_PER_BRANCH
    yield (
        "branch",
        f"""
INSERT INTO branch (id, name, gstin, state_code, is_active)
SELECT 'br_' || lpad(i::text, 4, '0'), 'Branch ' || i,
       st || 'ABCDE' || lpad(i::text, 4, '0') || 'F1Z5', st, i % 50 <> 0
FROM generate_series(1, {n["branches"]}) AS i,
     LATERAL (SELECT (ARRAY['29','27','07','33','36','32'])[1 + i % 6] AS st) s
""",
    )
    yield (
        "service",
        f"""
INSERT INTO service (id, name, category)
SELECT 'svc_' || lpad(i::text, 3, '0'), 'Service ' || i,
       (ARRAY['massage','facial','hair','nails','body'])[1 + i % 5]
FROM generate_series(1, {SERVICES}) AS i
""",
    )
    yield (
        "staff",
        f"""
INSERT INTO staff (id, name, email, role, branch_id, is_active)
SELECT 'stf_' || lpad(n::text, 6, '0'), 'Staff ' || n, 'stf' || n || '@bench.invalid',
       CASE WHEN k = 0 THEN 'manager' WHEN k <= 3 THEN 'receptionist'
            WHEN k <= 9 THEN 'therapist' ELSE 'sales' END,
       'br_' || lpad(b::text, 4, '0'), bench_rand(n, 1) >= 0.05
FROM generate_series(1, {n["branches"]}) AS b, generate_series(0, 10) AS k,
     LATERAL (SELECT b * {STAFF_PER_BRANCH} + k AS n) s
UNION ALL
SELECT 'stf_' || lpad(n::text, 6, '0'), 'Staff ' || n, 'stf' || n || '@bench.invalid',
       CASE WHEN k < 4 THEN 'receptionist' WHEN k < 8 THEN 'admin' ELSE 'sales' END,
       NULL, true
FROM generate_series(0, 13) AS k, LATERAL (SELECT {staff_top} + k AS n) s
""",
    )
    yield (
        "customer",
        f"""
INSERT INTO customer (id, name, email, phone, date_of_birth, marketing_consent,
                      gems_balance, created_at, deleted_at)
SELECT 'cus_' || lpad(i::text, 7, '0'),
       ({first})[1 + i % {len(FIRST_NAMES)}] || ' '
           || ({last})[1 + (i / {len(FIRST_NAMES)}) % {len(LAST_NAMES)}],
       CASE WHEN bench_rand(i, 2) < 0.9 THEN 'cus' || i || '@bench.invalid' END,
       '+9198' || lpad(i::text, 8, '0'),
       CASE WHEN bench_rand(i, 3) < 0.97
            THEN date '1960-01-01' + floor(bench_rand(i, 4) * 16800)::int END,
       bench_rand(i, 5) < 0.6, 0, created,
       CASE WHEN bench_rand(i, 6) < 0.02
            THEN created + bench_rand(i, 7) * (bench_now() - created) END
FROM generate_series(1, {n["customers"]}) AS i,
     LATERAL (SELECT bench_now() - bench_rand(i, 8) * interval '1000 days' AS created) s
""",
    )
    yield (
        "push_subscription",
        f"""
INSERT INTO push_subscription (id, customer_id, staff_id, endpoint, p256dh, auth,
                               created_at)
SELECT 'ps_c' || i || '_' || k, 'cus_' || lpad(i::text, 7, '0'), NULL,
       'https://push.bench.invalid/c/' || i || '/' || k, 'bench-p256dh', 'bench-auth',
       bench_now() - interval '100 days'
FROM generate_series(1, {n["customers"]}) AS i, generate_series(1, 2) AS k
WHERE bench_rand(i, 20) < 0.4 AND (k = 1 OR bench_rand(i, 21) < 0.1)
UNION ALL
SELECT 'ps_s' || substr(id, 5), NULL, id, 'https://push.bench.invalid/s/' || id,
       'bench-p256dh', 'bench-auth', bench_now() - interval '100 days'
FROM staff WHERE bench_rand(substr(id, 5)::bigint, 22) < 0.7
""",
    )
    yield (
        "spa_membership",
        f"""
INSERT INTO spa_membership (id, customer_id, branch_id, plan_name, status, starts_at,
                            expires_at, total_hours, used_hours, created_at, updated_at)
SELECT 'mem_' || lpad(i::text, 6, '0'),
       'cus_' || lpad(bench_pick(i, 30, {n["customers"]})::text, 7, '0'),
       'br_' || lpad(bench_pick(i, 31, {n["branches"]})::text, 4, '0'),
       CASE WHEN big THEN 'Platinum Spa 24 Hours' ELSE 'Gold Spa 12 Hours' END,
       status, expires - interval '365 days', expires, total,
       LEAST(total, floor(bench_rand(i, 32) * (total + 2))),
       expires - interval '365 days', expires - interval '365 days'
FROM (
    SELECT i, bench_rand(i, 33) < 0.5 AS big,
           CASE WHEN bench_rand(i, 33) < 0.5 THEN 24 ELSE 12 END AS total,
           CASE WHEN r < 0.60 THEN 'active' WHEN r < 0.95 THEN 'expired'
                ELSE 'cancelled' END AS status,
           CASE WHEN r < 0.60
                THEN bench_now() - interval '1 day' + u * interval '366 days'
                WHEN r < 0.95
                THEN bench_now() - interval '1 day' - u * interval '365 days'
                ELSE bench_now() - interval '180 days' + u * interval '365 days'
           END AS expires
    FROM generate_series(1, {n["memberships"]}) AS i,
         LATERAL (SELECT bench_rand(i, 34) AS r, bench_rand(i, 35) AS u) s
) m
""",
    )
    yield (
        "booking",
        f"""
WITH slots AS (
    SELECT i,
           bench_ist(bench_today() + CASE
                   WHEN i <= {past} THEN -floor(bench_rand(i, 40) * 340)::int
                   ELSE LEAST(35, 1 + floor(-ln(1 - bench_rand(i, 40)) * 10)::int)
               END,
               600 + 15 * floor(bench_rand(i, 41) * 40)::int) AS start_at,
           CASE WHEN bench_rand(i, 42) < 0.6 THEN 60 ELSE 90 END AS minutes,
           bench_rand(i, 43) AS r
    FROM generate_series(1, {n["bookings"]}) AS i
), shaped AS (
    SELECT i, start_at, end_at,
           CASE WHEN end_at < bench_now() THEN
                CASE WHEN r < 0.80 THEN 'completed' WHEN r < 0.90 THEN 'cancelled'
                     WHEN r < 0.93 THEN 'no_show' WHEN r < 0.95 THEN 'rejected'
                     WHEN r < 0.99 THEN 'confirmed' ELSE 'pending' END
           ELSE
                CASE WHEN r < 0.85 THEN 'confirmed' WHEN r < 0.93 THEN 'pending'
                     ELSE 'cancelled' END
           END AS status,
           LEAST(bench_now() - bench_rand(i, 44) * interval '1 hour',
                 start_at - interval '2 hours' - bench_rand(i, 45) * interval '14 days')
               AS created
    FROM slots, LATERAL (SELECT start_at + make_interval(mins => minutes) AS end_at) e
)
INSERT INTO booking (id, customer_id, branch_id, service_id, status, start_time,
                     end_time, amount, payment_status, created_at, updated_at,
                     completed_at, status_reason)
SELECT 'bk_' || lpad(i::text, 8, '0'),
       'cus_' || lpad(bench_pick(i, 46, {n["customers"]})::text, 7, '0'),
       'br_' || lpad(bench_pick(i, 47, {n["branches"]})::text, 4, '0'),
       'svc_' || lpad(bench_pick(i, 48, {SERVICES})::text, 3, '0'),
       status, start_at, end_at, 1500 + 50 * floor(bench_rand(i, 49) * 90),
       CASE WHEN status = 'completed' THEN 'paid' ELSE 'unpaid' END, created,
       CASE WHEN status = 'completed' THEN done
            WHEN status IN ('cancelled', 'rejected')
            THEN created + bench_rand(i, 50) * (LEAST(start_at, bench_now()) - created)
            ELSE created END,
       CASE WHEN status = 'completed' THEN done END,
       CASE WHEN status = 'cancelled' THEN 'Cancelled by the customer'
            WHEN status = 'rejected' THEN 'Not confirmed in time' END
FROM shaped,
     LATERAL (SELECT LEAST(end_at + bench_rand(i, 51) * interval '30 minutes',
                           bench_now()) AS done) d
""",
    )
    yield "invoice (service, membership)", SERVICE_RAW + INVOICE_INSERT
    yield (
        "invoice (product)",
        lambda done: (
            PRODUCT_RAW.format(
                count=max(0, n["invoices"] - done["invoice (service, membership)"]),
                customers=n["customers"],
                branches=n["branches"],
            )
            + INVOICE_INSERT
        ),
    )
    yield (
        "gems_transaction (earned)",
        f"""
INSERT INTO gems_transaction (id, customer_id, kind, amount, expires_at, created_at)
SELECT 'gem_e' || lpad(i::text, 8, '0'),
       'cus_' || lpad((2 * bench_pick(i, 70, {n["customers"] // 2}))::text, 7, '0'),
       'earned', 10 * bench_pick(i, 71, 50), at + interval '365 days', at
FROM generate_series(1, {n["earned_lots"]}) AS i,
     LATERAL (SELECT bench_now() - bench_rand(i, 72) * interval '730 days' AS at) s
""",
    )
    yield (
        "gems_transaction (redeemed)",
        """
INSERT INTO gems_transaction (id, customer_id, kind, amount, created_at)
SELECT 'gem_r' || substr(g.customer_id, 5) || '_' || j, g.customer_id, 'redeemed',
       -floor(0.5 * g.earned / g.k)::int,
       g.first_at + bench_rand(substr(g.customer_id, 5)::bigint * 100 + j, 73)
                    * (bench_now() - g.first_at)
FROM (SELECT customer_id, SUM(amount) AS earned, MIN(created_at) AS first_at,
             floor(COUNT(*) * 0.4)::int AS k
      FROM gems_transaction WHERE kind = 'earned' GROUP BY customer_id) g,
     generate_series(1, g.k) AS j
WHERE g.k > 0
""",
    )
    # Lots that expired before yesterday were expired by earlier runs. Their
    # expiry rows follow section 6 of the spec: redemptions consume the
    # oldest lots first, and an expiry takes what is left of its lot.
    yield (
        "gems_transaction (expired)",
        """
INSERT INTO gems_transaction (id, customer_id, kind, amount, reference, created_at)
SELECT 'gem_x' || substr(l.id, 6), l.customer_id, 'expired',
       -LEAST(l.amount,
              GREATEST(0, l.amount - GREATEST(0, COALESCE(r.redeemed, 0)
                                                   - l.earned_before))),
       'expired:' || l.id, l.expires_at + interval '10 minutes'
FROM (SELECT id, customer_id, amount, expires_at,
             SUM(amount) OVER (PARTITION BY customer_id ORDER BY created_at, id)
                 - amount AS earned_before
      FROM gems_transaction WHERE kind = 'earned') l
LEFT JOIN (SELECT customer_id, -SUM(amount) AS redeemed
           FROM gems_transaction WHERE kind = 'redeemed'
           GROUP BY customer_id) r USING (customer_id)
WHERE l.expires_at <= bench_now() - interval '1 day'
""",
    )
    yield (
        "customer.gems_balance",
        """
UPDATE customer c SET gems_balance = s.total
FROM (SELECT customer_id, SUM(amount) AS total
      FROM gems_transaction GROUP BY customer_id) s
WHERE c.id = s.customer_id
""",
    )
    yield (
        "lead",
        f"""
INSERT INTO lead (id, name, phone, email, status, assigned_staff_id, last_contacted_at,
                  created_at)
SELECT 'lead_' || lpad(i::text, 6, '0'), 'Lead ' || i, '+9197' || lpad(i::text, 8, '0'),
       CASE WHEN bench_rand(i, 80) < 0.5 THEN 'lead' || i || '@bench.invalid' END,
       CASE WHEN s < 0.25 THEN 'new' WHEN s < 0.55 THEN 'contacted'
            WHEN s < 0.575 THEN 'follow_up' WHEN s < 0.85 THEN 'converted'
            ELSE 'lost' END,
       CASE WHEN bench_rand(i, 82) < 0.92
            THEN 'stf_' || lpad((bench_pick(i, 83, {n["branches"]}) * {STAFF_PER_BRANCH}
                                 + floor(bench_rand(i, 84) * {STAFF_PER_BRANCH}))::text,
                                6, '0') END,
       CASE WHEN bench_rand(i, 85) < 0.7
            THEN bench_now() - bench_rand(i, 86) * interval '20 days' END,
       bench_now() - interval '20 days' - bench_rand(i, 87) * interval '60 days'
FROM generate_series(1, {n["leads"]}) AS i, LATERAL (SELECT bench_rand(i, 81) AS s) r
""",
    )
    yield (
        "offer",
        f"""
INSERT INTO offer (id, title, start_date, end_date, is_active, updated_at)
SELECT 'off_' || lpad(i::text, 5, '0'), 'Offer ' || i, s, e,
       (e IS NULL OR e >= bench_today() - 1) AND bench_rand(i, 92) >= 0.1,
       bench_now() - interval '30 days'
FROM generate_series(1, {n["offers"]}) AS i,
     LATERAL (SELECT bench_today() - floor(bench_rand(i, 90) * 200)::int AS s) a,
     LATERAL (SELECT CASE WHEN bench_rand(i, 91) < 0.2 THEN NULL
                          ELSE s + floor(bench_rand(i, 93) * 120)::int END AS e) b
""",
    )
    yield (
        "report_recipient",
        """
INSERT INTO report_recipient (id, email, is_active)
SELECT 'rr_' || i, 'owner' || i || '@bench.invalid', i <> 5
FROM generate_series(1, 5) AS i
""",
    )
    yield (
        "session",
        f"""
INSERT INTO "session" (id, "expiresAt", token, "createdAt", "updatedAt", "ipAddress",
                       "userAgent", "userId")
SELECT 'ses_' || lpad(i::text, 8, '0'), e, md5('bench-token-' || i),
       e - interval '7 days',
       e - interval '7 days' + bench_rand(i, 101) * interval '6 days',
       '10.0.' || (i % 250) || '.' || (i % 200), 'Mozilla/5.0 (bench)',
       'usr_' || bench_pick(i, 102, {n["customers"]})
FROM generate_series(1, {n["sessions"]}) AS i,
     LATERAL (SELECT bench_now() - interval '30 days'
                     + bench_rand(i, 100) * interval '60 days' AS e) s
""",
    )
    yield (
        "notification_log (30 days of reminders)",
        """
INSERT INTO notification_log (dedupe_key, channel, type, recipient_type, recipient_id,
                              booking_id, status, attempts, created_at, updated_at)
SELECT 'appointment-reminder:' || w.name || ':' || b.id || ':'
           || to_char(b.start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       c.channel, 'appointment-reminder', 'customer', b.customer_id, b.id, 'sent', 1,
       b.start_time - w.ahead + interval '5 minutes',
       b.start_time - w.ahead + interval '5 minutes'
FROM booking b
CROSS JOIN (VALUES ('24h', interval '24 hours'), ('1h', interval '1 hour'))
    AS w(name, ahead)
CROSS JOIN (VALUES ('push'), ('email')) AS c(channel)
WHERE b.status IN ('confirmed', 'completed', 'no_show')
  AND b.start_time > bench_now() - interval '30 days'
  AND b.start_time <= bench_now() + w.ahead - interval '15 minutes'
""",
    )
    yield (
        "notification_log (60 days of usage nudges)",
        f"""
INSERT INTO notification_log (dedupe_key, channel, type, recipient_type, recipient_id,
                              status, attempts, created_at, updated_at)
SELECT 'usage-nudge:' || m.id || ':' || (bench_today() - d), 'push', 'usage-nudge',
       'customer', m.customer_id, 'sent', 1, bench_ist(bench_today() - d, 660),
       bench_ist(bench_today() - d, 660)
FROM generate_series(1, 60) AS d, generate_series(1, 20) AS k,
     LATERAL (SELECT bench_pick(d * 100 + k, 110, {n["memberships"]}) AS pick) p
JOIN spa_membership m ON m.id = 'mem_' || lpad(p.pick::text, 6, '0')
ON CONFLICT DO NOTHING
""",
    )
    yield (
        "notification_log (30 days of birthdays)",
        """
INSERT INTO notification_log (dedupe_key, channel, type, recipient_type, recipient_id,
                              status, attempts, created_at, updated_at)
SELECT 'birthday:' || c.id || ':' || extract(year FROM x.day)::int, ch.channel,
       'birthday', 'customer', c.id,
       CASE WHEN ch.channel = 'email' AND c.email IS NULL THEN 'skipped'
            ELSE 'sent' END,
       1, bench_ist(x.day, 570), bench_ist(x.day, 570)
FROM generate_series(1, 30) AS d
CROSS JOIN LATERAL (SELECT bench_today() - d AS day) x
JOIN customer c
  ON extract(month FROM c.date_of_birth) = extract(month FROM x.day)
 AND extract(day FROM c.date_of_birth) = extract(day FROM x.day)
CROSS JOIN (VALUES ('email'), ('in_app')) AS ch(channel)
WHERE c.deleted_at IS NULL AND c.marketing_consent
""",
    )


SERVICE_RAW = """
WITH raw AS (
    SELECT 'inv_s' || substr(b.id, 4) AS id, 'RG/S/' || substr(b.id, 4) AS number,
           b.customer_id, b.branch_id, b.id AS booking_id, NULL AS membership_id,
           'service' AS kind, '999721' AS sac, 5.00 AS rate, b.amount AS taxable,
           b.completed_at AS at, substr(b.id, 4)::bigint AS n
    FROM booking b
    WHERE b.status = 'completed' AND bench_rand(substr(b.id, 4)::bigint, 60) < 0.86
    UNION ALL
    SELECT 'inv_m' || substr(m.id, 5), 'RG/M/' || substr(m.id, 5), m.customer_id,
           m.branch_id, NULL, m.id, 'membership_purchase', '999721', 18.00,
           CASE WHEN m.total_hours > 12 THEN 42000 ELSE 24000 END, m.created_at,
           substr(m.id, 5)::bigint + 100000000
    FROM spa_membership m
    WHERE m.created_at <= bench_now()
)
"""

INVOICE_INSERT = """
INSERT INTO invoice (id, number, customer_id, branch_id, booking_id, membership_id,
                     kind, status, sac_code, gst_rate, taxable_amount, cgst, sgst, igst,
                     total, paid_at, created_at)
SELECT id, number, customer_id, branch_id, booking_id, membership_id, kind,
       CASE WHEN r < 0.97 THEN 'paid' WHEN r < 0.99 THEN 'void' ELSE 'issued' END,
       sac, rate, taxable,
       CASE WHEN inter THEN 0 ELSE round(tax / 2, 2) END,
       CASE WHEN inter THEN 0 ELSE tax - round(tax / 2, 2) END,
       CASE WHEN inter THEN tax ELSE 0 END,
       taxable + tax, CASE WHEN r < 0.97 THEN at END, at
FROM raw,
     LATERAL (SELECT bench_rand(n, 61) AS r, bench_rand(n, 62) < 0.03 AS inter,
                     round(taxable * rate / 100, 2) AS tax) t
"""

PRODUCT_RAW = """
WITH raw AS (
    SELECT 'inv_p' || lpad(i::text, 8, '0') AS id, 'RG/P/' || lpad(i::text, 8, '0')
               AS number,
           'cus_' || lpad(bench_pick(i, 63, {customers})::text, 7, '0') AS customer_id,
           'br_' || lpad(bench_pick(i, 64, {branches})::text, 4, '0') AS branch_id,
           NULL AS booking_id, NULL AS membership_id, 'product' AS kind,
           '3304' AS sac, 18.00 AS rate, 200 + 50 * bench_pick(i, 65, 60) AS taxable,
           bench_now() - bench_rand(i, 66) * interval '340 days' AS at,
           i + 200000000 AS n
    FROM generate_series(1, {count}) AS i
)
"""

DUE_COUNTS = {
    "reminders due, 1h window (not yet sent)": """
        SELECT count(*) FROM booking b JOIN customer c ON c.id = b.customer_id
        WHERE b.status = 'confirmed' AND c.deleted_at IS NULL
          AND b.start_time > bench_now()
          AND b.start_time <= bench_now() + interval '1 hour'
          AND NOT EXISTS (SELECT 1 FROM notification_log n
                          WHERE n.booking_id = b.id AND n.dedupe_key LIKE '%:1h:%')""",
    "reminders due, 24h window (not yet sent)": """
        SELECT count(*) FROM booking b JOIN customer c ON c.id = b.customer_id
        WHERE b.status = 'confirmed' AND c.deleted_at IS NULL
          AND b.start_time > bench_now() + interval '1 hour'
          AND b.start_time <= bench_now() + interval '24 hours'
          AND NOT EXISTS (SELECT 1 FROM notification_log n
                          WHERE n.booking_id = b.id AND n.dedupe_key LIKE '%:24h:%')""",
    "bookings in the 24h window (cold log)": """
        SELECT count(*) FROM booking
        WHERE status = 'confirmed' AND start_time > bench_now() + interval '1 hour'
          AND start_time <= bench_now() + interval '24 hours'""",
    "birthdays today (any consent)": """
        SELECT count(*) FROM customer
        WHERE deleted_at IS NULL
          AND extract(month FROM date_of_birth) = extract(month FROM bench_today())
          AND extract(day FROM date_of_birth) = extract(day FROM bench_today())""",
    "memberships expiring in 30, 7 or 1 days": """
        SELECT count(*) FROM spa_membership
        WHERE status = 'active'
          AND (expires_at AT TIME ZONE 'Asia/Kolkata')::date - bench_today()
              IN (30, 7, 1)""",
    "memberships past expiry, still active": """
        SELECT count(*) FROM spa_membership
        WHERE status = 'active' AND expires_at <= bench_now()""",
    "follow-up leads quiet for 48 h": """
        SELECT count(*) FROM lead
        WHERE status = 'follow_up'
          AND COALESCE(last_contacted_at, created_at)
              < bench_now() - interval '48 hours'""",
    "gem lots expiring in 7 days": """
        SELECT count(*) FROM gems_transaction
        WHERE kind = 'earned'
          AND (expires_at AT TIME ZONE 'Asia/Kolkata')::date = bench_today() + 7""",
    "gem lots due to expire": """
        SELECT count(*) FROM gems_transaction g
        WHERE kind = 'earned' AND expires_at <= bench_now()
          AND NOT EXISTS (SELECT 1 FROM gems_transaction x
                          WHERE x.reference = 'expired:' || g.id)""",
    "offers ended before today, still active": """
        SELECT count(*) FROM offer WHERE is_active AND end_date < bench_today()""",
    "invoices paid yesterday": """
        SELECT count(*) FROM invoice
        WHERE status = 'paid' AND paid_at >= bench_ist(bench_today() - 1, 0)
          AND paid_at < bench_ist(bench_today(), 0)""",
    "sessions expired": """
        SELECT count(*) FROM "session" WHERE "expiresAt" < bench_now()""",
}

TABLES = (
    "branch staff customer push_subscription booking spa_membership gems_transaction "
    "lead invoice offer session notification_log"
).split()


def sizes(scale):
    """Row counts for a scale; 1.0 is the 200-branch chain."""
    n = {name: max(1, round(count * scale)) for name, count in FULL.items()}
    n["branches"] = max(5, n["branches"])
    n["customers"] = max(100, n["customers"])
    n["offers"] = max(20, n["offers"])
    return n


def create_schema(now):
    """The tables and the platform's indexes, the service's migrations, the helpers."""
    create_tables()
    drop_foreign_key_indexes()
    db.execute_sql(PLATFORM_INDEXES)
    applied = apply_migrations()
    print(f"  migrations applied: {', '.join(applied) or 'none'}", flush=True)
    db.execute_sql(HELPERS.replace("{now}", now.isoformat()))


def drop_foreign_key_indexes():
    """Drop the index Peewee adds on every foreign key of the platform's tables.

    schema.sql declares none of them, so the platform's database has none; a
    bench that kept them would measure a database that does not exist. The
    service's migrations add back the ones its jobs need.
    """
    for model in PLATFORM_MODELS:
        for field in model._meta.sorted_fields:
            if isinstance(field, ForeignKeyField) and field.index and not field.unique:
                name = f"{model._meta.table_name}_{field.column_name}"
                db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')


def apply_migrations():
    """Run the service's migrations, its indexes among them, as a release does."""
    from ops.migrate import migrate

    _, applied = migrate()
    return applied


def run_step(label, sql):
    started = time.perf_counter()
    with db.atomic():
        cursor = db.cursor()
        cursor.execute(sql)  # no parameters: the SQL's own % stays an operator
    rows = cursor.rowcount
    seconds = time.perf_counter() - started
    print(f"  {label:<45} {rows:>10,} rows {seconds:7.1f} s", flush=True)
    return rows


def fill(n):
    """Run every generating statement; return {step: rows}."""
    done = {}
    for label, sql in steps(n):
        done[label] = run_step(label, sql(done) if callable(sql) else sql)
    return done


def finish():
    """VACUUM ANALYZE: plans and visibility maps as on a live database."""
    started = time.perf_counter()
    db.execute_sql("VACUUM (ANALYZE)")
    seconds = time.perf_counter() - started
    print(f"  {'VACUUM ANALYZE':<45} {'':>15} {seconds:7.1f} s", flush=True)


def report():
    """Row counts and the due counts the jobs will meet."""
    counts = {table: scalar(f'SELECT count(*) FROM "{table}"') for table in TABLES}
    due = {label: scalar(sql) for label, sql in DUE_COUNTS.items()}
    size = scalar("SELECT pg_size_pretty(pg_database_size(current_database()))")
    return counts, due, size


def scalar(sql):
    cursor = db.cursor()
    cursor.execute(sql)
    return cursor.fetchone()[0]


def seed(url, scale, now):
    n = sizes(scale)
    started = time.perf_counter()
    print(f"seed: {database_name(url)} at scale {scale:g}, now = {now.isoformat()}")
    recreate_database(url)
    connect(url)
    lower_priority()
    session_settings()
    create_schema(now)
    # The rows are generated consistent with every foreign key, so the per-row
    # checks (a trigger call per row and key) are skipped while loading:
    # superuser only, and for this connection only.
    db.execute_sql("SET session_replication_role = replica")
    done = fill(n)
    db.execute_sql("SET session_replication_role = DEFAULT")
    finish()
    seconds = time.perf_counter() - started
    with db.atomic():
        db.execute_sql(
            "INSERT INTO bench_meta (key, value) VALUES "
            "('now', %s), ('scale', %s), ('seeded_at', %s), ('seconds', %s)",
            (
                now.isoformat(),
                str(scale),
                datetime.now(UTC).isoformat(timespec="seconds"),
                f"{seconds:.1f}",
            ),
        )
    counts, due, size = report()
    print(f"seed: done in {seconds:.0f} s, database size {size}")
    for table, count in counts.items():
        print(f"  {table:<45} {count:>10,}")
    print("seed: due at now")
    for label, count in due.items():
        print(f"  {label:<45} {count:>10,}")
    name = f"seed-{database_name(url)}.json"
    write_json(
        name,
        {
            "database": database_name(url),
            "scale": scale,
            "now": now.isoformat(),
            "seconds": round(seconds, 1),
            "size": size,
            "steps": done,
            "rows": counts,
            "due": due,
        },
    )
    db.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="bench database URL (BENCH_DATABASE_URL)")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 200 branches")
    parser.add_argument("--now", default=DEFAULT_NOW, help="the seeded instant, ISO")
    args = parser.parse_args(argv)
    now = datetime.fromisoformat(args.now).astimezone(UTC)
    seed(bench_url(args.url), args.scale, now)


if __name__ == "__main__":
    main()
