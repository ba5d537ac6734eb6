"""Network adapters: parsing, signatures and API calls, with no Odoo import.

Odoo models orchestrate; these modules talk to the networks. Each network
implements :class:`~.base.NetworkAdapter` so the webhook controller, the
polling cron and the reply queue treat every network alike.
"""
