"""Placeholder until the invoicing client is written."""


class InvoicingClient:
    def __init__(self, config):
        self.config = config
        self.configured = bool(
            config.get("INVOICING_URL") and config.get("INVOICING_SIGNING_SECRET")
        )
