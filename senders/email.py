"""Placeholder until the email providers are written."""

from .base import EmailSender


class ResendSender(EmailSender):
    def __init__(self, config):
        self.config = config


class BrevoSender(EmailSender):
    def __init__(self, config):
        self.config = config
