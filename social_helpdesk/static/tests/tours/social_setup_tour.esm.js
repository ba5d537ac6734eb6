/** @odoo-module */
/* Copyright 2026 social_helpdesk contributors
 * License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("social_helpdesk_setup_tour", {
    steps: () => [
        {
            content: "Open the helpdesk configuration menu",
            trigger: ".o_main_navbar button:contains('Configuration')",
            run: "click",
        },
        {
            content: "Start the guided setup",
            trigger: ".dropdown-item:contains('Connect an Account')",
            run: "click",
        },
        {
            content: "Name the account (the demo network is preselected)",
            trigger: ".modal .o_field_widget[name=name] input",
            run: "edit Tour demo shop",
        },
        {
            content: "Next: credentials",
            trigger: ".modal .o_social_setup_next",
            run: "click",
        },
        {
            content: "Test the connection",
            trigger: ".modal .o_social_setup_test",
            run: "click",
        },
        {
            content: "The connection works",
            trigger: ".modal .o_social_setup_connected:contains('sample messages')",
        },
        {
            content: "Next: routing",
            trigger: ".modal .o_social_setup_next",
            run: "click",
        },
        {
            content: "Pick the team",
            trigger: ".modal .o_field_widget[name=team_id] input",
            run: "edit Tour setup team",
        },
        {
            content: "Select it",
            trigger: ".o-autocomplete--dropdown-item:contains('Tour setup team')",
            run: "click",
        },
        {
            content: "No history import for this account",
            trigger: ".modal .o_field_widget[name=backfill_days] input",
            run: "edit 0",
        },
        {
            content: "Next: webhook (the account is saved)",
            trigger: ".modal .o_social_setup_next",
            run: "click",
        },
        {
            content: "The webhook URL is shown, ready to copy",
            trigger:
                ".modal .o_field_widget[name=webhook_url]:contains('/social_helpdesk/webhook/demo/')",
        },
        {
            content: "Next: test event",
            trigger: ".modal .o_social_setup_next",
            run: "click",
        },
        {
            content: "Send a test event",
            trigger: ".modal .o_social_setup_send_test",
            run: "click",
        },
        {
            content: "It arrived",
            trigger: ".modal .o_social_setup_event_ok:contains('Everything works')",
        },
        {
            content: "Finish",
            trigger: ".modal .o_social_setup_finish",
            run: "click",
        },
        {
            content: "The account is connected",
            trigger:
                ".o_form_view .o_statusbar_status .o_arrow_button_current:contains('Connected')",
        },
    ],
});
