/** @odoo-module */
/* Copyright 2026 social_helpdesk contributors
 * License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */
import {registry} from "@web/core/registry";

// 9 + 271 × 1 + 1 + 23: X counts a URL 23, however long.
const TOO_LONG = `@maria_r ${"a".repeat(271)} https://example.com/${"b".repeat(60)}`;

const CANNED_DM =
    "Hi María Ruiz, thanks for reaching out! Please send us a direct message " +
    "with your order number so we can look into it.";

registry.category("web_tour.tours").add("social_helpdesk_reply_tour", {
    steps: () => [
        {
            content: "The ticket shows its social conversation",
            trigger: ".o-mail-Message-body:contains('my grinder is broken')",
        },
        {
            content: "Open the reply composer",
            trigger: ".o_social_reply_button",
            run: "click",
        },
        {
            content: "The composer targets the customer's message",
            trigger: ".modal .o_field_widget[name=target_text]:contains('grinder')",
        },
        {
            content: "The cursor is in the reply, after the @handle",
            trigger: ".modal .o_social_reply_text textarea:focus",
            run() {
                const textarea = this.anchor;
                if (
                    textarea.value !== "@maria_r " ||
                    textarea.selectionStart !== textarea.value.length
                ) {
                    throw new Error(`Cursor misplaced in "${textarea.value}"`);
                }
            },
        },
        {
            content: "Write too much",
            trigger: ".modal .o_social_reply_text textarea",
            run: `edit ${TOO_LONG}`,
        },
        {
            content: "The counter is the server's count, in red",
            trigger: ".modal .o_social_reply_counter.text-danger:contains('304 / 280')",
        },
        {
            content: "Send is disabled",
            trigger: ".modal-footer .o_social_reply_send_blocked:disabled",
        },
        {
            content: "Start again with a canned response",
            trigger: ".modal .o_social_reply_text textarea",
            run: "edit @maria_r ::dm",
        },
        {
            content: "The canned responses of X are offered",
            trigger: ".o_social_canned_response:contains('direct message')",
            run: "press Tab",
        },
        {
            content: "Insert it",
            trigger: ".o_social_canned_response .o-mail-NavigableList-active",
            run: "press Enter",
        },
        {
            content: "It replaces ::dm, with the customer's name; add a link",
            trigger: ".modal .o_social_reply_text textarea",
            async run(helpers) {
                const expected = `@maria_r ${CANNED_DM}`;
                if (this.anchor.value !== expected) {
                    throw new Error(`Expected "${expected}", got "${this.anchor.value}"`);
                }
                await helpers.fill(` https://example.com/${"c".repeat(80)} `);
            },
        },
        {
            content: "Open the emoji picker",
            trigger: ".modal .o_mail_emojis_buttons button",
            run: "click",
        },
        {
            content: "Look for an emoji",
            trigger: ".o-EmojiPicker input",
            run: "edit thumbs",
        },
        {
            content: "Pick it",
            trigger: ".o-EmojiPicker .o-Emoji[data-codepoints='👍']",
            run: "click",
        },
        {
            content: "The counter follows the text as X counts it",
            trigger: ".modal .o_social_reply_counter.text-muted:contains('154 / 280')",
        },
        {
            content: "Send with Ctrl+Enter",
            trigger: ".modal-footer .o_social_reply_send",
            run: "press Control+Enter",
        },
        {
            content: "The reply is in the chatter, queued for the send job",
            trigger:
                ".o-mail-Message-body:contains('thanks for reaching out'):contains('Queued')",
        },
    ],
});
