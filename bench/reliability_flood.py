"""Webhook flood: thousands of deliveries over real HTTP to an Odoo 18 server
(prefork, 2 workers, no cron) on 127.0.0.1, mixing what networks and
attackers send: about 20% duplicates (resends of earlier deliveries), 5%
forged or missing signatures, 1% malformed bodies, 1% oversized bodies
(``social_helpdesk.webhook_max_bytes`` is set to ``--max-bytes`` for the run),
the rest valid deliveries of one to three new messages. The shares and the
seed are options.

Exits non-zero unless the stored events are exactly the valid unique ones and
every request got its status: 200, 403 (signature), 400 (malformed) or 413
(oversized).

    /opt/odoo18-venv/bin/python bench/reliability_flood.py [--deliveries 10000]
        [--seed 7] [--duplicates 0.2] [--forged 0.05] [--malformed 0.01]
        [--oversized 0.01] [--concurrency 4]
"""

import json
import random
from collections import Counter

from common import (
    arguments,
    bounded,
    deliver,
    demo_body,
    demo_headers,
    demo_item,
    demo_webhook,
    machine_rows,
    no_target,
    none_expected,
    report,
    run_load,
    server_label,
    server_tracebacks,
    serving,
    sql,
    throwaway_database,
    verdict,
)

SECRET = "flood-secret"
KINDS = ("duplicate", "forged", "malformed", "oversized")
EXPECTED_STATUS = {
    "valid": 200,
    "duplicate": 200,
    "forged": 403,
    "malformed": 400,
    "oversized": 413,
}


class Flood:
    """Builds the deliveries: (kind, body, headers, ids stored if accepted)."""

    def __init__(self, rng, max_bytes):
        self.rng = rng
        self.max_bytes = max_bytes
        self.count = 0
        self.valid = []

    def items(self, count, text="Where is my order?"):
        items = []
        for _n in range(count):
            self.count += 1
            n = self.count
            items.append(demo_item(f"fl-{n}", f"fl-u-{n}", f"fl-c-{n}", text))
        return items

    def make(self, kind):
        if kind == "duplicate" and self.valid:
            return ("duplicate", *self.rng.choice(self.valid)[1:])
        if kind in ("valid", "duplicate"):
            items = self.items(self.rng.choice([1, 1, 1, 2, 3]))
            body = demo_body(*items)
            ids = [item["id"] for item in items]
            delivery = ("valid", body, demo_headers(SECRET, body), ids)
            self.valid.append(delivery)
            return delivery
        if kind == "forged":
            return ("forged", *self.forged())
        if kind == "malformed":
            return ("malformed", *self.malformed())
        text = "x" * (self.max_bytes + self.rng.randrange(1, max(2, self.max_bytes)))
        body = demo_body(*self.items(1, text=text))
        return ("oversized", body, demo_headers(SECRET, body), [])

    def forged(self):
        body = demo_body(*self.items(1))
        variant = self.rng.randrange(4)
        if variant == 0:  # no signature at all
            return body, demo_headers(None, body), []
        if variant == 1:  # made with another secret
            return body, demo_headers("not-the-secret", body), []
        headers = demo_headers(SECRET, body)
        if variant == 2:  # random
            headers["X-Demo-Signature"] = "sha256=" + self.rng.randbytes(32).hex()
            return body, headers, []
        return body.replace(b"Where", b"WHERE"), headers, []  # tampered with

    def malformed(self):
        body = self.rng.choice(
            [
                b"{not json",
                b"[1, 2, 3]",
                b'{"messages": "nope"}',
                b'{"messages": [{"text": "no id"}]}',
                b"\xff\xfe\x00garbage",
                b'{"messages": [NaN]}',
            ]
        )
        return body, demo_headers(SECRET, body), []


def build(count, max_bytes, seed, mix):
    """``count`` deliveries, each of a kind drawn with the shares ``mix``
    ((kind, share) pairs; "valid" for the rest)."""
    rng = random.Random(seed)
    flood = Flood(rng, max_bytes)
    deliveries = []
    for _n in range(count):
        roll, kind = rng.random(), "valid"
        for name, share in mix:
            if roll < share:
                kind = name
                break
            roll -= share
        deliveries.append(flood.make(kind))
    return deliveries


def main():
    parser = arguments(
        __doc__,
        "bench_flood",
        port=8992,
        deliveries=10000,
        concurrency=4,
        max_bytes=4096,
        seed=7,
    )
    for kind, share in zip(KINDS, (0.20, 0.05, 0.01, 0.01), strict=True):
        parser.add_argument(
            "--duplicates" if kind == "duplicate" else f"--{kind}",
            dest=kind,
            type=bounded(float, minimum=0, maximum=1),
            default=share,
            help=f"share of {kind} deliveries (%(default)s)",
        )
    args = parser.parse_args()
    mix = [(kind, getattr(args, kind)) for kind in KINDS]
    if sum(share for _kind, share in mix) > 1:
        parser.error("the shares add up to more than 1")
    deliveries = build(args.deliveries, args.max_bytes, args.seed, mix)
    largest = max(
        (len(body) for kind, body, *_rest in deliveries if kind != "oversized"),
        default=0,
    )
    if largest > args.max_bytes:
        parser.error(
            f"--max-bytes {args.max_bytes} would refuse valid deliveries: "
            f"the largest body that is not oversized has {largest} bytes"
        )
    machine = machine_rows()  # before the run loads the machine
    with throwaway_database(args.db, args.keep):
        account_id, path = demo_webhook(
            args.db,
            SECRET,
            {"social_helpdesk.webhook_max_bytes": str(args.max_bytes)},
        )
        with serving(args.db, args.port) as log_path:
            answers, elapsed = run_load(
                lambda _worker, delivery: (
                    delivery,
                    *deliver(args.port, "POST", path, delivery[1], delivery[2]),
                ),
                args.concurrency,
                jobs=deliveries,
            )
        stored = [
            external_id
            for (external_id,) in sql(
                args.db,
                "SELECT external_id FROM social_event WHERE account_id = %s",
                [account_id],
            )
        ]

    expected = {
        f"demo:{message_id}"
        for kind, _body, _headers, ids in deliveries
        if kind == "valid"
        for message_id in ids
    }
    wrong = [
        (delivery[0], status, reply[:200])
        for delivery, status, reply, _seconds, _errors in answers
        if status != EXPECTED_STATUS[delivery[0]]
    ]
    reported_new = sum(
        json.loads(reply)["received"] - json.loads(reply)["duplicates"]
        for _delivery, status, reply, _seconds, _errors in answers
        if status == 200
    )
    kinds = Counter(kind for kind, *_rest in deliveries)
    statuses = Counter(status for _d, status, *_rest in answers)
    errors = sum(len(errors) for *_rest, errors in answers)
    missing = expected - set(stored)
    unexpected = set(stored) - expected
    duplicated = len(stored) - len(set(stored))
    violations = [
        label
        for label, bad in [
            (f"{len(wrong)} wrong statuses", wrong),
            (f"{len(missing)} valid events missing", missing),
            (f"{len(unexpected)} events stored that should not be", unexpected),
            (f"{duplicated} events stored twice", duplicated),
            (
                f"{reported_new} new events acknowledged, {len(expected)} expected",
                reported_new != len(expected),
            ),
        ]
        if bad
    ]
    report(
        "Webhook flood",
        machine
        + [
            ("server", server_label()),
            ("client", f"{args.concurrency} threads over HTTP"),
            (
                "deliveries",
                f"{len(deliveries)} in {elapsed:.1f} s (seed {args.seed}; no target)",
            ),
            ("mix", ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))),
            ("webhook_max_bytes", args.max_bytes),
            ("statuses", ", ".join(f"{s} x{n}" for s, n in sorted(statuses.items()))),
            ("wrong statuses", none_expected(len(wrong))),
            ("valid unique events", len(expected)),
            (
                "events stored (SQL)",
                f"{len(stored)} (target {len(expected)}: "
                f"{verdict(len(stored) == len(expected))})",
            ),
            (
                "new events acknowledged (200 replies)",
                f"{reported_new} (target {len(expected)}: "
                f"{verdict(reported_new == len(expected))})",
            ),
            (
                "missing / unexpected / duplicated",
                f"{len(missing)} / {len(unexpected)} / {duplicated} (target 0: "
                f"{verdict(not (missing or unexpected or duplicated))})",
            ),
            ("connection errors (retried)", no_target(errors)),
            (
                "tracebacks in the server log",
                none_expected(server_tracebacks(log_path)),
            ),
        ],
        violations,
        log_path,
        details=[
            f"Wrong status for a {kind} delivery: {status} {reply!r}"
            for kind, status, reply in wrong[:20]
        ],
    )


if __name__ == "__main__":
    main()
