"""Placeholder until this module is written."""


def nightly_sales_summary(ctx):
    raise NotImplementedError("nightly_sales_summary")


def monthly_gst_summary(ctx):
    raise NotImplementedError("monthly_gst_summary")
