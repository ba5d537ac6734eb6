/** @odoo-module */
/* Copyright 2026 social_helpdesk contributors
 * License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */
import {Component} from "@odoo/owl";
import {_t} from "@web/core/l10n/translation";
import {formatDateTime} from "@web/core/l10n/dates";
import {registry} from "@web/core/registry";
import {standardFieldProps} from "@web/views/fields/standard_field_props";

// FontAwesome 4.7 as Odoo 18 ships it: its fa-twitter is X's logo, and it has
// no Messenger logo. The same classes as the chatter (social_message.py).
export const NETWORK_ICONS = {
    x: "fa-twitter",
    facebook: "fa-facebook-square",
    messenger: "fa-commenting",
    instagram: "fa-instagram",
    whatsapp: "fa-whatsapp",
};

/** A ticket's network as its logo, named in its tooltip. */
export class SocialNetworkField extends Component {
    static template = "social_helpdesk.SocialNetworkField";
    static props = {...standardFieldProps};

    get code() {
        return this.props.record.data[this.props.name];
    }

    get icon() {
        return NETWORK_ICONS[this.code] || "fa-comments";
    }

    get label() {
        const selection = this.props.record.fields[this.props.name].selection || [];
        const option = selection.find(([value]) => value === this.code);
        return option ? option[1] : "";
    }
}

registry.category("fields").add("social_network_icon", {
    component: SocialNetworkField,
    displayName: _t("Network icon"),
    supportedTypes: ["selection"],
});

/** How long ago a moment was ("3 hours ago"), with the date in its tooltip. */
export class SocialSinceField extends Component {
    static template = "social_helpdesk.SocialSinceField";
    static props = {...standardFieldProps};

    get value() {
        return this.props.record.data[this.props.name];
    }

    get relative() {
        return this.value ? this.value.toRelative() : "";
    }

    get title() {
        return this.value ? formatDateTime(this.value) : "";
    }
}

registry.category("fields").add("social_since", {
    component: SocialSinceField,
    displayName: _t("Time since"),
    supportedTypes: ["datetime"],
});
