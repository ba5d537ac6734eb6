"""Fake network servers on loopback, for tests and benchmarks; no Odoo import."""
