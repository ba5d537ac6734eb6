"""The benchmark and reliability scripts refuse inputs that would make a run
check nothing or fail for the wrong reason, before they touch a database:
whoever runs them with inputs of their own gets a clear error."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
FLOOD = "reliability_flood.py"


def run(script, *options):
    return subprocess.run(
        [sys.executable, str(BENCH / script), *options],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("script", "options", "message"),
    [
        (FLOOD, ["--deliveries", "0"], "--deliveries: 0 is not above 0"),
        (FLOOD, ["--concurrency", "-2"], "--concurrency: -2 is not"),
        (FLOOD, ["--deliveries", "ten"], "invalid int value: 'ten'"),
        (FLOOD, ["--duplicates", "1.5"], "--duplicates: 1.5 is above 1"),
        (FLOOD, ["--forged", "-0.1"], "--forged: -0.1 is not 0 or more"),
        (
            FLOOD,
            ["--duplicates", "0.6", "--malformed", "0.6"],
            "the shares add up to more than 1",
        ),
        ("reliability_crash.py", ["--events", "0"], "--events: 0 is not above 0"),
        ("reliability_crash.py", ["--kills", "-1"], "--kills: -1 is not 0 or more"),
        ("reliability_two_servers.py", ["--stride", "0"], "--stride: 0 is not above 0"),
        # Fewer events than three batches can leave one process nothing.
        (
            "reliability_two_servers.py",
            ["--events", "599"],
            "--events: 599 is not 600 or more",
        ),
        ("reliability_wake.py", ["--settle", "0"], "--settle: 0 is not above 0"),
        # The last delivery is the one sent to the asleep cron.
        (
            "reliability_wake.py",
            ["--deliveries", "1"],
            "--deliveries: 1 is not 2 or more",
        ),
        ("bench_webhook.py", ["--seconds", "-60"], "--seconds: -60 is not above 0"),
        ("bench_webhook.py", ["--seconds", "nan"], "--seconds: nan is not a finite"),
        ("bench_ingestion.py", ["--events", "0"], "--events: 0 is not above 0"),
        ("bench_ingestion.py", ["--profile", "-1"], "--profile: -1 is not 0 or more"),
        (
            "bench_ingestion.py",
            ["--network-events", "-1"],
            "--network-events: -1 is not 0 or more",
        ),
        ("bench_rules.py", ["--messages", "0"], "--messages: 0 is not above 0"),
        ("bench_sla.py", ["--tickets", "0"], "--tickets: 0 is not above 0"),
    ],
)
def test_bad_number_is_refused(script, options, message):
    result = run(script, *options)
    assert result.returncode == 2
    assert message in result.stderr


def test_flood_refuses_a_body_limit_that_valid_deliveries_exceed():
    """Valid deliveries answered 413 would fail the flood for a reason of
    its own making, not the webhook's."""
    result = run(FLOOD, "--deliveries", "50", "--max-bytes", "300")
    assert result.returncode == 2
    assert "--max-bytes 300 would refuse valid deliveries" in result.stderr


def constant(path, name):
    """The value a module assigns to ``name``, read without importing it."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and [
            target.id for target in node.targets if isinstance(target, ast.Name)
        ] == [name]:
            return ast.literal_eval(node.value)
    raise LookupError(name)


def test_scripts_know_the_processing_batch_size():
    """The two-processor script's least number of events is counted in the
    processing's batches, which it can't import before checking its options."""
    models = BENCH.parent / "social_helpdesk" / "models"
    assert constant(BENCH / "common.py", "PROCESSING_BATCH") == constant(
        models / "social_event.py", "BATCH_SIZE"
    )
