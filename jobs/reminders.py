"""Placeholder until this module is written."""


def appointment_reminders(ctx):
    raise NotImplementedError("appointment_reminders")


def membership_expiry(ctx):
    raise NotImplementedError("membership_expiry")


def birthday_emails(ctx):
    raise NotImplementedError("birthday_emails")


def lead_followups(ctx):
    raise NotImplementedError("lead_followups")


def gems_expiry_reminder(ctx):
    raise NotImplementedError("gems_expiry_reminder")


def membership_usage_nudges(ctx):
    raise NotImplementedError("membership_usage_nudges")
