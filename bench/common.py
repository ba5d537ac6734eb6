"""Shared helpers of the Odoo benchmarks and reliability scripts.

They run with Odoo's Python (``/opt/odoo18-venv/bin/python bench/...``) and
use Odoo as a library, so every figure comes from the real ORM on a real
PostgreSQL database. Each script makes a throwaway database with the addon
installed (no demo data) and drops it at the end.

This file is also the queue worker that the reliability scripts start as
separate processes (and kill), and the launcher of Odoo's server when its
gevent process can't start (see ``gevent_starts``)::

    python bench/common.py process-queue DB [--login LOGIN] [--progress]
    python bench/common.py serve ODOO-BIN-OPTIONS...
"""

import argparse
import hashlib
import hmac
import http.client
import json
import logging
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

# The repository this file lives in: run the copy of ``bench/`` that sits in
# the tree to measure (e.g. a snapshot made with rsync), or set
# BENCH_ADDONS_PATH.
REPO = Path(__file__).resolve().parent.parent
ADDONS_PATH = os.environ.get(
    "BENCH_ADDONS_PATH",
    f"/opt/odoo18/odoo/addons,/opt/odoo18/addons,/tmp/shrun/oca/odoo/addons,{REPO}",
)
DATA_DIR = os.environ.get("BENCH_DATA_DIR", "/tmp/shb_bench_data")
ODOO_BIN = os.environ.get("ODOO_BIN") or shutil.which("odoo") or "odoo"
HOST = "127.0.0.1"  # servers and clients of the benchmarks never leave loopback
# Odoo's source tree, when its package is not installed in this Python.
ODOO_ROOT = os.environ.get("ODOO_ROOT", "/opt/odoo18")
if ODOO_ROOT not in sys.path:
    sys.path.append(ODOO_ROOT)


# -- machine --------------------------------------------------------------------
def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram():
    try:
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            kib = int(meminfo.readline().split()[1])
        return f"{kib / 1024**2:.1f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def _postgres_version():
    import psycopg2

    try:
        return sql("postgres", "SHOW server_version")[0][0]
    except psycopg2.Error:
        return "unknown"


def machine_rows(odoo=True):
    """Where the figures were measured, as (label, value) rows; without the
    PostgreSQL and Odoo rows for the benchmarks that use neither."""
    rows = [
        ("platform", platform.platform()),
        ("cpu", f"{_cpu_model()} ({os.cpu_count()} CPUs)"),
        ("ram", _ram()),
        ("python", sys.version.split()[0]),
    ]
    if odoo:
        from odoo import release

        rows += [("postgresql", _postgres_version()), ("odoo", release.version)]
    return rows + [
        (
            "load average (1, 5, 15 min), before",
            " ".join(f"{n:.2f}" for n in os.getloadavg()),
        ),
        ("date (UTC)", time.strftime("%Y-%m-%d %H:%M", time.gmtime())),
    ]


def print_table(title, rows):
    """A Markdown table, so the output pastes into BENCHMARKS.md as is."""
    rows = [(str(label), str(value)) for label, value in rows]
    left = max(len(label) for label, _value in rows + [("", "")])
    right = max(len(value) for _label, value in rows + [("", "value")])
    print(f"\n### {title}\n")
    print(f"| {'':<{left}} | {'value':<{right}} |")
    print(f"|{'-' * (left + 2)}|{'-' * (right + 2)}|")
    for label, value in rows:
        print(f"| {label:<{left}} | {value:<{right}} |")
    sys.stdout.flush()


def verdict(met):
    return "met" if met else "MISSED"


def none_expected(count):
    """A count that must be 0, with its target and verdict."""
    return f"{count} (target 0: {verdict(count == 0)})"


def no_target(value):
    """A figure printed for information: it has no target."""
    return f"{value} (no target)"


def report(title, rows, violations, log_path=None, details=()):
    """The end of a reliability script: its table, ``details`` (lines), then
    PASS, or FAIL and what was violated, and the exit status (1 on any
    violation)."""
    print_table(title, rows)
    for line in details:
        print(line)
    if log_path:
        print(f"Log: {log_path}")
    print("PASS" if not violations else "FAIL: " + "; ".join(violations))
    raise SystemExit(1 if violations else 0)


# -- command line ---------------------------------------------------------------------
def arguments(doc, db, port=None, least=None, **numbers):
    """The scripts' parser: ``--db`` (a throwaway database, created and
    dropped by the script) and ``--keep``, ``--port`` for those that start an
    Odoo server, and an option for each of ``numbers`` (``max_bytes=4096``
    is ``--max-bytes``, an int; a float default makes a float option). The
    numbers must be above 0, those named in ``least`` at least the value it
    gives them, and ``--seed`` any integer: a run of nothing would pass
    without checking anything. The description is the script's docstring."""
    least = least or {}
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--db", default=db, help="throwaway database, dropped at the end (%(default)s)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database")
    if port:
        numbers = {"port": port, **numbers}
    for name, default in numbers.items():
        kind = type(default)
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            type=kind if name == "seed" else bounded(kind, least.get(name)),
            default=default,
            help="(%(default)s)",
        )
    return parser


def bounded(kind, minimum=None, maximum=None):
    """An argparse type: a number of ``kind`` above 0, or at least
    ``minimum`` if given, and at most ``maximum`` if given."""

    def parse(text):
        value = kind(text)  # a ValueError: argparse says "invalid int value"
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text} is not a finite number")
        if minimum is None and value <= 0:
            raise argparse.ArgumentTypeError(f"{text} is not above 0")
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"{text} is not {minimum} or more")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{text} is above {maximum}")
        return value

    parse.__name__ = kind.__name__
    return parse


# -- databases --------------------------------------------------------------------
def odoo_args(db, *extra, addons_path=ADDONS_PATH, db_filter=True):
    """Odoo's options for ``db``. With ``db_filter``, Odoo finds the database
    of a request without a session by listing the databases, over a new
    connection to ``postgres`` (as when no database is named); without it,
    the named database is the only one served, and no list is made."""
    return [
        f"--addons-path={addons_path}",
        f"--data-dir={DATA_DIR}",
        "-d",
        db,
        *([f"--db-filter=^{db}$"] if db_filter else []),
        *extra,
    ]


def create_database(db):
    """A fresh database with social_helpdesk installed and no demo data
    (``--without-demo=all`` in Odoo 18)."""
    drop_database(db)
    print(f"Installing social_helpdesk in {db} ...", flush=True)
    subprocess.run(
        [
            ODOO_BIN,
            *odoo_args(db, "-i", "social_helpdesk", "--without-demo=all"),
            "--stop-after-init",
            "--max-cron-threads=0",
            "--http-port=8999",
            "--log-level=warn",
        ],
        check=True,
    )


def drop_database(db):
    subprocess.run(["dropdb", "--if-exists", "--force", db], check=True)
    shutil.rmtree(Path(DATA_DIR) / "filestore" / db, ignore_errors=True)


@contextmanager
def dropped_at_end(db, keep=False):
    """``db``, dropped at the end (even on failure) unless ``keep``."""
    try:
        yield db
    finally:
        if keep:
            print(f"Kept database {db}")
        else:
            drop_database(db)


def throwaway_database(db, keep=False):
    """:func:`create_database`, dropped at the end unless ``keep``."""
    create_database(db)
    return dropped_at_end(db, keep)


def copied_database(db, source, keep=False):
    """A copy of ``source`` (nobody connected to it), dropped at the end
    unless ``keep``."""
    drop_database(db)
    print(f"Copying {source} to {db} ...", flush=True)
    # A file copy after a checkpoint (PostgreSQL 15+), rather than the
    # copy's gigabytes through the WAL, whose writes would go on in the run.
    if subprocess.run(
        ["createdb", "--strategy=file_copy", "-T", source, db]
    ).returncode:
        subprocess.run(["createdb", "-T", source, db], check=True)
    return dropped_at_end(db, keep)


def add_from_db(parser):
    """``--from-db``: run on a copy of a database instead of a new one."""
    parser.add_argument(
        "--from-db",
        help="run on a copy of this database (the addon installed, nobody "
        "connected; a large one from make_large_db.py) instead of a new one",
    )


def bench_database(args):
    """The run's database: a copy of ``--from-db``, else a new one; dropped
    at the end unless ``--keep``."""
    if args.from_db:
        return copied_database(args.db, args.from_db, args.keep)
    return throwaway_database(args.db, args.keep)


def registry(db, log_level="warn"):
    """Odoo's registry of ``db``, with Odoo configured as a library."""
    import odoo
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(odoo_args(db, f"--log-level={log_level}"))
    return Registry(db)


def sql(db, query, params=None):
    """Run one query in its own connection (the scripts' view from outside
    Odoo); returns all rows."""
    import psycopg2

    conn = psycopg2.connect(dbname=db)
    try:
        with conn, conn.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else []
    finally:
        conn.close()


def setup_demo_account(env, secret, name="Bench demo"):
    """A helpdesk team and a demo account whose webhook secret is known."""
    team = env["helpdesk.ticket.team"].create({"name": f"{name} team"})
    return env["social.account"].create(
        {
            "name": name,
            "network": "demo",
            "team_id": team.id,
            "demo_webhook_secret": secret,
            "poll_enabled": False,
        }
    )


def demo_webhook(db, secret, params=None):
    """A demo account in ``db`` whose webhook secret is ``secret``, with
    the system parameters ``params``; returns (account id, webhook path)."""
    from odoo import SUPERUSER_ID, api

    with registry(db).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        account = setup_demo_account(env, secret)
        for key, value in (params or {}).items():
            env["ir.config_parameter"].set_param(key, value)
        path = f"/social_helpdesk/webhook/demo/{account.webhook_token}"
        return account.id, path


# -- demo payloads --------------------------------------------------------------------
def demo_item(message_id, author, conversation, text, kind="public", channel="x"):
    """A message in the demo network's wire format (its webhook and dataset),
    as ``social_helpdesk/tests/common.py`` builds them."""
    return {
        "id": message_id,
        "channel": channel,
        "kind": kind,
        "conversation_id": conversation,
        "parent_id": "",
        "author": {
            "id": author,
            "handle": author.replace("-", "_"),
            "name": f"Customer {author}",
            "followers": 100,
        },
        "text": text,
        "lang": "en",
    }


def demo_body(*items):
    return json.dumps({"messages": list(items)}).encode()


def demo_signature(secret, body):
    """The X-Demo-Signature header of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def demo_headers(secret, body):
    """The headers of a demo delivery of ``body`` signed with ``secret``
    (none if ``secret`` is None)."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Demo-Signature"] = demo_signature(secret, body)
    return headers


def store_items(env, account, items, chunk=1000):
    """Store demo items as webhook deliveries of ``chunk`` messages would."""
    adapter = account._get_adapter()
    stored = 0
    for start in range(0, len(items), chunk):
        delivery = {"messages": items[start : start + chunk]}
        stored += env["social.event"]._store(account, adapter.split_delivery(delivery))
    return stored


def conversation_items(prefix, count, rng, stride=1):
    """``count`` demo messages from customers who each write one to three
    messages in a conversation of their own. With ``stride`` > 1 a
    customer's messages are ``stride`` apart in the queue, so that batches
    claimed at once by different workers share customers."""
    sizes = []
    while sum(sizes) < count:
        sizes.append(min(rng.choice([1, 2, 3]), count - sum(sizes)))
    slots = [(c, m) for c, size in enumerate(sizes) for m in range(size)]
    if stride > 1:
        slots.sort(key=lambda slot: (slot[0] // stride, slot[1], slot[0]))
    return [
        demo_item(
            f"{prefix}-{c}-{m}",
            f"{prefix}-u-{c}",
            f"{prefix}-c-{c}",
            f"Message {m + 1} of customer {prefix}-{c}: my order has not arrived.",
        )
        for c, m in slots
    ]


def check_processed(db, account_id, items):
    """Whether every stored event of ``items`` was processed exactly once:
    all done, one social.message per message id, one ticket per
    conversation, one chatter message per social.message, one contact per
    customer. Returns (rows, violations)."""

    def one(query):
        return sql(db, query, {"account": account_id})[0]

    states = dict(
        sql(
            db,
            "SELECT state, count(*) FROM social_event WHERE account_id = %s "
            "GROUP BY state",
            [account_id],
        )
    )
    messages, distinct = one(
        "SELECT count(*), count(DISTINCT external_id) FROM social_message "
        "WHERE account_id = %(account)s"
    )
    tickets, empty_tickets = one(
        "SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM "
        "social_message m WHERE m.ticket_id = t.id)) FROM helpdesk_ticket t "
        "WHERE social_account_id = %(account)s"
    )
    chatter, distinct_bodies = one(
        "SELECT count(*), count(DISTINCT mm.body) FROM mail_message mm "
        "JOIN helpdesk_ticket t ON mm.model = 'helpdesk.ticket' AND mm.res_id = t.id "
        "WHERE t.social_account_id = %(account)s AND mm.message_type = 'comment'"
    )
    (linked,) = one(
        "SELECT count(*) FROM social_message sm JOIN mail_message mm "
        "ON mm.id = sm.mail_message_id AND mm.res_id = sm.ticket_id "
        "WHERE sm.account_id = %(account)s"
    )
    (contacts,) = one(
        "SELECT count(DISTINCT partner_id) FROM social_message "
        "WHERE account_id = %(account)s"
    )
    (identities,) = sql(
        db,
        "SELECT count(*) FROM social_identity WHERE external_id = ANY(%s)",
        [sorted({item["author"]["id"] for item in items})],
    )[0]
    expected = len(items)
    conversations = len({item["conversation_id"] for item in items})
    customers = len({item["author"]["id"] for item in items})
    checks = [
        ("events done", (states.get("done", 0),), expected),
        ("events new, in error", (states.get("new", 0), states.get("error", 0)), 0),
        ("social messages, distinct ids", (messages, distinct), expected),
        ("tickets (one per conversation)", (tickets,), conversations),
        ("tickets without a message", (empty_tickets,), 0),
        ("chatter messages, distinct bodies", (chatter, distinct_bodies), expected),
        ("social messages linked to their chatter message", (linked,), expected),
        ("contacts, identities (one per customer)", (contacts, identities), customers),
    ]
    rows = [
        (
            label,
            f"{' / '.join(map(str, values))} (target {wanted}: "
            f"{verdict(all(value == wanted for value in values))})",
        )
        for label, values, wanted in checks
    ]
    violations = [
        label
        for label, values, wanted in checks
        if any(value != wanted for value in values)
    ]
    return rows + [("states", dict(sorted(states.items())))], violations


# -- servers and load ---------------------------------------------------------------
def gevent_starts():
    """Whether Odoo's gevent (websocket/longpolling) process can start in this
    Python. When it can't (here: gevent's entry points want a zope.interface
    that setuptools' pkg_resources fails to find), Odoo's prefork server
    respawns it without end, which costs a whole core: the benchmarks' server
    then runs without it (the routes measured never use it)."""
    if not hasattr(gevent_starts, "result"):
        check = subprocess.run(
            [sys.executable, "-c", "import gevent.monkey; gevent.monkey.patch_all()"],
            capture_output=True,
        )
        gevent_starts.result = check.returncode == 0
    return gevent_starts.result


def server_label(workers=2, cron_workers=0, db_filter=True):
    """How :func:`start_server` runs Odoo, for the tables."""
    gevent = "" if gevent_starts() else ", without its gevent process"
    database = "-d DB --db-filter=^DB$" if db_filter else "-d DB (no --db-filter)"
    return (
        f"odoo {database} --workers={workers} --max-cron-threads={cron_workers}"
        f"{gevent}, {HOST}"
    )


def start_server(
    db,
    port,
    workers=2,
    log_path=None,
    bench_modules=(),
    cron_workers=0,
    db_filter=True,
):
    """An Odoo HTTP server on loopback, in prefork mode with ``workers`` and
    ``cron_workers`` (see :func:`gevent_starts`); returns once /web/health
    answers. ``bench_modules`` (of ``bench/addons``) are loaded server-wide:
    their routes serve without being installed in the database. For
    ``db_filter``, see :func:`odoo_args`."""
    command = [ODOO_BIN]
    addons_path, extra = ADDONS_PATH, []
    if bench_modules:
        addons_path = f"{ADDONS_PATH},{REPO / 'bench' / 'addons'}"
        extra = [f"--load={','.join(['base', 'web', *bench_modules])}"]
    if not gevent_starts():
        command = [sys.executable, str(Path(__file__).resolve()), "serve"]
    with open(log_path or os.devnull, "wb") as log:
        process = subprocess.Popen(
            [
                *command,
                *odoo_args(db, *extra, addons_path=addons_path, db_filter=db_filter),
                f"--workers={workers}",
                f"--max-cron-threads={cron_workers}",
                f"--http-interface={HOST}",
                f"--http-port={port}",
                f"--gevent-port={port + 1}",
                "--log-level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(os.environ, TZ="UTC"),  # as odoo-bin sets it
        )
    try:
        _wait_until_up(process, port)
    except BaseException:
        stop_server(process)
        raise
    return process


def serve(args):
    """``odoo-bin ARGS`` whose prefork server does not spawn the gevent
    process (see :func:`gevent_starts`)."""
    from odoo import cli
    from odoo.service import server

    server.PreforkServer.long_polling_spawn = lambda _self: None
    sys.argv = ["odoo-bin", *args]
    cli.main()


@contextmanager
def serving(db, port, workers=2, bench_modules=(), cron_workers=0, db_filter=True):
    """:func:`start_server` for the block; yields its log's path."""
    log_path = f"/tmp/{db}_server.log"
    server = start_server(
        db,
        port,
        workers=workers,
        log_path=log_path,
        bench_modules=bench_modules,
        cron_workers=cron_workers,
        db_filter=db_filter,
    )
    try:
        yield log_path
    finally:
        stop_server(server)


def _wait_until_up(process, port):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Odoo exited with {process.returncode}")
        try:
            if request(port, "GET", "/web/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("Odoo did not answer /web/health within 120 s")


def stop_server(process):
    """Stop the server and its workers (its own process group only)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def server_tracebacks(log_path):
    """Errors the server logged: a benchmark of a failing server means
    nothing (Odoo's gevent process, for one, restarts in a loop and eats CPU
    when it cannot start)."""
    with open(log_path, encoding="utf-8", errors="replace") as log:
        return sum(line.startswith("Traceback") for line in log)


_connections = threading.local()


def request(port, method, path, body=None, headers=None):
    """One HTTP request on this thread's connection, reopened when the server
    closed it (Odoo's prefork workers speak HTTP/1.0). Returns
    ``(status, body, seconds)``, timed from sending to the last byte read."""
    if not hasattr(_connections, "by_port"):
        _connections.by_port = {}
    conn = _connections.by_port.get(port)
    if conn is None:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        _connections.by_port[port] = conn
    start = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
    except (http.client.HTTPException, OSError):
        conn.close()
        raise
    return response.status, data, time.perf_counter() - start


def deliver(port, method, path, body=None, headers=None, attempts=5):
    """:func:`request` retried on connection errors, as a network retries an
    unacknowledged delivery. Returns ``(status, body, seconds, errors)``,
    ``seconds`` from the first attempt, ``errors`` the failed attempts."""
    errors = []
    start = time.perf_counter()
    for _attempt in range(attempts):
        try:
            status, data, _seconds = request(port, method, path, body, headers)
        except (http.client.HTTPException, OSError) as exc:
            errors.append(repr(exc))
            continue
        return status, data, time.perf_counter() - start, errors
    return None, b"", time.perf_counter() - start, errors


def percentile(values, fraction):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def run_load(make_request, concurrency, seconds=None, jobs=None):
    """Call ``make_request(worker, n)`` from ``concurrency`` threads, either for
    ``seconds`` or until the shared iterator ``jobs`` is exhausted. Returns
    the per-request results (whatever make_request returns) and the elapsed
    time."""
    results = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds if seconds else None
    jobs = iter(jobs) if jobs is not None else None

    def loop(worker):
        done = []
        n = 0
        while deadline is None or time.monotonic() < deadline:
            if jobs is not None:
                with lock:
                    job = next(jobs, None)
                if job is None:
                    break
                done.append(make_request(worker, job))
            else:
                done.append(make_request(worker, n))
            n += 1
        with lock:
            results.extend(done)

    threads = [threading.Thread(target=loop, args=(w,)) for w in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - start


# -- queue worker ---------------------------------------------------------------------
# The events a processing run claims at once (``social_event.BATCH_SIZE``):
# the scripts check their options before Odoo can be imported.
PROCESSING_BATCH = 200


def start_worker(db, log, login=None, progress=False, held=False):
    """A queue worker process (see :func:`process_queue`) in a session of its
    own, logging to the file ``log``. With ``progress`` its stdout is a pipe
    with a line ``processed ID`` each time an event has been processed in the
    open transaction (so not yet committed). A ``held`` worker loads Odoo,
    then waits for :func:`release`."""
    command = [sys.executable, str(Path(__file__).resolve()), "process-queue", db]
    command += ["--login", login] if login else []
    command += ["--progress"] if progress else []
    loaded = None  # the end of a pipe that a held worker closes once loaded
    pass_fds = ()
    if held:
        loaded, loaded_end = os.pipe()
        command += ["--loaded-fd", str(loaded_end)]
        pass_fds = (loaded_end,)
    worker = subprocess.Popen(
        command,
        stdin=subprocess.PIPE if held else None,
        stdout=subprocess.PIPE if progress else log,
        stderr=log,
        start_new_session=True,
        text=True,
        pass_fds=pass_fds,
    )
    for fd in pass_fds:
        os.close(fd)  # the worker's end
    worker.loaded = loaded
    return worker


def release(workers):
    """Let ``held`` workers start at one moment, once each has loaded Odoo
    (or died): otherwise the first one loaded may take the whole queue
    before the other starts."""
    for worker in workers:
        with os.fdopen(worker.loaded, "rb") as loaded:
            loaded.read()  # the end of file: the worker closed its end, or died
    for worker in workers:
        worker.stdin.close()  # the end of file it waits for


CRON_FAILED = "Processing cron run failed"


def cron_failures(log_path):
    """Runs of the processing cron that failed in the workers logging here."""
    with open(log_path, encoding="utf-8", errors="replace") as log:
        return sum(CRON_FAILED in line for line in log)


def process_queue(db, login=None, progress=False, loaded_fd=None):
    """Run the processing cron's method until no event is left to process:
    what a cron worker of an Odoo server does, in a process of its own,
    including the retries the cron is triggered for. Events are processed
    as ``login`` (superuser rights) so that ``write_uid`` tells which process
    handled each one. ``progress``: see :func:`start_worker`. With
    ``loaded_fd``, closing it says Odoo is loaded, and the processing waits
    for the end of stdin (see :func:`release`)."""
    from odoo import SUPERUSER_ID, api

    reg = registry(db)
    if progress:
        event_class = reg["social.event"]
        file_wave = event_class._file

        def _file(events, wave):
            result = file_wave(events, wave)
            for event, _messages in wave:
                print(f"processed {event.id}", flush=True)
            return result

        event_class._file = _file
    with reg.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        uid = env["res.users"].search([("login", "=", login)]).id if login else None
    if loaded_fd is not None:
        os.close(loaded_fd)
        sys.stdin.read()
    while True:
        with reg.cursor() as cr:
            env = api.Environment(cr, uid or SUPERUSER_ID, {}, su=True)
            try:
                env["social.event"]._cron_process()
            except Exception:  # as Odoo's cron runner: log, roll back, run again
                logging.getLogger(__name__).exception(CRON_FAILED)
                cr.rollback()
            cr.execute(
                """
                SELECT count(*), EXTRACT(EPOCH FROM min(coalesce(next_attempt_date,
                    now() AT TIME ZONE 'UTC')) - now() AT TIME ZONE 'UTC')
                FROM social_event WHERE state = 'new'
                """
            )
            pending, wait = cr.fetchone()
        if not pending:
            return
        # Customers busy in another process, or retries scheduled with backoff.
        time.sleep(min(max(float(wait), 0.05), 60))


def main():
    parser = argparse.ArgumentParser(description="Queue worker of the benchmarks.")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("process-queue")
    worker.add_argument("db")
    worker.add_argument("--login")
    worker.add_argument("--progress", action="store_true")
    worker.add_argument("--loaded-fd", type=int)
    commands.add_parser("serve", help="odoo-bin ..., without its gevent process")
    if sys.argv[1:2] == ["serve"]:  # Odoo's own options follow, as they are
        serve(sys.argv[2:])
        return
    args = parser.parse_args()
    process_queue(args.db, args.login, args.progress, args.loaded_fd)


if __name__ == "__main__":
    main()
