/** @odoo-module */
/* Copyright 2026 social_helpdesk contributors
 * License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */
import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("social_helpdesk_reply_tour", {
    steps: () => [
        {
            content: "The ticket shows its social conversation",
            trigger: ".o-mail-Message-body:contains('My espresso machine leaks')",
        },
        {
            content: "Open the reply composer",
            trigger: ".o_social_reply_button",
            run: "click",
        },
        {
            content: "The composer targets the customer's message",
            trigger: ".modal .o_field_widget[name=target_text]:contains('espresso')",
        },
        {
            content: "Write the answer",
            trigger: ".modal .o_social_reply_text textarea",
            run: "edit @tour_customer Sorry! A new gasket ships today.",
        },
        {
            content: "The counter follows the text as X counts it",
            trigger: ".modal .o_social_reply_counter:contains('47 / 280')",
        },
        {
            content: "Send it",
            trigger: ".modal .o_social_reply_send",
            run: "click",
        },
        {
            content: "The reply is in the chatter, queued for the send job",
            trigger:
                ".o-mail-Message-body:contains('A new gasket ships today'):contains('Queued')",
        },
    ],
});
