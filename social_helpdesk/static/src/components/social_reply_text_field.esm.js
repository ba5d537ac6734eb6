/** @odoo-module */
/* Copyright 2026 social_helpdesk contributors
 * License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */
import {TextField, textField} from "@web/views/fields/text/text_field";
import {useEffect, useState} from "@odoo/owl";
import {registry} from "@web/core/registry";

const URL_PATTERN = /https?:\/\/\S+/gi;
const X_URL_WEIGHT = 23;
// Code points that X counts as one character (twitter-text v3); others count two.
const X_LIGHT_RANGES = [
    [0, 4351],
    [8192, 8205],
    [8208, 8223],
    [8242, 8247],
];

/** The length of a reply as its network counts it (the server checks it again). */
export function socialLength(text, channel) {
    if (channel !== "x") {
        return [...text].length;
    }
    let length = 0;
    const withoutUrls = text.normalize("NFC").replace(URL_PATTERN, () => {
        length += X_URL_WEIGHT;
        return "";
    });
    for (const char of withoutUrls) {
        const code = char.codePointAt(0);
        const light = X_LIGHT_RANGES.some(([low, high]) => code >= low && code <= high);
        length += light ? 1 : 2;
    }
    return length;
}

/** The reply text with a counter that follows every keystroke. */
export class SocialReplyTextField extends TextField {
    static template = "social_helpdesk.SocialReplyTextField";

    setup() {
        super.setup();
        this.counter = useState({length: 0});
        useEffect(
            (textarea) => {
                if (!textarea) {
                    return;
                }
                const update = () => {
                    this.counter.length = socialLength(
                        textarea.value,
                        this.props.record.data.channel_code
                    );
                };
                update();
                textarea.addEventListener("input", update);
                return () => textarea.removeEventListener("input", update);
            },
            () => [this.textareaRef.el]
        );
    }

    get limit() {
        return this.props.record.data.char_limit;
    }
}

registry.category("fields").add("social_reply_text", {
    ...textField,
    component: SocialReplyTextField,
});
