/** @odoo-module */
/* Copyright 2026 social_helpdesk contributors
 * License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("social_helpdesk_kpi_tour", {
    steps: () => [
        {
            content: "The dashboard shows every channel, social and not",
            trigger: ".o_helpdesk_channel_dashboard .o_kpi_tile:contains('Email')",
        },
        {
            content: "Compare the last 30 days with the 30 before",
            trigger: ".o_kpi_period_30d",
            run: "click",
        },
        {
            content: "The period and its comparison are named",
            trigger:
                ".o_kpi_period:has(.o_kpi_period_30d.active) .o_kpi_period_label:contains('compared with')",
        },
        {
            content: "The X tile counts its two new tickets",
            trigger:
                ".o_kpi_tile:has(.o_kpi_channel:contains('X')) .o_kpi_tickets .o_kpi_value:contains(/^2$/)",
        },
        {
            content: "The heatmap colours the hour the tickets came in",
            trigger: ".o_kpi_heatmap .o_kpi_heatmap_cell[style*='background-color']",
        },
        {
            content: "Drill into the breached X tickets",
            trigger:
                ".o_kpi_tile:has(.o_kpi_channel:contains('X')) .o_kpi_breached",
            run: "click",
        },
        {
            content: "The list holds the breached X ticket",
            trigger: ".o_list_view .o_data_row:contains('Tour breached X ticket')",
        },
        {
            content: "and neither the X ticket on track nor the breached email",
            trigger:
                ".o_list_view:not(:has(.o_data_row:contains('Tour on-track X ticket'))):not(:has(.o_data_row:contains('Tour breached email ticket')))",
        },
        {
            content: "Open it",
            trigger: ".o_data_row:contains('Tour breached X ticket') td.o_data_cell",
            run: "click",
        },
        {
            content: "Its SLA status says breached",
            trigger:
                ".o_form_view .o_field_widget[name=sla_status]:contains('Breached')",
        },
    ],
});
