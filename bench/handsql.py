"""Hand-written SQL for what each job selects or writes: the floor it is held to.

Each function takes a cursor and the run's parameters and does, in as few
statements as plain SQL allows, the same selection or write as the job:

- a notification job: the selection of what is due, with the columns its
  messages need, fetched to the client as the job fetches it. Claiming and
  marking notification_log rows is the notifier's protocol, the same for
  every job; bench/run.py times it apart and leaves it out of the ratio;
- a write job: its UPDATE, INSERT ... ON CONFLICT or DELETE;
- a report: the aggregates its message shows.

The statements follow spec/JOBS.md, not the jobs' code, so that a job that
takes a slower path than plain SQL shows up as a ratio above 1.
"""

from datetime import timedelta

from clock import ist_date, ist_day_bounds, ist_midnight, month_start, previous_month


def params(now, payload=None):
    """Every bound the statements use, computed once from the run's instant."""
    today = ist_date(now)
    p = {
        "now": now,
        "today": today.isoformat(),
        "quiet": now - timedelta(hours=48),
        "week_ago": now - timedelta(days=7),
        "today_start": ist_midnight(today),
        "limit": 20,
        "payload": payload or {},
    }
    for days in (30, 7, 1):
        start, end = ist_day_bounds(today + timedelta(days=days))
        p[f"d{days}"] = (today + timedelta(days=days)).isoformat()
        p[f"d{days}_start"], p[f"d{days}_end"] = start, end
    p["day_start"], p["day_end"] = ist_day_bounds(today)
    yesterday = today - timedelta(days=1)
    p["yesterday"] = yesterday.isoformat()
    p["yesterday_start"], p["yesterday_end"] = ist_day_bounds(yesterday)
    monday = today - timedelta(days=today.weekday())
    p["week_start"] = ist_midnight(monday - timedelta(days=7))
    p["week_end"] = ist_midnight(monday)
    p["prior_week_start"] = ist_midnight(monday - timedelta(days=14))
    first = previous_month(today)
    p["month"] = first.isoformat()
    p["month_start"] = ist_midnight(first)
    p["month_end"] = ist_midnight(month_start(today))
    p["year"] = str(today.year)
    p["month_of_year"] = today.month
    p["birth_days"] = [today.day]
    return p


def select(cur, p, sql):
    """Run a selection and fetch every row, as a job does."""
    cur.execute(sql, p)
    return len(cur.fetchall())


def appointment_reminders(cur, p):
    due = """
    SELECT 'appointment-reminder:' || x.w || ':' || b.id || ':'
               || to_char(b.start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
               AS dedupe_key,
           'customer' AS recipient_type, b.customer_id AS recipient_id,
           b.id AS booking_id, c.name, c.email, br.name AS branch, s.name AS service,
           b.start_time
    FROM booking b
    JOIN customer c ON c.id = b.customer_id
    JOIN branch br ON br.id = b.branch_id
    LEFT JOIN service s ON s.id = b.service_id,
    LATERAL (SELECT CASE WHEN b.start_time <= %(now)s + interval '1 hour'
                         THEN '1h' ELSE '24h' END AS w) x
    WHERE b.status = 'confirmed' AND c.deleted_at IS NULL
      AND b.start_time > %(now)s AND b.start_time <= %(now)s + interval '24 hours'
    """
    return select(cur, p, due)


def membership_expiry(cur, p):
    due = """
    SELECT 'membership-expiry:' || m.id || ':'
               || ((m.expires_at AT TIME ZONE 'Asia/Kolkata')::date - %(today)s::date)
               || ':' || (m.expires_at AT TIME ZONE 'Asia/Kolkata')::date
               AS dedupe_key,
           'customer' AS recipient_type, m.customer_id AS recipient_id,
           NULL AS booking_id, c.name, m.plan_name, m.expires_at, m.total_hours,
           m.used_hours
    FROM spa_membership m JOIN customer c ON c.id = m.customer_id
    WHERE m.status = 'active' AND c.deleted_at IS NULL
      AND ((m.expires_at >= %(d30_start)s AND m.expires_at < %(d30_end)s)
        OR (m.expires_at >= %(d7_start)s AND m.expires_at < %(d7_end)s)
        OR (m.expires_at >= %(d1_start)s AND m.expires_at < %(d1_end)s))
    """
    return select(cur, p, due)


def birthday_emails(cur, p):
    due = """
    SELECT 'birthday:' || c.id || ':' || %(year)s AS dedupe_key,
           'customer' AS recipient_type, c.id AS recipient_id, NULL AS booking_id,
           c.name, c.email
    FROM customer c
    WHERE c.deleted_at IS NULL AND c.marketing_consent
      AND extract(month FROM c.date_of_birth) = %(month_of_year)s
      AND extract(day FROM c.date_of_birth) = ANY(%(birth_days)s)
    """
    return select(cur, p, due)


def lead_followups(cur, p):
    due = """
    SELECT 'lead-followup:' || l.id || ':' || %(today)s AS dedupe_key,
           'staff' AS recipient_type, l.assigned_staff_id AS recipient_id,
           NULL AS booking_id, l.name, l.last_contacted_at, l.created_at
    FROM lead l JOIN staff s ON s.id = l.assigned_staff_id
    WHERE l.status = 'follow_up' AND s.is_active
      AND COALESCE(l.last_contacted_at, l.created_at) < %(quiet)s
    """
    return select(cur, p, due)


def gems_expiry_reminder(cur, p):
    due = """
    WITH owners AS (
        SELECT DISTINCT customer_id FROM gems_transaction
        WHERE kind = 'earned' AND expires_at >= %(d7_start)s AND expires_at < %(d7_end)s
    ), ledger AS (
        SELECT g.customer_id, g.kind, g.amount, g.expires_at,
               SUM(CASE WHEN g.kind = 'earned' THEN g.amount ELSE 0 END) OVER (
                   PARTITION BY g.customer_id ORDER BY g.created_at, g.id
                   ROWS UNBOUNDED PRECEDING) AS earned_through,
               SUM(CASE WHEN g.kind <> 'earned' THEN -g.amount ELSE 0 END) OVER (
                   PARTITION BY g.customer_id) AS consumed
        FROM gems_transaction g
        WHERE g.customer_id IN (SELECT customer_id FROM owners)
    ), totals AS (
        SELECT customer_id,
               SUM(LEAST(amount, GREATEST(0, earned_through - consumed))) AS total
        FROM ledger
        WHERE kind = 'earned' AND expires_at >= %(d7_start)s AND expires_at < %(d7_end)s
        GROUP BY customer_id
    )
    SELECT 'gems-expiry:' || t.customer_id || ':' || %(d7)s AS dedupe_key,
           'customer' AS recipient_type, t.customer_id AS recipient_id,
           NULL AS booking_id, c.name, t.total
    FROM totals t JOIN customer c ON c.id = t.customer_id
    WHERE t.total > 0 AND c.deleted_at IS NULL
    """
    return select(cur, p, due)


def membership_usage_nudges(cur, p):
    cur.execute(
        """
        SELECT count(DISTINCT recipient_id) FROM notification_log
        WHERE type = 'usage-nudge' AND status IN ('sent', 'skipped')
          AND created_at >= %(today_start)s
        """,
        p,
    )
    slots = p["limit"] - cur.fetchone()[0]
    due = """
    SELECT 'usage-nudge:' || e.id || ':' || %(today)s AS dedupe_key,
           'customer' AS recipient_type, e.customer_id AS recipient_id,
           NULL AS booking_id, e.name, e.plan_name, e.total_hours, e.used_hours,
           e.expires_at
    FROM (
        SELECT DISTINCT ON (m.customer_id) m.id, m.customer_id, c.name, m.plan_name,
               m.total_hours, m.used_hours, m.expires_at
        FROM spa_membership m JOIN customer c ON c.id = m.customer_id
        WHERE m.status = 'active' AND c.deleted_at IS NULL
          AND m.used_hours < m.total_hours
          AND EXISTS (SELECT 1 FROM push_subscription s
                      WHERE s.customer_id = m.customer_id)
          AND NOT EXISTS (
              SELECT 1 FROM notification_log n
              WHERE n.type = 'usage-nudge' AND n.recipient_type = 'customer'
                AND n.recipient_id = m.customer_id
                AND n.status IN ('sent', 'skipped') AND n.created_at > %(week_ago)s)
        ORDER BY m.customer_id, m.expires_at, m.id
    ) e
    ORDER BY random() LIMIT %(slots)s
    """
    return select(cur, {**p, "slots": slots}, due)


SALES = """
SELECT branch_id, count(*), sum(taxable_amount), sum(cgst + sgst + igst), sum(total),
       sum(total) FILTER (WHERE kind = 'service'),
       sum(total) FILTER (WHERE kind = 'membership_purchase'),
       sum(total) FILTER (WHERE kind = 'product')
FROM invoice
WHERE status = 'paid' AND paid_at >= %(lo)s AND paid_at < %(hi)s
GROUP BY branch_id
"""

BOOKINGS = """
SELECT branch_id,
       count(*) FILTER (WHERE status = 'completed' AND completed_at >= %(lo)s
                          AND completed_at < %(hi)s),
       count(*) FILTER (WHERE created_at >= %(lo)s AND created_at < %(hi)s),
       count(*) FILTER (WHERE status = 'cancelled' AND updated_at >= %(lo)s
                          AND updated_at < %(hi)s)
FROM booking
WHERE (completed_at >= %(lo)s AND completed_at < %(hi)s)
   OR (created_at >= %(lo)s AND created_at < %(hi)s)
   OR (status = 'cancelled' AND updated_at >= %(lo)s AND updated_at < %(hi)s)
GROUP BY branch_id
"""


def _sales(cur, lo, hi):
    rows = 0
    for sql in (SALES, BOOKINGS):
        cur.execute(sql, {"lo": lo, "hi": hi})
        rows += len(cur.fetchall())
    return rows


def daily_sales_report(cur, p):
    return _sales(cur, p["day_start"], p["day_end"])


def weekly_report(cur, p):
    return _sales(cur, p["week_start"], p["week_end"]) + _sales(
        cur, p["prior_week_start"], p["week_start"]
    )


def nightly_sales_summary(cur, p):
    cur.execute(
        """
        INSERT INTO daily_sales_summary
            (branch_id, summary_date, invoice_count, taxable_amount, tax_amount,
             gross_amount, service_amount, membership_amount, completed_bookings,
             updated_at)
        SELECT b.id, %(yesterday)s, COALESCE(i.n, 0), COALESCE(i.taxable, 0),
               COALESCE(i.tax, 0), COALESCE(i.gross, 0), COALESCE(i.service, 0),
               COALESCE(i.membership, 0), COALESCE(k.n, 0), %(now)s
        FROM branch b
        LEFT JOIN (
            SELECT branch_id, count(*) AS n, sum(taxable_amount) AS taxable,
                   sum(cgst + sgst + igst) AS tax, sum(total) AS gross,
                   COALESCE(sum(total) FILTER (WHERE kind = 'service'), 0) AS service,
                   COALESCE(sum(total) FILTER (WHERE kind = 'membership_purchase'), 0)
                       AS membership
            FROM invoice
            WHERE status = 'paid' AND paid_at >= %(yesterday_start)s
              AND paid_at < %(yesterday_end)s
            GROUP BY branch_id
        ) i ON i.branch_id = b.id
        LEFT JOIN (
            SELECT branch_id, count(*) AS n FROM booking
            WHERE status = 'completed' AND completed_at >= %(yesterday_start)s
              AND completed_at < %(yesterday_end)s
            GROUP BY branch_id
        ) k ON k.branch_id = b.id
        WHERE b.is_active
        ON CONFLICT (branch_id, summary_date) DO UPDATE SET
            invoice_count = excluded.invoice_count,
            taxable_amount = excluded.taxable_amount,
            tax_amount = excluded.tax_amount, gross_amount = excluded.gross_amount,
            service_amount = excluded.service_amount,
            membership_amount = excluded.membership_amount,
            completed_bookings = excluded.completed_bookings,
            updated_at = excluded.updated_at
        """,
        p,
    )
    return cur.rowcount


def membership_auto_expire(cur, p):
    cur.execute(
        """
        UPDATE spa_membership SET status = 'expired', updated_at = %(now)s
        WHERE status = 'active' AND expires_at <= %(now)s
        """,
        p,
    )
    return cur.rowcount


def offer_auto_expire(cur, p):
    cur.execute(
        """
        UPDATE offer SET is_active = false, updated_at = %(now)s
        WHERE is_active AND end_date < %(today)s
        """,
        p,
    )
    return cur.rowcount


def gems_auto_expire(cur, p):
    cur.execute(
        """
        SELECT g.id, g.customer_id FROM gems_transaction g
        WHERE g.kind = 'earned' AND g.expires_at <= %(now)s
          AND NOT EXISTS (SELECT 1 FROM gems_transaction x
                          WHERE x.reference = 'expired:' || g.id)
        """,
        p,
    )
    due = cur.fetchall()
    lots = [lot for lot, _ in due]
    owners = sorted({owner for _, owner in due})
    cur.execute(
        "SELECT id FROM customer WHERE id = ANY(%(owners)s) ORDER BY id FOR UPDATE",
        {"owners": owners},
    )
    cur.execute(
        """
        WITH ledger AS (
            SELECT g.id, g.customer_id, g.amount,
                   SUM(CASE WHEN g.kind = 'earned' THEN g.amount ELSE 0 END) OVER (
                       PARTITION BY g.customer_id ORDER BY g.created_at, g.id
                       ROWS UNBOUNDED PRECEDING) AS earned_through,
                   SUM(CASE WHEN g.kind <> 'earned' THEN -g.amount ELSE 0 END) OVER (
                       PARTITION BY g.customer_id) AS consumed
            FROM gems_transaction g
            WHERE g.customer_id = ANY(%(owners)s)
        ), written AS (
            INSERT INTO gems_transaction (id, customer_id, kind, amount, reference,
                                          created_at)
            SELECT 'gem_exp_' || l.id, l.customer_id, 'expired',
                   -LEAST(l.amount, GREATEST(0, l.earned_through - l.consumed)),
                   'expired:' || l.id, %(now)s
            FROM ledger l WHERE l.id = ANY(%(lots)s)
            RETURNING customer_id, amount
        )
        UPDATE customer c SET gems_balance = GREATEST(0, c.gems_balance + s.total)
        FROM (SELECT customer_id, sum(amount) AS total FROM written
              GROUP BY customer_id) s
        WHERE c.id = s.customer_id AND s.total <> 0
        """,
        {**p, "owners": owners, "lots": lots},
    )
    return len(lots)


def session_cleanup(cur, p):
    deleted = 0
    while True:
        cur.execute(
            """
            DELETE FROM "session" WHERE id IN (
                SELECT id FROM "session" WHERE "expiresAt" < %(now)s LIMIT 5000)
            """,
            p,
        )
        deleted += cur.rowcount
        if cur.rowcount < 5000:
            return deleted


def monthly_gst_summary(cur, p):
    cur.execute(
        """
        INSERT INTO monthly_gst_summary
            (branch_id, month, sac_code, gst_rate, invoice_count, taxable_value, cgst,
             sgst, igst, total_tax, total_value, updated_at)
        SELECT branch_id, %(month)s, sac_code, gst_rate, count(*), sum(taxable_amount),
               sum(cgst), sum(sgst), sum(igst), sum(cgst + sgst + igst), sum(total),
               %(now)s
        FROM invoice
        WHERE status = 'paid' AND kind IN ('service', 'membership_purchase')
          AND paid_at >= %(month_start)s AND paid_at < %(month_end)s
        GROUP BY branch_id, sac_code, gst_rate
        ON CONFLICT (branch_id, month, sac_code, gst_rate) DO UPDATE SET
            invoice_count = excluded.invoice_count,
            taxable_value = excluded.taxable_value, cgst = excluded.cgst,
            sgst = excluded.sgst, igst = excluded.igst,
            total_tax = excluded.total_tax, total_value = excluded.total_value,
            updated_at = excluded.updated_at
        """,
        p,
    )
    return cur.rowcount


def post_service_followup(cur, p):
    due = """
    SELECT 'review-request:' || b.id AS dedupe_key, 'customer' AS recipient_type,
           c.id AS recipient_id, b.id AS booking_id, c.name, c.email
    FROM booking b JOIN customer c ON c.id = b.customer_id
    WHERE b.id = %(id)s AND b.status = 'completed' AND c.deleted_at IS NULL
      AND c.marketing_consent AND c.email IS NOT NULL
    """
    return select(cur, {**p, "id": p["payload"]["bookingId"]}, due)


def stale_booking_alert(cur, p):
    due = """
    SELECT 'stale-booking:' || b.id || ':alerted:' || s.id AS dedupe_key,
           'staff' AS recipient_type, s.id AS recipient_id, b.id AS booking_id,
           b.start_time, br.name
    FROM booking b
    JOIN branch br ON br.id = b.branch_id
    JOIN staff s ON s.role = 'receptionist' AND s.is_active
                AND (s.branch_id = b.branch_id OR s.branch_id IS NULL)
    WHERE b.id = %(id)s AND b.status = 'pending'
    """
    return select(cur, {**p, "id": p["payload"]["bookingId"]}, due)


def noshow_check(cur, p):
    due = """
    SELECT 'noshow:' || b.id || ':' || s.id AS dedupe_key, 'staff' AS recipient_type,
           s.id AS recipient_id, b.id AS booking_id, b.start_time, br.name
    FROM booking b
    JOIN branch br ON br.id = b.branch_id
    JOIN staff s ON s.role = 'receptionist' AND s.is_active
                AND (s.branch_id = b.branch_id OR s.branch_id IS NULL)
    WHERE b.id = %(id)s AND b.status = 'confirmed' AND b.end_time < %(now)s
    """
    return select(cur, {**p, "id": p["payload"]["bookingId"]}, due)


def membership_expired_notice(cur, p):
    due = """
    SELECT 'membership-expired:' || m.id || ':'
               || to_char(m.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
               AS dedupe_key,
           'customer' AS recipient_type, c.id AS recipient_id, NULL AS booking_id,
           c.name, c.email, m.plan_name
    FROM spa_membership m JOIN customer c ON c.id = m.customer_id
    WHERE m.id = %(id)s AND m.expires_at <= %(now)s
      AND m.status IN ('active', 'expired')
    """
    return select(cur, {**p, "id": p["payload"]["membershipId"]}, due)


def invoice_pdf(cur, p):
    payload = p["payload"]
    by = "i.id" if "invoiceId" in payload else "i.booking_id"
    due = f"""
    SELECT 'invoice:' || i.id AS dedupe_key, 'customer' AS recipient_type,
           c.id AS recipient_id, i.booking_id, c.name, c.email, i.number, i.total,
           i.pdf_url
    FROM invoice i JOIN customer c ON c.id = i.customer_id
    WHERE {by} = %(id)s
    """
    record = payload.get("invoiceId") or payload["bookingId"]
    return select(cur, {**p, "id": record}, due)


BY_JOB = {
    "appointment-reminders": appointment_reminders,
    "membership-expiry": membership_expiry,
    "birthday-emails": birthday_emails,
    "lead-followups": lead_followups,
    "gems-expiry-reminder": gems_expiry_reminder,
    "membership-usage-nudges": membership_usage_nudges,
    "daily-sales-report": daily_sales_report,
    "weekly-report": weekly_report,
    "nightly-sales-summary": nightly_sales_summary,
    "membership-auto-expire": membership_auto_expire,
    "offer-auto-expire": offer_auto_expire,
    "gems-auto-expire": gems_auto_expire,
    "session-cleanup": session_cleanup,
    "monthly-gst-summary": monthly_gst_summary,
    "post-service-followup": post_service_followup,
    "stale-booking-alert": stale_booking_alert,
    "noshow-check": noshow_check,
    "membership-expired-notice": membership_expired_notice,
    "invoice-pdf": invoice_pdf,
}
