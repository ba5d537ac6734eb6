"""Raw-store retention at scale: the pruning cron over a large event store,
with webhook inserts running beside it.

In ``--database`` (a copy of the large database of ``make_large_db.py``:
``createdb -T large_1m retention_large``; it is modified and left there), it
times the account form's store size (``social.event._store_size`` for every
account), then runs the pruning cron (``_cron_prune_payloads``, batches of
1,000 rows, each committed) while a second connection inserts new events
with the webhook's own statement (``store_events_query``), one event a
transaction, back to back. The same inserts are timed before the pruning, for
comparison. Then the store size again.

Targets (issue #29: the pruning "never locks the webhook's insert path"):
the inserts' p99 during the pruning at most 2x their p99 before it, and no
insert waiting on a row lock (PostgreSQL's ``pg_locks``, sampled every 50 ms;
the other lock types seen are listed); the store size under 0.3 s.

    /opt/odoo18-venv/bin/python bench/bench_retention.py --database retention_large
        [--seconds 20]
"""

import argparse
import json
import statistics
import threading
import time

from common import machine_rows, percentile, print_table, registry, verdict

P99_TARGET = 2.0
SIZE_TARGET = 0.3


def insert_load(db, account_id, stop, prefix):
    """Insert one event a transaction until ``stop`` is set; returns the
    seconds each took."""
    import psycopg2

    from odoo.addons.social_helpdesk.adapters.base import InboundEvent
    from odoo.addons.social_helpdesk.models.social_event import store_events_query

    conn = psycopg2.connect(dbname=db)
    timings, n = [], 0
    try:
        while not stop.is_set():
            n += 1
            event = InboundEvent(
                event_id=f"{prefix}-{n}",
                payload={"source": "demo", "item": {"id": f"{prefix}-{n}"}},
            )
            query = store_events_query(account_id, [event], True, None)
            started = time.perf_counter()
            with conn, conn.cursor() as cr:
                cr.execute(query.code, query.params)
            timings.append(time.perf_counter() - started)
    finally:
        conn.close()
    return timings


def lock_waits(db, stop, seen):
    """Sample the inserts' lock waits on social_event every 50 ms."""
    import psycopg2

    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            while not stop.is_set():
                cr.execute(
                    "SELECT l.locktype FROM pg_locks l JOIN pg_stat_activity a"
                    " ON a.pid = l.pid WHERE NOT l.granted"
                    " AND a.query LIKE 'INSERT INTO social_event%%'"
                )
                seen.append([locktype for (locktype,) in cr.fetchall()])
                time.sleep(0.05)
    finally:
        conn.close()


def timed_inserts(db, account_id, seconds, prefix, during=None):
    """Insert for ``seconds`` (or while ``during()`` runs); returns the
    timings, the lock-wait samples and ``during``'s result."""
    stop, samples, result = threading.Event(), [], {}
    timings = []
    loader = threading.Thread(
        target=lambda: timings.extend(insert_load(db, account_id, stop, prefix))
    )
    sampler = threading.Thread(target=lock_waits, args=(db, stop, samples))
    loader.start()
    sampler.start()
    try:
        if during:
            result["value"] = during()
        else:
            time.sleep(seconds)
    finally:
        stop.set()
        loader.join()
        sampler.join()
    return timings, samples, result.get("value")


def store_size(env, account_ids):
    started = time.perf_counter()
    sizes = env["social.event"]._store_size(account_ids)
    return time.perf_counter() - started, sizes


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", required=True, help="a copy, modified")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    machine = machine_rows()
    from odoo import SUPERUSER_ID, api

    db = args.database
    with registry(db).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        cr.execute(
            "SELECT count(*), count(*) FILTER (WHERE pruned_date IS NULL"
            " AND state IN ('done', 'ignored')"
            " AND received_date < now() - INTERVAL '90 days'),"
            " pg_size_pretty(pg_total_relation_size('social_event'))"
            " FROM social_event"
        )
        events, prunable, size_before = cr.fetchone()
        account_ids = (
            env["social.account"].with_context(active_test=False).search([]).ids
        )
        size_time_before, sizes = store_size(env, account_ids)
        cr.commit()
        account_id = max(sizes, key=lambda key: sizes[key][0])
        before, waits_before, _none = timed_inserts(db, account_id, args.seconds, "pre")
        started = time.perf_counter()
        during, waits_during, pruned = timed_inserts(
            db,
            account_id,
            None,
            "during",
            during=env["social.event"]._cron_prune_payloads,
        )
        pruning = time.perf_counter() - started
        size_time_after, sizes_after = store_size(env, account_ids)
        cr.execute("SELECT pg_size_pretty(pg_total_relation_size('social_event'))")
        (size_after,) = cr.fetchone()
        cr.commit()
    p99_before, p99_during = percentile(before, 0.99), percentile(during, 0.99)
    ratio = p99_during / p99_before
    # A row lock (transactionid, tuple) would be the pruning holding up the
    # insert; the relation's extension lock, which every writer of the table
    # takes in turn to add pages, is not.
    on_rows = sum(
        1 for sample in waits_during if {"transactionid", "tuple"} & set(sample)
    )
    other = sorted({kind for sample in waits_during for kind in sample})
    print_table("Machine", machine)
    print_table(
        "Raw-store retention",
        [
            ("database", f"{db}: {events:,} events, {size_before}"),
            ("events past the retention, processed (to prune)", f"{prunable:,}"),
            ("events pruned", f"{pruned:,}"),
            (
                "pruning (s), events/s",
                f"{pruning:.1f}, {pruned / pruning:,.0f} (no target)",
            ),
            (
                f"store size of {len(account_ids)} accounts, before (s);"
                f" target < {SIZE_TARGET:g}",
                f"{size_time_before:.3f} ({verdict(size_time_before < SIZE_TARGET)})",
            ),
            (
                "store size after (s)",
                f"{size_time_after:.3f} ({verdict(size_time_after < SIZE_TARGET)})",
            ),
            (
                "largest account: events, payload MB (before -> after)",
                f"{sizes[account_id][0]:,}, {sizes[account_id][1] / 2**20:,.0f}"
                f" -> {sizes_after[account_id][0]:,},"
                f" {sizes_after[account_id][1] / 2**20:,.0f}",
            ),
            ("table and indexes, after (VACUUM reuses the space)", size_after),
            (
                "inserts before: count, p50, p99, max (ms)",
                _latency(before),
            ),
            (
                "inserts during the pruning: count, p50, p99, max (ms)",
                _latency(during),
            ),
            (
                f"insert p99 during / before; target <= {P99_TARGET:g}",
                f"{ratio:.2f} ({verdict(ratio <= P99_TARGET)})",
            ),
            (
                "samples (every 50 ms) with an insert waiting on a row lock; target 0",
                f"{on_rows} of {len(waits_during)} ({verdict(not on_rows)})",
            ),
            (
                "lock types an insert was seen waiting on (no target)",
                ", ".join(other) or "none",
            ),
        ],
    )
    print(json.dumps({"pruned": pruned, "seconds": round(pruning, 1)}))


def _latency(timings):
    ms = [t * 1000 for t in timings]
    return (
        f"{len(ms)}, {statistics.median(ms):.2f}, {percentile(ms, 0.99):.2f},"
        f" {max(ms):.2f}"
    )


if __name__ == "__main__":
    main()
