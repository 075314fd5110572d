"""Placeholder until web push is written."""

from .base import PushSender


class WebPushSender(PushSender):
    def __init__(self, config):
        self.config = config
