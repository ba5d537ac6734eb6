# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Benchmark: durable write floor",
    "summary": "The cheapest request Odoo acknowledges after a durable write "
    "(for bench/bench_webhook.py only; loaded with --load, never installed)",
    "version": "18.0.1.0.0",
    "license": "AGPL-3",
    "author": "social_helpdesk contributors",
    "depends": ["web"],
    "installable": True,
}
