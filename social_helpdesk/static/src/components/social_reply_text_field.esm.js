/** @odoo-module */
/* Copyright 2026 social_helpdesk contributors
 * License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */
import {
    EmojisTextField,
    emojisTextField,
} from "@mail/views/web/fields/emojis_text_field/emojis_text_field";
import {NavigableList} from "@mail/core/common/navigable_list";
import {useEffect, useState} from "@odoo/owl";
import {_t} from "@web/core/l10n/translation";
import {registry} from "@web/core/registry";
import {useDebounced} from "@web/core/utils/timing";

// "::" then the shortcut typed so far, right before the cursor (as in the chatter).
const CANNED_TRIGGER = /(?:^|\s)::(\S*)$/;
// How long typing pauses before the server counts the text again.
const COUNT_DELAY_MS = 250;

/**
 * The reply text: emoji, canned responses on "::", and the length as the
 * server counts it (the text goes to the server's onchange as the agent
 * types, so the counter, the warnings and the Send button are the server's).
 */
export class SocialReplyTextField extends EmojisTextField {
    static template = "social_helpdesk.SocialReplyTextField";
    static components = {...EmojisTextField.components, NavigableList};

    setup() {
        super.setup();
        this.suggestion = useState({term: null, start: 0});
        this.pushText = useDebounced(() => this.commitText(), COUNT_DELAY_MS);
        useEffect(
            (textarea) => {
                if (!textarea) {
                    return;
                }
                const onInput = () => {
                    this.pushText();
                    this.updateSuggestion();
                };
                const onClick = () => this.updateSuggestion();
                textarea.addEventListener("input", onInput);
                textarea.addEventListener("click", onClick);
                return () => {
                    textarea.removeEventListener("input", onInput);
                    textarea.removeEventListener("click", onClick);
                };
            },
            () => [this.textareaRef.el]
        );
        // The cursor goes after the text (the @handle of an X reply), so
        // that typing adds to it and never replaces it.
        useEffect(
            () => {
                const textarea = this.textareaRef.el;
                if (textarea) {
                    const end = textarea.value.length;
                    textarea.setSelectionRange(end, end);
                }
            },
            () => []
        );
    }

    async commitText() {
        const textarea = this.textareaRef.el;
        const {record, name} = this.props;
        if (textarea && textarea.value !== (record.data[name] || "")) {
            await record.update({[name]: textarea.value});
        }
    }

    updateSuggestion() {
        const textarea = this.textareaRef.el;
        const before = textarea.value.slice(0, textarea.selectionStart);
        const match = before.match(CANNED_TRIGGER);
        this.suggestion.term = match ? match[1].toLowerCase() : null;
        this.suggestion.start = match ? before.length - match[1].length - 2 : 0;
    }

    get cannedOptions() {
        const term = this.suggestion.term;
        if (term === null) {
            return [];
        }
        const responses = this.props.record.data.canned_responses || [];
        return responses
            .filter(
                (response) =>
                    response.shortcut.toLowerCase().includes(term) ||
                    response.name.toLowerCase().includes(term)
            )
            .map((response) => ({
                source: response.shortcut,
                label: response.text,
                classList: "o_social_canned_response",
            }));
    }

    get navigableListProps() {
        return {
            anchorRef: this.textareaRef.el,
            position: "bottom-fit",
            autoSelectFirst: false,
            hint: _t("Tab to select"),
            optionTemplate: "mail.Composer.suggestionCannedResponse",
            options: this.cannedOptions,
            onSelect: (ev, option) => this.insertCanned(option.label),
        };
    }

    /** Replace "::shortcut" with the response, the cursor after it. */
    insertCanned(text) {
        const textarea = this.textareaRef.el;
        textarea.setRangeText(
            text,
            this.suggestion.start,
            textarea.selectionStart,
            "end"
        );
        this.suggestion.term = null;
        textarea.dispatchEvent(new InputEvent("input"));
        textarea.focus();
    }

    get counterClass() {
        return this.props.record.data.too_long ? "text-danger fw-bold" : "text-muted";
    }
}

registry.category("fields").add("social_reply_text", {
    ...emojisTextField,
    component: SocialReplyTextField,
});
