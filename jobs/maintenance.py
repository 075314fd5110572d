"""Placeholder until this module is written."""


def membership_auto_expire(ctx):
    raise NotImplementedError("membership_auto_expire")


def offer_auto_expire(ctx):
    raise NotImplementedError("offer_auto_expire")


def gems_auto_expire(ctx):
    raise NotImplementedError("gems_auto_expire")


def session_cleanup(ctx):
    raise NotImplementedError("session_cleanup")
