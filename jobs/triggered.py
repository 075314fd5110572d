"""Placeholder until this module is written."""


def post_service_followup(ctx):
    raise NotImplementedError("post_service_followup")


def stale_booking_alert(ctx):
    raise NotImplementedError("stale_booking_alert")


def noshow_check(ctx):
    raise NotImplementedError("noshow_check")


def membership_expired_notice(ctx):
    raise NotImplementedError("membership_expired_notice")


def invoice_pdf(ctx):
    raise NotImplementedError("invoice_pdf")
