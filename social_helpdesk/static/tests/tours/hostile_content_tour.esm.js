/** @odoo-module */
/* Copyright 2026 social_helpdesk contributors
 * License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */
import {registry} from "@web/core/registry";

// The hostile customer of tests/test_hostile_content.py: keep both in sync.
// Every payload sets window.__sh_xss if it ever runs.
const MARKER = "zqxhostile";
const TEXT_IMG = `<img src=x onerror="window.__sh_xss='text-img'">`;
const TEXT_SCRIPT = `<script>window.__sh_xss='text-script'</script>`;
const HANDLE = `<svg/onload="window.__sh_xss='handle'">`;
const NAME =
    `<b onmouseover="window.__sh_xss='name-hover'">Mallory</b>` +
    `<img src=y onerror="window.__sh_xss='name-img'">`;
// The ticket title: the customer's text, shortened.
const TITLE_START = `${MARKER} <img src=x`;

// Elements that only exist if customer markup was parsed as HTML.
const INJECTED = [
    "script",
    "svg[onload]",
    "b[onmouseover]",
    "img[src='x']",
    "img[src='y']",
    "[onerror]",
    "[onload]",
    "[onmouseover]",
].join(", ");

function assertInert(root, where) {
    if (!root) {
        throw new Error(`Nothing to check in ${where}.`);
    }
    const node = root.querySelector(INJECTED);
    if (node) {
        throw new Error(
            `Customer markup became a live element in ${where}: ${node.outerHTML}`
        );
    }
    if (window.__sh_xss !== undefined) {
        throw new Error(
            `Customer script ran (${where}): window.__sh_xss = ${window.__sh_xss}`
        );
    }
}

function assertShows(element, texts, where) {
    const shown = element.textContent;
    for (const text of texts) {
        if (!shown.includes(text)) {
            throw new Error(
                `${where} does not show ${JSON.stringify(text)} as text: ` +
                    JSON.stringify(shown)
            );
        }
    }
    assertInert(element, where);
}

function assertShowsValue(element, text, where) {
    const input = element.querySelector("input") || element;
    const shown = input.value ?? input.textContent;
    if (!shown.includes(text)) {
        throw new Error(
            `${where} does not show ${JSON.stringify(text)}: ${JSON.stringify(shown)}`
        );
    }
}

function portalChatter() {
    return document.querySelector("#chatterRoot").shadowRoot;
}

registry.category("web_tour.tours").add("social_helpdesk_hostile_backend_tour", {
    steps: () => [
        {
            content: "Search the hostile customer's ticket",
            trigger: ".o_list_view .o_searchview_input",
            run: `edit ${MARKER}`,
        },
        {
            content: "Search tickets by number or title",
            trigger: ".o_searchview_autocomplete .o_menu_item:first",
            run: "click",
        },
        {
            content: "Only the hostile ticket is listed",
            trigger: `.o_searchview_facet:contains(${MARKER})`,
        },
        {
            content: "The list row shows the title and the name as text",
            trigger: `.o_list_renderer .o_data_row:contains(${MARKER})`,
            run() {
                assertShows(this.anchor, [TITLE_START, NAME], "the ticket list row");
            },
        },
        {
            content: "Hover the customer's name",
            trigger: `.o_data_row:contains(${MARKER}) td[name=partner_name]`,
            run: "hover",
        },
        {
            content: "Nothing ran in the list",
            trigger: ".o_list_renderer",
            run() {
                assertInert(document.querySelector(".o_action_manager"), "the list");
            },
        },
        {
            content: "Switch to kanban",
            trigger: ".o_switch_view.o_kanban",
            run: "click",
        },
        {
            content: "The card shows the title and the customer as text",
            trigger: `.o_kanban_renderer .o_kanban_record:contains(${MARKER})`,
            run() {
                assertShows(this.anchor, [TITLE_START, NAME], "the kanban card");
                assertInert(
                    document.querySelector(".o_action_manager"),
                    "the kanban view"
                );
            },
        },
        {
            content: "Hover the customer on the card",
            trigger: `.o_kanban_record:contains(${MARKER}) .o_kanban_record_subtitle`,
            run: "hover",
        },
        {
            content: "Open the ticket",
            trigger: `.o_kanban_record:contains(${MARKER})`,
            run: "click",
        },
        {
            content: "The chatter shows the post and its author as text",
            trigger: `.o_form_view .o-mail-Message:contains(${MARKER})`,
            run() {
                assertShows(
                    this.anchor,
                    [TEXT_IMG, TEXT_SCRIPT, NAME],
                    "the chatter message"
                );
            },
        },
        {
            content: "Hover the author in the chatter",
            trigger: `.o-mail-Message:contains(${MARKER}) .o-mail-Message-author`,
            run: "hover",
        },
        {
            content: "The form shows the handle and the customer as text",
            trigger: ".o_form_view .o_field_widget[name=social_author_handle]",
            run() {
                assertShows(this.anchor, [HANDLE], "the handle field");
                assertShowsValue(
                    document.querySelector(".o_field_widget[name=partner_id]"),
                    NAME,
                    "the customer field"
                );
                assertShowsValue(
                    document.querySelector(".o_field_widget[name=name]"),
                    TITLE_START,
                    "the title field"
                );
            },
        },
        {
            content: "Open the Social messages tab",
            trigger: ".o_notebook a.nav-link[name=social_messages]",
            run: "click",
        },
        {
            content: "The tab lists the post and the author's identity as text",
            trigger: `.o_field_widget[name=social_message_ids] .o_data_row:contains(${MARKER})`,
            run() {
                assertShows(
                    this.anchor,
                    [TEXT_IMG, TEXT_SCRIPT, `@${HANDLE}`],
                    "the social messages tab"
                );
            },
        },
        {
            content: "Nothing ran in the form and its chatter",
            trigger: ".o_form_view .o-mail-Chatter",
            run() {
                assertInert(document.querySelector(".o_action_manager"), "the form");
            },
        },
    ],
});

registry.category("web_tour.tours").add("social_helpdesk_hostile_portal_tour", {
    steps: () => [
        {
            content: "My tickets lists the title and the customer as text",
            trigger: `.o_portal_my_doc_table tbody tr:contains(${MARKER})`,
            run() {
                assertShows(this.anchor, [TITLE_START, NAME], "the portal list row");
            },
        },
        {
            content: "Hover the customer's name",
            trigger: `.o_portal_my_doc_table tbody tr:contains(${MARKER}) td:first-child span`,
            run: "hover",
        },
        {
            content: "Nothing ran in My tickets",
            trigger: "#wrap.o_portal_wrap",
            run() {
                assertInert(this.anchor, "the portal ticket list");
            },
        },
        {
            content: "Open the ticket",
            trigger: `.o_portal_my_doc_table tbody tr:contains(${MARKER}) a[href^='/my/ticket/']`,
            run: "click",
        },
        {
            content: "The ticket page shows the title and the post as text",
            trigger: `#helpdesk_ticket_content #card:contains(${MARKER})`,
            run() {
                assertShows(
                    this.anchor,
                    [TITLE_START, TEXT_IMG, TEXT_SCRIPT],
                    "the portal ticket"
                );
            },
        },
        {
            content: "The sidebar shows the customer as text",
            trigger:
                ".o_portal_helpdesk_sidebar .o_portal_contact_details:contains(Mallory)",
            run() {
                assertShows(this.anchor, [NAME], "the portal customer card");
            },
        },
        {
            content: "The chatter shows the post and its author as text",
            trigger: `#chatterRoot:shadow .o-mail-Message:contains(${MARKER})`,
            run() {
                assertShows(
                    this.anchor,
                    [TEXT_IMG, TEXT_SCRIPT, NAME],
                    "the portal chatter message"
                );
            },
        },
        {
            content: "Hover the author in the chatter",
            trigger: `#chatterRoot:shadow .o-mail-Message:contains(${MARKER}) .o-mail-Message-author`,
            run: "hover",
        },
        {
            content: "Nothing ran on the ticket page and in its chatter",
            trigger: "#wrap.o_portal_wrap",
            run() {
                assertInert(portalChatter(), "the portal chatter");
                assertInert(this.anchor, "the portal ticket page");
            },
        },
    ],
});
