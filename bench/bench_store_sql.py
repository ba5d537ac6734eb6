"""The webhook's store statement in PostgreSQL alone, against the durable-write
floor's insert: ``pgbench`` runs both scripts interleaved, each transaction
wrapped as Odoo wraps a request's (``DISCARD ALL``, which Odoo's connection
pool runs on every connection it lends, so that every statement is planned
anew; then ``BEGIN ISOLATION LEVEL REPEATABLE READ`` ... ``COMMIT``).

The store statement is the addon's own (``store_events_query`` of one demo
event, from ``social_event``), on an armed wake: what a delivery runs while
the processing keeps up. The floor inserts the same body in a plain table.
Reported: milliseconds a transaction of each, and the store's extra cost: a
diagnostic of the webhook's statement, with no target of its own (the target
is bench_webhook.py's, on the whole request).

    /opt/odoo18-venv/bin/python bench/bench_store_sql.py [--seconds 15]
        [--clients 2] [--rounds 3]
"""

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from common import (
    arguments,
    demo_body,
    demo_item,
    demo_webhook,
    machine_rows,
    print_table,
    sql,
    throwaway_database,
)

WRAP = "DISCARD ALL;\nBEGIN ISOLATION LEVEL REPEATABLE READ;\n{}\nCOMMIT;\n"
UNIQUE = "pgb-:client_id-:n"  # pgbench variables: unique event ids


def statements(db, account_id, body):
    """The floor's insert and the addon's store statement for one demo event
    with this ``body``, as SQL text, the event id left to pgbench."""
    from odoo.modules.registry import Registry

    # Odoo is configured by now (demo_webhook): the registry of ``db`` only.
    with Registry(db).cursor() as cr:
        # Importable once the registry has set the addons path up.
        from odoo.addons.social_helpdesk.adapters.base import InboundEvent
        from odoo.addons.social_helpdesk.models import social_event

        event = InboundEvent(event_id=UNIQUE, payload=json.loads(body))
        store = social_event.store_events_query(account_id, [event], True, None)
        floor = cr.mogrify(
            "INSERT INTO bench_durable_floor (body) VALUES (%s)", [body.encode()]
        )
        return floor.decode(), cr.mogrify(store.code, store.params).decode()


def pgbench(db, scripts, seconds, clients):
    """ms a transaction of each script, from one interleaved run."""
    command = [
        shutil.which("pgbench") or "pgbench",
        "-n",
        "-d",
        db,
        "-c",
        str(clients),
        "-j",
        str(clients),
        "-T",
        str(seconds),
    ]
    for script in scripts:
        command += ["-f", str(script)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return [float(ms) for ms in re.findall(r" - latency average = ([\d.]+) ms", output)]


def main():
    parser = arguments(__doc__, "bench_store_sql", seconds=15, clients=2, rounds=3)
    args = parser.parse_args()
    machine = machine_rows()

    with throwaway_database(args.db, args.keep), tempfile.TemporaryDirectory() as tmp:
        account_id, _path = demo_webhook(args.db, "store-sql")
        sql(
            args.db,
            "CREATE TABLE bench_durable_floor (id serial PRIMARY KEY, body bytea)",
        )
        # Armed: the deliveries need no trigger of their own.
        sql(
            args.db,
            "SELECT setval('social_event_wake_seq', "
            "extract(epoch FROM now())::bigint + 86400)",
        )
        body = demo_body(demo_item(UNIQUE, "u-1", "c-1", "Hello there.")).decode()
        scripts = []
        for name, statement in zip(
            ("floor", "store"), statements(args.db, account_id, body), strict=True
        ):
            script = Path(tmp, f"{name}.sql")
            script.write_text(
                "\\set n random(1, 1000000000000)\n" + WRAP.format(statement + ";")
            )
            scripts.append(script)
        rounds = [
            pgbench(args.db, scripts, args.seconds, args.clients)
            for _round in range(args.rounds)
        ]
        ((stored,),) = sql(
            args.db,
            "SELECT count(*) FROM social_event WHERE account_id = %s",
            [account_id],
        )

    floors = sorted(ms for ms, _store in rounds)
    stores = sorted(ms for _floor, ms in rounds)
    extra = sorted(store - floor for floor, store in rounds)
    print_table(
        "Store statement vs durable-write floor (pgbench)",
        machine
        + [
            (
                "pgbench",
                f"{args.clients} clients, both scripts interleaved, "
                f"{args.rounds} runs of {args.seconds} s",
            ),
            (
                "floor: ms a transaction (each run); no target",
                ", ".join(f"{ms:.3f}" for ms in floors),
            ),
            (
                "store: ms a transaction (each run); no target",
                ", ".join(f"{ms:.3f}" for ms in stores),
            ),
            (
                "store - floor: ms (each run); no target",
                ", ".join(f"{ms:.3f}" for ms in extra),
            ),
            ("events stored", stored),
        ],
    )


if __name__ == "__main__":
    main()
