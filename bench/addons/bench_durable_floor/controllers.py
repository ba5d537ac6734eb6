# Copyright 2026 social_helpdesk contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""One INSERT of the raw body in a plain table, committed before the answer:
what any webhook that never loses a delivery costs Odoo at the least, so
that the benchmark can tell the addon's own cost from the cost of a durable
write in an Odoo request. The table is created by the benchmark."""

from odoo import http
from odoo.http import request


class DurableFloorController(http.Controller):
    @http.route(
        "/bench_durable_floor",
        type="http",
        auth="none",
        readonly=False,
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def store(self):
        request.env.cr.execute(
            "INSERT INTO bench_durable_floor (body) VALUES (%s)",
            [request.httprequest.get_data()],
        )
        return request.make_response("ok", [("Content-Type", "text/plain")])
