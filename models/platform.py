"""The platform's tables, mapped one to one onto spec/schema.sql."""

from datetime import UTC, datetime

from peewee import (
    SQL,
    BigAutoField,
    BooleanField,
    Check,
    DateField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from .base import BaseModel, InstantField, MoneyField


def utcnow():
    return datetime.now(UTC)


class Reference(ForeignKeyField):
    """A foreign key as schema.sql declares it: without an index of its own.

    Peewee indexes every foreign key by default; the platform's database does
    not, and tests and benchmarks should see the indexes production has.
    """

    def __init__(self, model, **kwargs):
        kwargs.setdefault("index", False)
        super().__init__(model, **kwargs)


class Branch(BaseModel):
    id = TextField(primary_key=True)
    name = TextField()
    gstin = TextField(null=True)
    state_code = TextField()
    is_active = BooleanField(default=True)


class Customer(BaseModel):
    id = TextField(primary_key=True)
    name = TextField()
    email = TextField(null=True)
    phone = TextField(null=True)
    date_of_birth = DateField(null=True)
    marketing_consent = BooleanField(default=False)
    gems_balance = IntegerField(default=0, constraints=[Check("gems_balance >= 0")])
    created_at = InstantField(default=utcnow)
    deleted_at = InstantField(null=True)

    @property
    def first_name(self):
        return (self.name or "").split(" ")[0] or "there"


class Staff(BaseModel):
    id = TextField(primary_key=True)
    name = TextField()
    email = TextField(null=True)
    role = TextField(
        constraints=[
            Check("role IN ('admin', 'manager', 'receptionist', 'therapist', 'sales')")
        ]
    )
    branch = Reference(Branch, column_name="branch_id", null=True)
    is_active = BooleanField(default=True)


class PushSubscription(BaseModel):
    id = TextField(primary_key=True)
    customer = Reference(
        Customer, column_name="customer_id", null=True, on_delete="CASCADE"
    )
    staff = Reference(Staff, column_name="staff_id", null=True, on_delete="CASCADE")
    endpoint = TextField(unique=True)
    p256dh = TextField()
    auth = TextField()
    created_at = InstantField(default=utcnow)

    class Meta:
        table_name = "push_subscription"
        constraints = [Check("(customer_id IS NULL) <> (staff_id IS NULL)")]


class InAppNotification(BaseModel):
    id = TextField(primary_key=True)
    customer = Reference(Customer, column_name="customer_id", on_delete="CASCADE")
    kind = TextField()
    title = TextField()
    body = TextField()
    created_at = InstantField(default=utcnow)
    read_at = InstantField(null=True)

    class Meta:
        table_name = "in_app_notification"


class Service(BaseModel):
    id = TextField(primary_key=True)
    name = TextField()
    category = TextField(null=True)


class Booking(BaseModel):
    id = TextField(primary_key=True)
    customer = Reference(Customer, column_name="customer_id")
    branch = Reference(Branch, column_name="branch_id")
    service = Reference(Service, column_name="service_id", null=True)
    status = TextField(
        constraints=[
            Check(
                "status IN ('pending', 'confirmed', 'completed', 'cancelled', "
                "'rejected', 'no_show')"
            )
        ]
    )
    start_time = InstantField()
    end_time = InstantField()
    amount = MoneyField(default=0)
    payment_status = TextField(
        default="unpaid",
        constraints=[Check("payment_status IN ('unpaid', 'paid', 'refunded')")],
    )
    created_at = InstantField(default=utcnow)
    updated_at = InstantField(default=utcnow)
    completed_at = InstantField(null=True)
    status_reason = TextField(null=True)

    class Meta:
        indexes = (
            (("status", "start_time"), False),
            (("status", "end_time"), False),
        )


class SpaMembership(BaseModel):
    id = TextField(primary_key=True)
    customer = Reference(Customer, column_name="customer_id")
    branch = Reference(Branch, column_name="branch_id", null=True)
    plan_name = TextField()
    status = TextField(
        constraints=[Check("status IN ('active', 'expired', 'cancelled')")]
    )
    starts_at = InstantField()
    expires_at = InstantField()
    total_hours = MoneyField(max_digits=6)
    used_hours = MoneyField(max_digits=6, default=0)
    created_at = InstantField(default=utcnow)
    updated_at = InstantField(default=utcnow)

    class Meta:
        table_name = "spa_membership"
        indexes = ((("status", "expires_at"), False),)


class Offer(BaseModel):
    id = TextField(primary_key=True)
    title = TextField()
    start_date = DateField()
    end_date = DateField(null=True)
    is_active = BooleanField(default=True)
    updated_at = InstantField(default=utcnow)


class GemsTransaction(BaseModel):
    id = TextField(primary_key=True)
    customer = Reference(Customer, column_name="customer_id")
    kind = TextField(constraints=[Check("kind IN ('earned', 'redeemed', 'expired')")])
    amount = IntegerField()
    expires_at = InstantField(null=True)
    reference = TextField(null=True, unique=True)
    created_at = InstantField(default=utcnow)

    class Meta:
        table_name = "gems_transaction"
        constraints = [Check("(kind = 'earned') = (amount > 0)")]


GemsTransaction.add_index(
    GemsTransaction.index(
        GemsTransaction.customer,
        GemsTransaction.created_at,
        name="gems_transaction_customer",
    )
)
GemsTransaction.add_index(
    GemsTransaction.index(
        GemsTransaction.expires_at,
        where=(GemsTransaction.kind == "earned"),
        name="gems_transaction_expires_at",
    )
)


class Lead(BaseModel):
    id = TextField(primary_key=True)
    name = TextField()
    phone = TextField(null=True)
    email = TextField(null=True)
    status = TextField(
        constraints=[
            Check("status IN ('new', 'contacted', 'follow_up', 'converted', 'lost')")
        ]
    )
    assigned_staff = Reference(Staff, column_name="assigned_staff_id", null=True)
    last_contacted_at = InstantField(null=True)
    created_at = InstantField(default=utcnow)


class Invoice(BaseModel):
    id = TextField(primary_key=True)
    number = TextField(unique=True)
    customer = Reference(Customer, column_name="customer_id")
    branch = Reference(Branch, column_name="branch_id")
    booking = Reference(Booking, column_name="booking_id", null=True)
    membership = Reference(SpaMembership, column_name="membership_id", null=True)
    kind = TextField(
        constraints=[Check("kind IN ('service', 'membership_purchase', 'product')")]
    )
    status = TextField(
        constraints=[Check("status IN ('draft', 'issued', 'paid', 'void')")]
    )
    sac_code = TextField(default="999721")
    gst_rate = MoneyField(max_digits=5)
    taxable_amount = MoneyField()
    cgst = MoneyField(default=0)
    sgst = MoneyField(default=0)
    igst = MoneyField(default=0)
    total = MoneyField()
    paid_at = InstantField(null=True)
    pdf_url = TextField(null=True)
    created_at = InstantField(default=utcnow)

    class Meta:
        indexes = ((("status", "paid_at"), False),)


class ReportRecipient(BaseModel):
    id = TextField(primary_key=True)
    email = TextField(unique=True)
    is_active = BooleanField(default=True)

    class Meta:
        table_name = "report_recipient"


class DailySalesSummary(BaseModel):
    branch = Reference(Branch, column_name="branch_id")
    summary_date = DateField()
    invoice_count = IntegerField()
    taxable_amount = MoneyField(max_digits=14)
    tax_amount = MoneyField(max_digits=14)
    gross_amount = MoneyField(max_digits=14)
    service_amount = MoneyField(max_digits=14)
    membership_amount = MoneyField(max_digits=14)
    completed_bookings = IntegerField()
    updated_at = InstantField(default=utcnow)

    class Meta:
        table_name = "daily_sales_summary"
        primary_key = False
        constraints = [SQL("PRIMARY KEY (branch_id, summary_date)")]


class MonthlyGstSummary(BaseModel):
    branch = Reference(Branch, column_name="branch_id")
    month = DateField()
    sac_code = TextField()
    gst_rate = MoneyField(max_digits=5)
    invoice_count = IntegerField()
    taxable_value = MoneyField(max_digits=14)
    cgst = MoneyField(max_digits=14)
    sgst = MoneyField(max_digits=14)
    igst = MoneyField(max_digits=14)
    total_tax = MoneyField(max_digits=14)
    total_value = MoneyField(max_digits=14)
    updated_at = InstantField(default=utcnow)

    class Meta:
        table_name = "monthly_gst_summary"
        primary_key = False
        constraints = [SQL("PRIMARY KEY (branch_id, month, sac_code, gst_rate)")]


CHANNELS = ("push", "email", "in_app", "slack")
RECIPIENT_TYPES = ("customer", "staff", "recipient", "channel")
NOTIFICATION_STATUSES = ("pending", "sent", "skipped", "failed")


class NotificationLog(BaseModel):
    id = BigAutoField()
    dedupe_key = TextField()
    channel = TextField(
        constraints=[Check("channel IN ('push', 'email', 'in_app', 'slack')")]
    )
    type = TextField()
    recipient_type = TextField(
        constraints=[
            Check("recipient_type IN ('customer', 'staff', 'recipient', 'channel')")
        ]
    )
    recipient_id = TextField()
    booking_id = TextField(null=True)
    status = TextField(
        constraints=[Check("status IN ('pending', 'sent', 'skipped', 'failed')")]
    )
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    created_at = InstantField(default=utcnow)
    updated_at = InstantField(default=utcnow)

    class Meta:
        table_name = "notification_log"
        indexes = ((("dedupe_key", "channel"), True),)


class Session(BaseModel):
    """Better Auth's session store; its columns keep Better Auth's camelCase."""

    id = TextField(primary_key=True)
    expires_at = InstantField(column_name="expiresAt", index=True)
    token = TextField(unique=True)
    created_at = InstantField(column_name="createdAt", default=utcnow)
    updated_at = InstantField(column_name="updatedAt")
    ip_address = TextField(column_name="ipAddress", null=True)
    user_agent = TextField(column_name="userAgent", null=True)
    user_id = TextField(column_name="userId")

    class Meta:
        table_name = "session"


PLATFORM_MODELS = [
    Branch,
    Customer,
    Staff,
    PushSubscription,
    InAppNotification,
    Service,
    Booking,
    SpaMembership,
    Offer,
    GemsTransaction,
    Lead,
    Invoice,
    ReportRecipient,
    DailySalesSummary,
    MonthlyGstSummary,
    NotificationLog,
    Session,
]
