"""Recording fakes for every sender: they keep what was sent, and answer as told."""

from collections import deque

from senders import Outcome, Result
from senders.base import EmailSender, PushSender, SlackSender


class Script:
    """Answers to hand out in order; when empty, everything is SENT."""

    def __init__(self):
        self.answers = deque()

    def then(self, *results):
        self.answers.extend(results)
        return self

    def next(self):
        return self.answers.popleft() if self.answers else Result(Outcome.SENT)


class RecordingEmail(EmailSender):
    batch_size = 100

    def __init__(self):
        self.sent = []  # every Email accepted, in order
        self.calls = 0
        self.script = Script()
        self.by_address = {}  # address -> Result to answer for it every time

    def send(self, email):
        self.calls += 1
        return self._one(email)

    def send_many(self, emails):
        self.calls += 1
        return [self._one(email) for email in emails]

    def _one(self, email):
        result = self.by_address.get(email.to) or self.script.next()
        if result.outcome is Outcome.SENT:
            self.sent.append(email)
        return result


class RecordingPush(PushSender):
    def __init__(self):
        self.sent = []  # (PushTarget, PushMessage)
        self.script = Script()
        self.by_endpoint = {}  # endpoint -> Result

    def send(self, target, message):
        result = self.by_endpoint.get(target.endpoint) or self.script.next()
        if result.outcome is Outcome.SENT:
            self.sent.append((target, message))
        return result

    def to(self, endpoint_part):
        return [m for t, m in self.sent if endpoint_part in t.endpoint]


class RecordingSlack(SlackSender):
    def __init__(self):
        self.sent = []
        self.script = Script()

    def send(self, message):
        result = self.script.next()
        if result.outcome is Outcome.SENT:
            self.sent.append(message)
        return result


class RecordingHeartbeat:
    def __init__(self):
        self.pings = []  # (job, failed)

    def ping(self, job, failed=False):
        self.pings.append((job, failed))
        return True
