"""Placeholder until this module is written."""


def daily_sales_report(ctx):
    raise NotImplementedError("daily_sales_report")


def weekly_report(ctx):
    raise NotImplementedError("weekly_report")
