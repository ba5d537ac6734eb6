"""Fake network servers on loopback, for tests and benchmarks; no Odoo import.

They live under ``tests`` so that they never ship as production code: only
the test suites (Odoo's and the pure one in the repository's ``tests/``) and
the benchmark scripts import them.
"""
