"""Webhook benchmark: signed demo deliveries against Odoo's /web/health, on a
real Odoo 18 server (prefork, 2 workers, no cron) on 127.0.0.1.

A load client of ``--concurrency`` threads posts signed, unique one-message
demo deliveries for ``--seconds``, then loads /web/health the same way for as
long; each phase reports throughput and p50/p99 acknowledgement latency
(send to last byte). Every event sent must be stored exactly once (SQL
count): 0 lost, 0 duplicated.

Targets: webhook throughput >= 0.8x health's; webhook p99 <= 2x health's.

    /opt/odoo18-venv/bin/python bench/bench_webhook.py [--seconds 60]
"""

import argparse
import json
import statistics

from common import (
    create_database,
    deliver,
    demo_body,
    demo_item,
    demo_signature,
    drop_database,
    machine_rows,
    percentile,
    print_table,
    registry,
    run_load,
    server_tracebacks,
    setup_demo_account,
    sql,
    start_server,
    stop_server,
    verdict,
)

SECRET = "bench-webhook-secret"
THROUGHPUT_TARGET = 0.8
P99_TARGET = 2.0


def signed_post(port, path, item):
    body = demo_body(item)
    headers = {
        "Content-Type": "application/json",
        "X-Demo-Signature": demo_signature(SECRET, body),
    }
    return deliver(port, "POST", path, body, headers)


def webhook_phase(port, path, prefix, concurrency, seconds=None, jobs=None):
    """Post one event per request; returns
    ([(id, status, reply, seconds, errors)], elapsed)."""

    def post(worker, n):
        event_id = f"{prefix}-{worker}-{n}"
        item = demo_item(event_id, f"u-{event_id}", f"c-{event_id}", "Hello there.")
        return (event_id, *signed_post(port, path, item))

    return run_load(post, concurrency, seconds=seconds, jobs=jobs)


def health_phase(port, concurrency, seconds=None, jobs=None):
    """GET /web/health; returns ([(status, seconds, errors)], elapsed)."""

    def get(_worker, _n):
        status, _reply, seconds, errors = deliver(port, "GET", "/web/health")
        return status, seconds, errors

    return run_load(get, concurrency, seconds=seconds, jobs=jobs)


def acknowledged(status, reply):
    """200 with the event received (a retry may find it already stored)."""
    return status == 200 and json.loads(reply)["received"] == 1


def summary(statuses, latencies, elapsed):
    return {
        "requests": len(statuses),
        "ok": sum(status == 200 for status in statuses),
        "rate": len(statuses) / elapsed,
        "p50": percentile(latencies, 0.50) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "mean": statistics.mean(latencies) * 1000,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--port", type=int, default=8990)
    parser.add_argument("--db", default="shb_webhook")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    machine = machine_rows()  # before the run loads the machine

    create_database(args.db)
    from odoo import SUPERUSER_ID, api

    with registry(args.db).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        account = setup_demo_account(env, SECRET)
        path = f"/social_helpdesk/webhook/demo/{account.webhook_token}"
        account_id = account.id
    log_path = f"/tmp/{args.db}_server.log"
    server = start_server(args.db, args.port, workers=2, log_path=log_path)
    try:
        # Both workers load the registry and warm their caches, untimed.
        warm, _elapsed = webhook_phase(
            args.port, path, "warm", args.concurrency, jobs=range(50)
        )
        health_phase(args.port, args.concurrency, jobs=range(50))
        sent, hook_elapsed = webhook_phase(
            args.port, path, "bench", args.concurrency, seconds=args.seconds
        )
        checks, health_elapsed = health_phase(
            args.port, args.concurrency, seconds=args.seconds
        )
    finally:
        stop_server(server)

    stored, distinct = sql(
        args.db,
        "SELECT count(*), count(DISTINCT external_id) FROM social_event "
        "WHERE account_id = %s",
        [account_id],
    )[0]
    if not args.keep:
        drop_database(args.db)

    every = warm + sent
    acked = [event for event in every if acknowledged(*event[1:3])]
    hook = summary(
        [status for _id, status, _reply, _s, _errors in sent],
        [seconds for _id, status, _reply, seconds, _errors in sent if status == 200],
        hook_elapsed,
    )
    health = summary(
        [status for status, _s, _errors in checks],
        [seconds for status, seconds, _errors in checks if status == 200],
        health_elapsed,
    )
    errors = [error for *_rest, errors in every + checks for error in errors]
    throughput = hook["rate"] / health["rate"]
    p99 = hook["p99"] / health["p99"]
    lost = len(every) - stored
    duplicated = stored - distinct
    rows = machine + [
        ("server", "odoo --workers=2 --max-cron-threads=0, 127.0.0.1"),
        ("client", f"{args.concurrency} threads, {args.seconds:g} s per phase"),
        ("webhook: requests (200 OK)", f"{hook['requests']} ({hook['ok']})"),
        ("webhook: requests/s", f"{hook['rate']:.1f}"),
        ("webhook: latency p50 / p99 (ms)", f"{hook['p50']:.1f} / {hook['p99']:.1f}"),
        ("health: requests (200 OK)", f"{health['requests']} ({health['ok']})"),
        ("health: requests/s", f"{health['rate']:.1f}"),
        (
            "health: latency p50 / p99 (ms)",
            f"{health['p50']:.1f} / {health['p99']:.1f}",
        ),
        (
            f"webhook / health throughput (target >= {THROUGHPUT_TARGET})",
            f"{throughput:.2f} ({verdict(throughput >= THROUGHPUT_TARGET)})",
        ),
        (
            f"webhook / health p99 (target <= {P99_TARGET})",
            f"{p99:.2f} ({verdict(p99 <= P99_TARGET)})",
        ),
        ("events sent (with 50 warm-up) / acked", f"{len(every)} / {len(acked)}"),
        ("events stored (SQL)", stored),
        ("lost / duplicated", f"{lost} / {duplicated}"),
        ("connection errors (requests retried)", len(errors)),
        ("tracebacks in the server log", server_tracebacks(log_path)),
    ]
    print_table("Webhook", rows)
    for error in sorted(set(errors)):
        print(f"Connection error, retried: {error}")
    for event_id, status, reply, _seconds, _errors in every:
        if not acknowledged(status, reply):
            print(f"Not acknowledged: {event_id}: {status} {reply[:300]!r}")
    if lost or duplicated or len(acked) != len(every):
        raise SystemExit("Events were lost, duplicated or not acknowledged.")


if __name__ == "__main__":
    main()
