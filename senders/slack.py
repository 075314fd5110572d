"""Placeholder until Slack is written."""

from .base import SlackSender


class SlackWebhookSender(SlackSender):
    def __init__(self, config):
        self.config = config


class SlackBotSender(SlackSender):
    def __init__(self, config):
        self.config = config
