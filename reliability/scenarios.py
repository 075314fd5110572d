"""The scenarios of the reliability run, and what each one checks.

Every scenario starts from an empty database, seeds what is due, delivers
the way QStash does (8 copies at once, or one copy retried until a 2xx),
then compares what the fake providers received with what was due: each
notification once, none missing, none sent to anyone else, every log row
`sent`, and the answers' counts adding up to the due count.
"""

import logging
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests
from hypothesis import HealthCheck, Phase, given, seed, settings
from peewee import fn

from models import Booking, Customer, GemsTransaction, JobRun, NotificationLog
from reliability import tokens
from reliability.hostile import (
    RAW_REQUESTS,
    ROUTES,
    expected_status,
    hostile_requests,
    prepare,
)
from reliability.seed import NOTIFICATION_JOBS
from reliability.seed import seed as seed_job

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    name: str
    ok: bool
    notes: list = field(default_factory=list)


@dataclass
class Figures:
    deliveries: int = 0  # QStash messages delivered (each copy counted)
    fuzz_requests: int = 0
    fuzz_unsendable: int = 0
    due: int = 0  # notifications that were due across the scenarios
    duplicates: int = 0  # outside a crash window
    crash_duplicates: int = 0  # re-sent after a crash between send and mark
    most_copies: int = 0  # the most times one notification arrived
    lost: int = 0
    stranded: int = 0  # left pending after QStash's retries ended
    unsent_when_qstash_stopped: int = 0  # due, never sent, and QStash got a 2xx
    bad_input_5xx: int = 0
    unsigned_side_effects: int = 0
    secrets_in_logs: int = 0
    faults: Counter = field(default_factory=Counter)
    outcomes: list = field(default_factory=list)


class Run:
    """One reliability run: the service, its database, the fakes, the figures."""

    def __init__(self, service, database, providers, deliverer, seeder, scale=1):
        self.service = service
        self.database = database
        self.providers = providers
        self.deliverer = deliverer
        self.seeder = seeder
        self.scale = scale
        self.figures = Figures()
        self.tokens_seen = set()

    def fresh(self, phase, **faults):
        self.database.truncate()
        self.seeder.reset()
        self.providers.begin(phase, **faults)

    def record(self, name, ok, *notes):
        outcome = Outcome(name, ok, list(notes))
        self.figures.outcomes.append(outcome)
        mark = "ok  " if ok else "FAIL"
        print(f"  [{mark}] {name}" + "".join(f"\n         {n}" for n in notes))
        return outcome

    # Checking ---------------------------------------------------------------

    def compare(self, phase, due, answers, crash_window=False):
        """Receipts against the due messages: (duplicates, lost, unexpected)."""
        identities = self._copies(phase)
        distinct = Counter((channel, who) for channel, who, _ in identities)
        duplicates = sum(n - 1 for n in identities.values())
        self.figures.most_copies = max([self.figures.most_copies, *identities.values()])
        lost = sum(max(0, n - distinct[k]) for k, n in due.expected.items())
        unexpected = sum(
            max(0, n - due.expected.get(k, 0)) for k, n in distinct.items()
        )
        rows = Counter(
            status
            for (status,) in NotificationLog.select(NotificationLog.status).tuples()
        )
        counted = sum(
            int(answer.get(due.answer_field) or 0)
            for answer in answers
            if isinstance(answer, dict) and due.answer_field
        )
        self.figures.due += sum(due.expected.values())
        self.figures.lost += lost
        if crash_window:
            self.figures.crash_duplicates += duplicates
        else:
            self.figures.duplicates += duplicates
        return duplicates, lost, unexpected, rows, counted

    # Scenarios ----------------------------------------------------------------

    def concurrent_deliveries(self, copies=8):
        print(f"Concurrent deliveries: each message {copies} times at once")
        for job in NOTIFICATION_JOBS:
            phase = f"concurrent {job}"
            self.fresh(phase)
            n = self.scale * (4 if job in TRIGGERED else 12)
            due = seed_job(self.seeder, job, n)
            deliveries = []
            for body in due.bodies:
                deliveries += self.deliverer.at_once(job, body, copies)
            self.figures.deliveries += len(deliveries)
            answers = [d.answer for d in deliveries]
            failed = sum(not d.ok for d in deliveries)
            retried = sum(len(d.attempts) - 1 for d in deliveries)
            dup, lost, unexpected, rows, counted = self.compare(phase, due, answers)
            # A 500 or 503 answer carries no count, so the sends its run did
            # make are missing from the sum: then it can only fall short.
            counts_ok = due.answer_field is None or (
                counted <= due.count if retried else counted == due.count
            )
            ok = not (dup or lost or unexpected or failed) and counts_ok
            ok = ok and set(rows) <= {"sent"}
            if due.records:  # stale bookings: each rejected once, by one run
                ok = ok and rejected_bookings() == len(due.records)
            self.record(
                f"{job}: {len(deliveries)} deliveries of {len(due.bodies)} "
                f"message(s), {sum(due.expected.values())} due",
                ok,
                f"duplicates {dup}, missing {lost}, unexpected {unexpected}, "
                f"undelivered answers {failed}, retried attempts {retried}, "
                f"log rows {dict(rows)}"
                + (
                    f", {due.answer_field} summed {counted} of {due.count}"
                    if due.answer_field
                    else ""
                ),
            )
        self.exact_replay()
        self.gems_ledger(copies)

    def exact_replay(self):
        """The exact request of a success, sent again: nothing goes out twice."""
        phase = "exact replay"
        self.fresh(phase)
        due = seed_job(self.seeder, "appointment-reminders", 5)
        url = f"{self.service.base_url}/api/jobs/appointment-reminders"
        token = tokens.sign(url, b"", self.service.current_key)
        first = self.deliverer.send(
            "appointment-reminders", b"", "msg_r", 0, token=token
        )
        again = [
            self.deliverer.send("appointment-reminders", b"", "msg_r", 0, token=token)
            for _ in range(3)
        ]
        self.figures.deliveries += 4
        dup, lost, unexpected, rows, _ = self.compare(phase, due, [])
        answers = [a.body for a in again]
        ok = first.body == {"success": True, "processed": 5} and not (dup or lost)
        ok = ok and answers == [{"success": True, "processed": 0}] * 3
        self.record(
            "exact replay of an accepted request, 3 times",
            ok,
            f"first {first.body}, replays {answers[0]}; duplicates {dup}",
        )

    def gems_ledger(self, copies):
        phase = "gems"
        self.fresh(phase)
        n = 20 * self.scale
        self.seeder.gems_to_expire(n)
        deliveries = self.deliverer.at_once("gems-auto-expire", b"", copies)
        self.figures.deliveries += len(deliveries)
        processed = sum((d.answer or {}).get("processed", 0) for d in deliveries)
        mismatched = ledger_mismatches()
        expired = GemsTransaction.select().where(GemsTransaction.kind == "expired")
        balances = Counter(c.gems_balance for c in Customer.select())
        ok = processed == n and mismatched == 0 and expired.count() == n
        ok = ok and balances == Counter({50: n}) and all(d.ok for d in deliveries)
        self.record(
            f"gems-auto-expire: {copies} at once over {n} customers",
            ok,
            f"lots expired {expired.count()}, processed summed {processed}, "
            f"ledger sum != balance for {mismatched}, balances {dict(balances)}",
        )

    def faults(self):
        print("Faults, each followed by QStash-style retries until a 2xx")
        n = 30 * self.scale
        plain = [
            ("email provider answers 500 at the 2nd send", {"email_fail_at": {2}}),
            ("email provider answers 429 with Retry-After", {"email_throttle": 2}),
            (
                "push endpoints time out",
                {"push_stall": 4, "stall_seconds": 2.0},
            ),
        ]
        for name, faults in plain:
            self.fresh(name, **faults)
            due = seed_job(self.seeder, "appointment-reminders", n)
            delivery = self.deliverer.deliver("appointment-reminders")
            self._after_fault(name, due, [delivery])
        self.database_terminated(n)
        self.worker_killed(n)
        self.daily_job_killed_before_send()
        self.gems_interrupted("terminate")
        self.gems_interrupted("kill")
        for kind, times in self.providers.injected.items():
            self.figures.faults[kind] = times

    def _after_fault(
        self, name, due, deliveries, crash_window=False, unsent=0, notes=()
    ):
        self.figures.deliveries += len(deliveries)
        attempts = sum(len(d.attempts) for d in deliveries)
        answers = []
        for delivery in deliveries:
            answers += [a.body for a in delivery.attempts]
        dup, lost, unexpected, rows, _ = self.compare(
            name, due, [], crash_window=crash_window
        )
        stranded = rows.get("pending", 0) + rows.get("failed", 0)
        worst = max(self._copies(name).values(), default=0)
        ok = all(d.ok for d in deliveries) and not (lost or unexpected or stranded)
        ok = ok and not unsent  # QStash took a 2xx while these were unsent
        ok = ok and (not dup or (crash_window and worst <= 2))
        return self.record(
            name,
            ok,
            f"{attempts} attempts; duplicates {dup}"
            + (" (crash window)" if crash_window else "")
            + f", missing {lost}, unexpected {unexpected}, log rows {dict(rows)}",
            *notes,
        )

    def database_terminated(self, n):
        name = "PostgreSQL connections terminated mid-run"
        self.fresh(name, slow_seconds=0.15)
        due = seed_job(self.seeder, "appointment-reminders", n)
        box = {}
        thread = threading.Thread(
            target=lambda: box.update(d=self.deliverer.deliver("appointment-reminders"))
        )
        thread.start()
        self._wait_for_receipts(name, 5)
        killed = self.database.terminate_backends()
        self.figures.faults["pg_terminate_backend"] += killed
        thread.join(timeout=300)
        self._recover(name, due, box["d"], f"{killed} backend(s) terminated")

    def worker_killed(self, n):
        name = "gunicorn worker SIGKILLed while a send is in flight"
        self.fresh(name, hold_email_at=1)
        due = seed_job(self.seeder, "appointment-reminders", n)
        box = {}
        thread = threading.Thread(
            target=lambda: box.update(d=self.deliverer.deliver("appointment-reminders"))
        )
        thread.start()
        self.providers.held.wait(timeout=60)
        killed = self.service.kill_workers()
        self.figures.faults["worker SIGKILL"] += killed
        self.providers.release.set()
        thread.join(timeout=300)
        self.service.wait_ready()
        self._recover(name, due, box["d"], f"{killed} worker(s) killed")

    def daily_job_killed_before_send(self):
        """A daily job's worker dies after claiming, before the provider took
        the emails: what QStash's retries leave unsent."""
        name = "worker SIGKILLed before the provider accepted (birthday-emails)"
        self.fresh(name, hang_email_at=1)
        due = seed_job(self.seeder, "birthday-emails", 12 * self.scale)
        box = {}
        thread = threading.Thread(
            target=lambda: box.update(d=self.deliverer.deliver("birthday-emails"))
        )
        thread.start()
        self.providers.held.wait(timeout=60)
        self.figures.faults["worker SIGKILL"] += self.service.kill_workers()
        self.providers.release.set()
        thread.join(timeout=300)
        self.service.wait_ready()
        sent = {r.recipient for r in self.providers.received(name, "email")}
        unsent = sum(1 for channel, who in due.expected if who not in sent)
        self.figures.unsent_when_qstash_stopped += unsent
        self._recover(
            name,
            due,
            box["d"],
            f"QStash got a 2xx with {unsent} of {sum(due.expected.values())} "
            "birthday emails never sent; a daily job has no later run that "
            "day, and the next day's run does not select them",
            job="birthday-emails",
            unsent=unsent,
        )

    def gems_interrupted(self, how, n=400):
        """gems-auto-expire cut off mid-run, then retried: the ledger holds."""
        what = {
            "terminate": "PostgreSQL connections terminated",
            "kill": "gunicorn workers SIGKILLed",
        }[how]
        name = f"{what} during gems-auto-expire"
        self.fresh(name)
        n *= self.scale
        self.seeder.gems_to_expire(n)
        box = {}
        thread = threading.Thread(
            target=lambda: box.update(d=self.deliverer.deliver("gems-auto-expire"))
        )
        thread.start()
        expired = GemsTransaction.kind == "expired"
        deadline = time.monotonic() + 30
        while GemsTransaction.select().where(expired).count() < n // 10:
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        before = GemsTransaction.select().where(expired).count()
        if how == "terminate":
            self.figures.faults["pg_terminate_backend"] += (
                self.database.terminate_backends()
            )
        else:
            self.figures.faults["worker SIGKILL"] += self.service.kill_workers()
        thread.join(timeout=300)
        if how == "kill":
            self.service.wait_ready()
        delivery = box["d"]
        self.figures.deliveries += 1
        lots = GemsTransaction.select().where(expired).count()
        mismatched = ledger_mismatches()
        balances = Counter(c.gems_balance for c in Customer.select())
        ok = delivery.ok and lots == n and mismatched == 0
        ok = ok and balances == Counter({50: n})
        self.figures.lost += abs(n - lots)
        self.record(
            name,
            ok,
            f"cut off after {before} of {n} lots; "
            f"{len(delivery.attempts)} attempts "
            f"{[a.status for a in delivery.attempts]}; lots expired {lots}, "
            f"ledger sum != balance for {mismatched}, balances {dict(balances)}",
        )

    def _recover(
        self, name, due, delivery, what, job="appointment-reminders", unsent=0
    ):
        """After QStash stopped retrying: what is stranded, then the next run."""
        stranded = (
            NotificationLog.select().where(NotificationLog.status == "pending").count()
        )
        self.figures.stranded += stranded
        lease = float(self.service.environment()["NOTIFY_LEASE_SECONDS"])
        time.sleep(lease + 1)
        later = self.deliverer.deliver(job)
        return self._after_fault(
            name,
            due,
            [delivery, later],
            crash_window=True,
            unsent=unsent,
            notes=(
                f"{what}; QStash's retries ended with {stranded} log row(s) "
                "still pending (claimed, sent or not, never marked); the next "
                f"run after the {lease:.0f} s lease took them again",
            ),
        )

    def _copies(self, phase):
        return Counter(
            (r.channel, r.recipient, r.subject)
            for r in self.providers.received(phase)
            if r.channel != "heartbeat"
        )

    def _wait_for_receipts(self, phase, count, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if len(self.providers.received(phase)) >= count:
                return
            time.sleep(0.02)

    def hostile_input(self, examples):
        print(f"Hostile input: {examples} requests drawn by hypothesis")
        phase = "fuzz"
        self.fresh(phase)
        counts = Counter()
        failures, others = [], []
        session = requests.Session()
        service = self.service

        @seed(20261204)
        @settings(
            max_examples=examples,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(hostile_requests())
        def fuzz(hostile):
            prepared = prepare(
                hostile,
                service.base_url,
                service.current_key,
                service.next_key,
                64 * 1024,
            )
            headers = {k: v.strip() for k, v in prepared.headers.items()}
            if "Upstash-Signature" in headers:
                self.tokens_seen.add(headers["Upstash-Signature"])
            body = iter([hostile.body]) if hostile.chunked else hostile.body
            try:
                response = session.request(
                    hostile.method,
                    service.base_url + hostile.path,
                    data=body,
                    headers=headers,
                    timeout=30,
                )
            except (requests.RequestException, ValueError):
                self.figures.fuzz_unsendable += 1
                return
            counts[response.status_code] += 1
            if response.status_code == 400 and not all(map(_plain, headers.values())):
                counts["refused"] += 1  # gunicorn refuses such a header itself
                return
            counts["valid runs" if prepared.runs_job else "refused"] += 1
            wanted = expected_status(hostile, prepared, 64 * 1024)
            if response.status_code >= 500:
                failures.append(f"{response.status_code} {hostile.describe()}")
            elif response.status_code != wanted:
                counts["other answers"] += 1
                others.append(
                    f"{response.status_code} not {wanted}: {hostile.describe()}"
                )

        before = JobRun.select().count()
        fuzz()
        raw = self._raw_requests(counts, failures)
        runs = JobRun.select().count() - before
        sent = counts["refused"] + counts["valid runs"]
        self.figures.fuzz_requests = sent + raw
        self.figures.bad_input_5xx += len(failures)
        self.figures.unsigned_side_effects += max(0, runs - counts["valid runs"])
        ok = not failures and not others and runs == counts["valid runs"]
        statuses = {
            k: v for k, v in sorted(counts.items(), key=str) if isinstance(k, int)
        }
        self.record(
            f"{sent} hostile requests over every route, and {raw} raw ones",
            ok,
            f"answers {statuses}, "
            f"signed runs {counts['valid runs']}, job_run rows {runs}",
            "raw answers "
            + str({k[4:]: v for k, v in sorted(counts.items(), key=str) if _raw(k)}),
            *failures[:10],
            *others[:10],
        )

    def _raw_requests(self, counts, failures):
        """Send RAW_REQUESTS to every route over a bare socket: how many."""
        host, port = "127.0.0.1", self.service.port
        sent = 0
        for route in ROUTES:
            for template in RAW_REQUESTS:
                raw = template.replace(b"{route}", route.encode())
                with socket.create_connection((host, port), timeout=10) as sock:
                    sock.sendall(raw)
                    sock.shutdown(socket.SHUT_WR)
                    answer = _read_all(sock)
                sent += 1
                status = _status_of(answer)
                counts[f"raw {status}"] += 1
                if status is not None and status >= 500:
                    failures.append(f"{status} raw {raw[:60]!r}")
        return sent

    def secrets(self):
        """Scan the service's whole log for keys, tokens, addresses, endpoints."""
        text = self.service.log_path.read_text(errors="replace")
        service = self.service
        candidates = {
            service.current_key,
            service.next_key,
            service.resend_key,
            service.vapid_key,
            service.heartbeat_token,
            *self.seeder.addresses,
            *self.providers.browsers,
        }
        candidates |= {
            t.rsplit(".", 1)[-1] for t in self.tokens_seen if t.count(".") == 2
        }
        found = sorted(s for s in candidates if s and len(s) > 6 and s in text)
        self.figures.secrets_in_logs = len(found)
        self.record(
            f"secrets in the service's log ({len(text.splitlines())} lines)",
            not found,
            f"found {len(found)}" + (f": {found[:3]}" if found else ""),
        )


def _raw(key):
    return isinstance(key, str) and key.startswith("raw ")


def _read_all(sock):
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except OSError:  # reset by the server: it refused the request
        pass
    return b"".join(chunks)


def _status_of(answer):
    """The status code of a raw HTTP answer; None when there was none."""
    parts = answer.split(b" ", 2)
    if len(parts) > 1 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None


def _plain(value):
    """Only visible ASCII, spaces and tabs: what gunicorn takes in a header."""
    return all(ch == "\t" or " " <= ch <= "~" for ch in value)


TRIGGERED = {
    "post-service-followup",
    "stale-booking-alert",
    "noshow-check",
    "membership-expired-notice",
    "invoice-pdf",
}


def ledger_mismatches():
    """Customers whose gems balance differs from the sum of their ledger."""
    sums = dict(
        GemsTransaction.select(GemsTransaction.customer, fn.SUM(GemsTransaction.amount))
        .group_by(GemsTransaction.customer)
        .tuples()
    )
    return sum(
        1 for c in Customer.select() if int(sums.get(c.id, 0) or 0) != c.gems_balance
    )


def rejected_bookings():
    return Booking.select().where(Booking.status == "rejected").count()
