"""Webhook flood: thousands of deliveries over real HTTP to an Odoo 18 server
(prefork, 2 workers, no cron) on 127.0.0.1, mixing what networks and
attackers send: about 20% duplicates (resends of earlier deliveries), 5%
forged or missing signatures, 1% malformed bodies, 1% oversized bodies
(``social_helpdesk.webhook_max_bytes`` is set small for the run), the rest
valid deliveries of one to three new messages.

Exits non-zero unless the stored events are exactly the valid unique ones and
every request got its status: 200, 403 (signature), 400 (malformed) or 413
(oversized).

    /opt/odoo18-venv/bin/python bench/reliability_flood.py [--deliveries 10000]
"""

import argparse
import json
import random
from collections import Counter

from common import (
    create_database,
    deliver,
    demo_body,
    demo_item,
    demo_signature,
    drop_database,
    machine_rows,
    print_table,
    registry,
    run_load,
    server_tracebacks,
    setup_demo_account,
    sql,
    start_server,
    stop_server,
)

SECRET = "flood-secret"
MIX = [("duplicate", 0.20), ("forged", 0.05), ("malformed", 0.01), ("oversized", 0.01)]
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

    def signed(self, body):
        return {"Content-Type": "application/json", "X-Demo-Signature": sign(body)}

    def make(self, kind):
        if kind == "duplicate" and self.valid:
            return ("duplicate", *self.rng.choice(self.valid)[1:])
        if kind in ("valid", "duplicate"):
            items = self.items(self.rng.choice([1, 1, 1, 2, 3]))
            body = demo_body(*items)
            delivery = ("valid", body, self.signed(body), [i["id"] for i in items])
            self.valid.append(delivery)
            return delivery
        if kind == "forged":
            return ("forged", *self.forged())
        if kind == "malformed":
            return ("malformed", *self.malformed())
        text = "x" * (self.max_bytes + self.rng.randrange(1, self.max_bytes))
        body = demo_body(*self.items(1, text=text))
        return ("oversized", body, self.signed(body), [])

    def forged(self):
        body = demo_body(*self.items(1))
        headers = {"Content-Type": "application/json"}
        variant = self.rng.randrange(4)
        if variant == 0:
            headers["X-Demo-Signature"] = "sha256=" + self.rng.randbytes(32).hex()
        elif variant == 1:
            headers["X-Demo-Signature"] = demo_signature("not-the-secret", body)
        elif variant == 2:  # signed, then tampered with
            headers["X-Demo-Signature"] = sign(body)
            body = body.replace(b"Where", b"WHERE")
        return body, headers, []  # variant 3: no signature at all

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
        return body, self.signed(body), []


def sign(body):
    return demo_signature(SECRET, body)


def build(count, max_bytes, seed):
    rng = random.Random(seed)
    flood = Flood(rng, max_bytes)
    deliveries = []
    for _n in range(count):
        roll, kind = rng.random(), "valid"
        for name, share in MIX:
            if roll < share:
                kind = name
                break
            roll -= share
        deliveries.append(flood.make(kind))
    return deliveries


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-bytes", type=int, default=4096)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=8992)
    parser.add_argument("--db", default="shb_flood")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    machine = machine_rows()  # before the run loads the machine

    deliveries = build(args.deliveries, args.max_bytes, args.seed)
    create_database(args.db)
    from odoo import SUPERUSER_ID, api

    with registry(args.db).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        account = setup_demo_account(env, SECRET)
        env["ir.config_parameter"].set_param(
            "social_helpdesk.webhook_max_bytes", str(args.max_bytes)
        )
        path = f"/social_helpdesk/webhook/demo/{account.webhook_token}"
        account_id = account.id
    log_path = f"/tmp/{args.db}_server.log"
    server = start_server(args.db, args.port, workers=2, log_path=log_path)
    try:
        answers, elapsed = run_load(
            lambda _worker, delivery: (
                delivery,
                *deliver(args.port, "POST", path, delivery[1], delivery[2]),
            ),
            args.concurrency,
            jobs=deliveries,
        )
    finally:
        stop_server(server)
    stored = [
        external_id
        for (external_id,) in sql(
            args.db,
            "SELECT external_id FROM social_event WHERE account_id = %s",
            [account_id],
        )
    ]
    if not args.keep:
        drop_database(args.db)

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
    rows = machine + [
        ("server", "odoo --workers=2 --max-cron-threads=0, 127.0.0.1"),
        ("client", f"{args.concurrency} threads over HTTP"),
        ("deliveries", f"{len(deliveries)} in {elapsed:.1f} s"),
        ("mix", ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))),
        ("webhook_max_bytes", args.max_bytes),
        ("statuses", ", ".join(f"{s} x{n}" for s, n in sorted(statuses.items()))),
        ("wrong statuses", len(wrong)),
        ("valid unique events", len(expected)),
        ("events stored (SQL)", len(stored)),
        ("new events acknowledged (200 replies)", reported_new),
        (
            "missing / unexpected / duplicated",
            f"{len(missing)} / {len(unexpected)} / {duplicated}",
        ),
        ("connection errors (retried)", errors),
        ("tracebacks in the server log", server_tracebacks(log_path)),
    ]
    print_table("Webhook flood", rows)
    for kind, status, reply in wrong[:20]:
        print(f"Wrong status for a {kind} delivery: {status} {reply!r}")
    ok = not (wrong or missing or unexpected or duplicated)
    ok = ok and reported_new == len(expected)
    print("PASS" if ok else "FAIL")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
