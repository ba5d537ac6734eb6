/** @odoo-module */
/* Copyright 2026 social_helpdesk contributors
 * License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */
import {Component, onWillStart, useState} from "@odoo/owl";
import {formatFloat, formatFloatTime} from "@web/views/fields/formatters";
import {ControlPanel} from "@web/search/control_panel/control_panel";
import {DateTimeInput} from "@web/core/datetime/datetime_input";
import {NETWORK_ICONS} from "@social_helpdesk/components/social_network_field.esm";
import {_t} from "@web/core/l10n/translation";
import {registry} from "@web/core/registry";
import {serializeDate} from "@web/core/l10n/dates";
import {useService} from "@web/core/utils/hooks";

const {DateTime} = luxon;

/** A share stored from 0 to 100 (the KPI report's), shown with its %. */
export function formatPercentValue(value, field) {
    if (value === false || value === null || value === undefined) {
        return "";
    }
    return `${formatFloat(value, {digits: (field && field.digits) || [16, 1]})}%`;
}

registry.category("formatters").add("social_helpdesk_percent", formatPercentValue);

/** The change of a figure against the previous period, and its colour:
 * ``better`` ("up" or "down") says which way is good news; without it the
 * change is only shown. */
export function formatChange(change, unit, better) {
    if (change === null || change === undefined) {
        return {text: _t("no comparison"), className: "text-muted"};
    }
    const rounded = Math.round(change);
    const sign = rounded > 0 ? "+" : "";
    const text =
        unit === "pts"
            ? _t("%(change)s pts", {change: `${sign}${rounded}`})
            : `${sign}${rounded}%`;
    if (rounded === 0) {
        return {text, className: "text-muted"};
    }
    if (!better) {
        // More tickets is neither good nor bad news.
        return {text, className: "text-info"};
    }
    const good = better === "up" ? rounded > 0 : rounded < 0;
    return {text, className: good ? "text-success" : "text-danger"};
}

/** The hour × weekday heatmap: one cell per hour of each weekday, coloured
 * by the number of tickets created then, or by their average first response. */
export class HourHeatmap extends Component {
    static template = "social_helpdesk.HourHeatmap";
    static props = {
        heatmap: Object,
        onChannelChange: Function,
    };

    setup() {
        this.state = useState({measure: "count"});
        this.hours = [...Array(24).keys()];
    }

    get cells() {
        const cells = {};
        for (const cell of this.props.heatmap.cells) {
            cells[`${cell.weekday}-${cell.hour}`] = cell;
        }
        return cells;
    }

    get maximum() {
        const values = this.props.heatmap.cells.map((cell) => this.value(cell) || 0);
        return Math.max(0, ...values);
    }

    value(cell) {
        if (!cell) {
            return null;
        }
        return this.state.measure === "count" ? cell.count : cell.first_response_hours;
    }

    cellStyle(cell, maximum) {
        const value = this.value(cell);
        if (!value || !maximum) {
            return "";
        }
        const share = 0.12 + (0.88 * value) / maximum;
        // Volume in the theme's primary colour; slow answers in red.
        const rgb = this.state.measure === "count" ? "113, 75, 103" : "220, 53, 69";
        const text = share > 0.55 ? "color: #fff;" : "";
        return `background-color: rgba(${rgb}, ${share.toFixed(2)}); ${text}`;
    }

    cellText(cell) {
        const value = this.value(cell);
        if (value === null || value === undefined || value === false) {
            return "";
        }
        return this.state.measure === "count" ? String(value) : formatFloatTime(value);
    }

    cellTitle(weekday, hour, cell) {
        const slot = `${weekday.label} ${String(hour).padStart(2, "0")}:00`;
        if (!cell) {
            return _t("%(slot)s: no ticket", {slot});
        }
        const answered =
            cell.first_response_hours === false || cell.first_response_hours === null
                ? _t("none answered yet")
                : _t("first response %(time)s on average", {
                      time: formatFloatTime(cell.first_response_hours),
                  });
        return _t("%(slot)s: %(count)s tickets, %(answered)s", {
            slot,
            count: cell.count,
            answered,
        });
    }

    onChannelChange(ev) {
        this.props.onChannelChange(Number(ev.target.value) || false);
    }
}

/** The managers' channel dashboard: a period, one tile per channel with its
 * change against the previous period, and the hour × weekday heatmap. */
export class ChannelDashboard extends Component {
    static template = "social_helpdesk.ChannelDashboard";
    static components = {ControlPanel, DateTimeInput, HourHeatmap};
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        const today = DateTime.local().startOf("day");
        this.periods = [
            {code: "today", label: _t("Today")},
            {code: "7d", label: _t("7 days")},
            {code: "30d", label: _t("30 days")},
            {code: "custom", label: _t("Custom")},
        ];
        this.tilesShown = !this.props.action?.context?.heatmap_only;
        this.networkIcons = NETWORK_ICONS;
        this.state = useState({
            period: "7d",
            dateFrom: today.minus({days: 13}),
            dateTo: today,
            channel: false,
            data: null,
            error: false,
        });
        onWillStart(() => this.load());
    }

    async load() {
        const {period, dateFrom, dateTo, channel} = this.state;
        const custom = period === "custom";
        try {
            this.state.data = await this.orm.call(
                "helpdesk.channel.kpi",
                "get_dashboard",
                [period],
                {
                    date_from: custom ? serializeDate(dateFrom) : false,
                    date_to: custom ? serializeDate(dateTo) : false,
                    channel,
                }
            );
            this.state.error = false;
        } catch (error) {
            if (!error.data) {
                throw error;
            }
            this.state.error = error.data.message;
        }
    }

    async setPeriod(code) {
        this.state.period = code;
        await this.load();
    }

    async setDate(which, value) {
        if (value) {
            this.state[which] = value;
            await this.load();
        }
    }

    async setChannel(channel) {
        this.state.channel = channel;
        await this.load();
    }

    async openTickets(tile, method) {
        const action = await this.orm.call("helpdesk.channel.kpi", method, [tile.id]);
        this.action.doAction(action);
    }

    openPivot() {
        this.action.doAction("social_helpdesk.helpdesk_ticket_kpi_report_action_hours");
    }

    figures(tile) {
        const none = {text: "", className: ""};
        const figures = [
            {
                key: "tickets",
                label: _t("New tickets"),
                value: String(tile.ticket_count),
                previous: String(tile.prev_ticket_count),
                change: tile.prev_ticket_count
                    ? formatChange(tile.ticket_change_pct, "%")
                    : tile.ticket_count
                    ? formatChange(null)
                    : none,
            },
            {
                key: "first_response",
                label: _t("Average first response"),
                value: tile.response_count ? formatFloatTime(tile.first_response_hours) : "–",
                previous: tile.prev_response_count
                    ? formatFloatTime(tile.prev_first_response_hours)
                    : "–",
                change:
                    tile.response_count && tile.prev_response_count
                        ? formatChange(tile.first_response_change_pct, "%", "down")
                        : formatChange(null),
            },
            {
                key: "sla",
                label: _t("First responses within SLA"),
                value: tile.sla_measured_count
                    ? `${formatFloat(tile.within_target_pct, {digits: [3, 0]})}%`
                    : "–",
                previous: tile.prev_sla_measured_count
                    ? `${formatFloat(tile.prev_within_target_pct, {digits: [3, 0]})}%`
                    : "–",
                change:
                    tile.sla_measured_count && tile.prev_sla_measured_count
                        ? formatChange(tile.within_target_change_pts, "pts", "up")
                        : formatChange(null),
            },
        ];
        if (tile.csat_count) {
            // The customers' ratings of the period (WhatsApp's satisfaction
            // requests), on the channels that have them.
            figures.push({
                key: "csat",
                label: _t("Customer satisfaction"),
                value: `${formatFloat(tile.csat, {digits: [2, 1]})} / 5 (${tile.csat_count})`,
                previous: "",
                change: none,
            });
        }
        return figures;
    }
}

registry.category("actions").add("social_helpdesk.channel_dashboard", ChannelDashboard);
