"""Webhook benchmark: signed demo deliveries against Odoo's /web/health, on a
real Odoo 18 server (prefork, 2 workers, no cron) on 127.0.0.1.

A bounded load client of ``--concurrency`` threads (each waits for its answer
before it sends again) posts signed, unique one-message demo deliveries, and
loads /web/health the same way, for ``--seconds`` each: in ``--rounds``
alternating rounds (the routes' order reversed every other round; 2 s a
route by default), so that the routes meet the same machine load: on these
noisy machines, short rounds pair the routes closer in time than long ones.
/web/health does no work of its own: it is the machine's request ceiling.
Odoo still serves it as every request of a database, with the registry
check and, by default, the database list: with ``--db-filter`` (as when no
database is named at all), Odoo finds the database of a request without a
session by listing the databases over a new connection to ``postgres``, most
of /web/health's time. ``--no-db-filter`` serves the database named with
``-d`` alone, with no list: every route is faster, and the ratios lower.

A third route, for information, is a GET of the same webhook URL, which the
demo network refuses (403, no handshake) after the account lookup: Odoo's
cost of a request on this route, without storing anything. A fourth, also
for information, is the durable-write floor: the same signed bodies posted
to a route of ``bench/addons/bench_durable_floor`` (loaded server-wide for
the run) that only inserts the raw body in a plain table, committed before
the answer: the least any webhook that never loses a delivery costs in an
Odoo request. Each route's throughput and p50/p99 acknowledgement latency
(send to last byte) are reported, and where the machine's CPU went, a
request of each route (when PostgreSQL runs on this machine): Odoo's
processes, the database's PostgreSQL backends, and PostgreSQL processes that
ended meanwhile (the connection Odoo opens to list the databases, a new one
each request). Every event sent must be stored exactly once (SQL count): 0
lost, 0 duplicated; the script exits non-zero otherwise.

``--stored-events N`` first fills the event store with N processed events
of the bench account (about 1 KB of payload each, received over two years,
the newest 90 days' with their payload, the older ones pruned), then runs
VACUUM ANALYZE: the webhook's insert then meets a store of that size.

Targets: webhook throughput >= 0.8x health's (issue #29: also with 2,000,000
events stored); webhook p99 <= 2x health's.

    /opt/odoo18-venv/bin/python bench/bench_webhook.py [--seconds 60]
        [--concurrency 2] [--rounds 30] [--no-db-filter]
        [--stored-events 2000000]
"""

import json
import statistics

from common import (
    arguments,
    deliver,
    demo_body,
    demo_headers,
    demo_item,
    demo_webhook,
    machine_rows,
    percentile,
    print_table,
    run_load,
    server_label,
    server_tracebacks,
    serving,
    sql,
    throwaway_database,
    verdict,
)

SECRET = "bench-webhook-secret"
STORED_PREFIX = "stored:"
FLOOR_PATH = "/bench_durable_floor"
THROUGHPUT_TARGET = 0.8
P99_TARGET = 2.0


def signed_post(port, path, item):
    body = demo_body(item)
    return deliver(port, "POST", path, body, demo_headers(SECRET, body))


def webhook_phase(port, path, prefix, concurrency, seconds=None, jobs=None):
    """Post one event per request; returns
    ([(id, status, reply, seconds, errors)], elapsed)."""

    def post(worker, n):
        event_id = f"{prefix}-{worker}-{n}"
        item = demo_item(event_id, f"u-{event_id}", f"c-{event_id}", "Hello there.")
        return (event_id, *signed_post(port, path, item))

    return run_load(post, concurrency, seconds=seconds, jobs=jobs)


def floor_phase(port, concurrency, seconds=None, jobs=None):
    """Post the same signed bodies to the durable-write floor; returns
    ([(status, seconds, errors)], elapsed)."""

    def post(worker, n):
        event_id = f"floor-{worker}-{n}"
        item = demo_item(event_id, f"u-{event_id}", f"c-{event_id}", "Hello there.")
        status, _reply, seconds, errors = signed_post(port, FLOOR_PATH, item)
        return status, seconds, errors

    return run_load(post, concurrency, seconds=seconds, jobs=jobs)


def get_phase(port, path, concurrency, seconds=None, jobs=None):
    """GET ``path``; returns ([(status, seconds, errors)], elapsed)."""

    def get(_worker, _n):
        status, _reply, seconds, errors = deliver(port, "GET", path)
        return status, seconds, errors

    return run_load(get, concurrency, seconds=seconds, jobs=jobs)


def acknowledged(status, reply):
    """200 with the event received (a retry may find it already stored)."""
    return status == 200 and json.loads(reply)["received"] == 1


def summary(statuses, latencies, elapsed, expected=200):
    return {
        "requests": len(statuses),
        "ok": sum(status == expected for status in statuses),
        "rate": len(statuses) / elapsed,
        "p50": percentile(latencies, 0.50) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "mean": statistics.mean(latencies) * 1000,
    }


CPU_KINDS = (
    "Odoo",
    "database backends",
    "ended PostgreSQL processes",
    "whole machine",
)


def cpu_seconds(port, db):
    """CPU seconds used so far, by kind (``CPU_KINDS``): the Odoo server's
    processes, the PostgreSQL backends of ``db``, the PostgreSQL processes
    that have ended (reaped by the postmaster: the database list's
    connections, autovacuum workers), and the whole machine's busy time."""
    import psutil  # Odoo's own requirement: in Odoo's Python, not the tests'

    used = dict.fromkeys(CPU_KINDS, 0.0)
    postmasters = set()
    for process in psutil.process_iter(["cmdline", "ppid"]):
        cmdline = " ".join(process.info["cmdline"] or ())
        if f"--http-port={port}" in cmdline:
            kind = "Odoo"
        elif cmdline.startswith("postgres: ") and f" {db} " in cmdline:
            kind = "database backends"
            postmasters.add(process.info["ppid"])
        else:
            continue
        try:
            times = process.cpu_times()
        except psutil.Error:  # ended meanwhile
            continue
        used[kind] += times.user + times.system
    for pid in postmasters:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:  # another user's, where /proc is restricted
            continue
        used["ended PostgreSQL processes"] += (
            times.children_user + times.children_system
        )
    busy = psutil.cpu_times()
    used["whole machine"] = (
        busy.user + busy.nice + busy.system + busy.irq + busy.softirq
    )
    return used


def alternate(port, path, concurrency, seconds, rounds, db):
    """The timed phases, the routes' order reversed every other round.
    Returns {route: (results, seconds, [requests/s of each round], {CPU
    kind: seconds})}."""
    phases = {
        "webhook": lambda n: webhook_phase(
            port, path, f"bench{n}", concurrency, seconds=seconds / rounds
        ),
        "health": lambda _n: get_phase(
            port, "/web/health", concurrency, seconds=seconds / rounds
        ),
        "floor": lambda _n: floor_phase(port, concurrency, seconds=seconds / rounds),
        "handshake": lambda _n: get_phase(
            port, path, concurrency, seconds=seconds / rounds
        ),
    }
    done = {route: ([], 0.0, [], dict.fromkeys(CPU_KINDS, 0.0)) for route in phases}
    for n in range(rounds):
        for route in list(phases)[:: 1 if n % 2 == 0 else -1]:
            before = cpu_seconds(port, db)
            results, elapsed = phases[route](n)
            after = cpu_seconds(port, db)
            every, seconds_so_far, rates, cpu = done[route]
            done[route] = (
                every + results,
                seconds_so_far + elapsed,
                [*rates, len(results) / elapsed],
                {kind: cpu[kind] + after[kind] - before[kind] for kind in CPU_KINDS},
            )
    return done


def cpu_rows(label, requests, cpu):
    """Where the CPU went, ms a request; nothing when PostgreSQL's processes
    were not seen (a server on another machine or in a container)."""
    if not cpu["database backends"]:
        return []
    return [
        (
            f"{label}: CPU ms a request (Odoo / db / ended pg / machine)",
            " / ".join(f"{1000 * cpu[kind] / len(requests):.2f}" for kind in CPU_KINDS),
        )
    ]


def latency_rows(label, measured):
    return [
        (
            f"{label}: requests (expected status)",
            f"{measured['requests']} ({measured['ok']})",
        ),
        (f"{label}: requests/s", f"{measured['rate']:.1f}"),
        (
            f"{label}: latency p50 / p99 (ms)",
            f"{measured['p50']:.1f} / {measured['p99']:.1f}",
        ),
    ]


def fill_store(db, account_id, count):
    """``count`` processed events of ``account_id`` received over two years,
    in one INSERT ... SELECT, then VACUUM ANALYZE (as autovacuum would)."""
    sql(
        db,
        """
        INSERT INTO social_event (account_id, external_id, payload, via_webhook,
            state, attempts, received_date, pruned_date, create_date, write_date)
        SELECT %(account)s, %(prefix)s || n,
               CASE WHEN received > now() - INTERVAL '90 days' THEN
                   jsonb_build_object('source', 'demo', 'item', jsonb_build_object(
                       'id', 'm-' || n, 'text', repeat('Stored text ', 60),
                       'author', jsonb_build_object('id', 'u-' || (n %% 50000))))
               END,
               true, 'done', 1, received,
               CASE WHEN received <= now() - INTERVAL '90 days' THEN now() END,
               received, received
          FROM generate_series(1, %(count)s) AS n,
               LATERAL (SELECT (now() AT TIME ZONE 'UTC')
                   - INTERVAL '730 days' * (%(count)s - n) / %(count)s AS received) r
        """,
        {"account": account_id, "prefix": STORED_PREFIX, "count": count},
    )
    import psycopg2

    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            cr.execute("VACUUM ANALYZE social_event")
    finally:
        conn.close()


def main():
    parser = arguments(
        __doc__, "bench_webhook", port=8990, seconds=60.0, concurrency=2, rounds=30
    )
    parser.add_argument(
        "--no-db-filter",
        dest="db_filter",
        action="store_false",
        help="serve the database named with -d, without --db-filter",
    )
    parser.add_argument(
        "--stored-events",
        type=int,
        default=0,
        help="processed events in the store before the run (%(default)s)",
    )
    args = parser.parse_args()
    if args.stored_events < 0:
        parser.error("--stored-events: not 0 or more")
    machine = machine_rows()  # before the run loads the machine

    with throwaway_database(args.db, args.keep):
        account_id, path = demo_webhook(args.db, SECRET)
        if args.stored_events:
            fill_store(args.db, account_id, args.stored_events)
        sql(
            args.db,
            "CREATE TABLE bench_durable_floor (id serial PRIMARY KEY, body bytea)",
        )
        with serving(
            args.db,
            args.port,
            bench_modules=["bench_durable_floor"],
            db_filter=args.db_filter,
        ) as log_path:
            # Both workers load the registry and warm their caches, untimed.
            warm, _elapsed = webhook_phase(
                args.port, path, "warm", args.concurrency, jobs=range(50)
            )
            get_phase(args.port, "/web/health", args.concurrency, jobs=range(50))
            get_phase(args.port, path, args.concurrency, jobs=range(50))
            floor_phase(args.port, args.concurrency, jobs=range(50))
            done = alternate(
                args.port, path, args.concurrency, args.seconds, args.rounds, args.db
            )
        stored, distinct = sql(
            args.db,
            "SELECT count(*), count(DISTINCT external_id) FROM social_event "
            "WHERE account_id = %s AND external_id NOT LIKE %s",
            [account_id, STORED_PREFIX + "%"],
        )[0]

    sent, hook_elapsed, hook_rates, hook_cpu = done["webhook"]
    every = warm + sent
    acked = [event for event in every if acknowledged(*event[1:3])]
    hook = summary(
        [status for _id, status, _reply, _s, _errors in sent],
        [seconds for _id, status, _reply, seconds, _errors in sent if status == 200],
        hook_elapsed,
    )
    checks, health_elapsed, health_rates, health_cpu = done["health"]
    refusals, refused_elapsed, _rates, refused_cpu = done["handshake"]
    floor_writes, floor_elapsed, _rates, floor_cpu = done["floor"]
    round_ratios = sorted(
        hook_rate / health_rate
        for hook_rate, health_rate in zip(hook_rates, health_rates, strict=True)
    )
    health = summary(
        [status for status, _s, _errors in checks],
        [seconds for status, seconds, _errors in checks if status == 200],
        health_elapsed,
    )
    refused = summary(
        [status for status, _s, _errors in refusals],
        [seconds for status, seconds, _errors in refusals if status == 403],
        refused_elapsed,
        expected=403,
    )
    floor = summary(
        [status for status, _s, _errors in floor_writes],
        [seconds for status, seconds, _errors in floor_writes if status == 200],
        floor_elapsed,
    )
    errors = [
        error
        for *_rest, errors in every + checks + refusals + floor_writes
        for error in errors
    ]
    throughput = hook["rate"] / health["rate"]
    p99 = hook["p99"] / health["p99"]
    lost = len(every) - stored
    duplicated = stored - distinct
    rows = (
        machine
        + [
            ("server", server_label(db_filter=args.db_filter)),
            ("events in the store before the run", f"{args.stored_events:,}"),
            (
                "client",
                f"{args.concurrency} Python threads (one request in flight each), "
                f"{args.seconds:g} s per route in {args.rounds} alternating rounds",
            ),
        ]
        + latency_rows("webhook POST (200)", hook)
        + latency_rows("/web/health (200)", health)
        + latency_rows("same URL, GET handshake refused (403)", refused)
        + latency_rows("durable-write floor POST (200)", floor)
        + cpu_rows("webhook", sent, hook_cpu)
        + cpu_rows("/web/health", checks, health_cpu)
        + cpu_rows("GET refused", refusals, refused_cpu)
        + cpu_rows("floor", floor_writes, floor_cpu)
        + [
            (
                f"webhook / health throughput (target >= {THROUGHPUT_TARGET})",
                f"{throughput:.2f} ({verdict(throughput >= THROUGHPUT_TARGET)})",
            ),
            (
                "webhook / health throughput of each round (lowest, median, highest)",
                f"{round_ratios[0]:.2f}, {statistics.median(round_ratios):.2f}, "
                f"{round_ratios[-1]:.2f}",
            ),
            (
                f"webhook / health p99 (target <= {P99_TARGET})",
                f"{p99:.2f} ({verdict(p99 <= P99_TARGET)})",
            ),
            (
                "webhook / GET refused: throughput, p99 (no target)",
                f"{hook['rate'] / refused['rate']:.2f}, "
                f"{hook['p99'] / refused['p99']:.2f}",
            ),
            (
                "durable-write floor / health: throughput, p99 (no target)",
                f"{floor['rate'] / health['rate']:.2f}, "
                f"{floor['p99'] / health['p99']:.2f}",
            ),
            (
                "webhook / durable-write floor: throughput, p99 (no target)",
                f"{hook['rate'] / floor['rate']:.2f}, {hook['p99'] / floor['p99']:.2f}",
            ),
            ("events sent (with 50 warm-up) / acked", f"{len(every)} / {len(acked)}"),
            ("events stored (SQL)", stored),
            ("lost / duplicated", f"{lost} / {duplicated}"),
            ("connection errors (requests retried)", len(errors)),
            ("tracebacks in the server log", server_tracebacks(log_path)),
        ]
    )
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
