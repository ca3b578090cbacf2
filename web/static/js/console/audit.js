// /console/audit (admins): the audit log, newest first: who did what, when, to which record, with
// filters (record type, who, days in Vietnam) and "Xem thêm" for older entries. What changed on a
// stall is on its page (Lịch sử thay đổi); this page names records, never their values (a status
// change shows its two statuses).

import { h, mount } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import * as api from "../lib/api.js";
import { clearErrors, focusFirstError, setError } from "../lib/forms.js";
import { consolePage, heading } from "./frame.js";
import { dayField, problemText, table, textField, when } from "./ui.js";

const ENTITIES = [
  "stall", "stallholder", "market", "user", "team", "programme_rule", "partner", "partner_event",
  "partner_import", "payment_account", "onboarding", "synthetic_dataset", "service_point",
  "stall_import",
];
const ACTIONS = new Set([
  "register", "update", "import", "create", "archive", "unarchive", "add_payment_account",
  "correct_payment_account", "deactivate_payment_account", "reactivate_payment_account",
  "print_confirmed", "sign_printed", "sign_delivered", "verify", "verify_failed", "fees_cashless",
  "visit", "grant_consent", "withdraw_consent", "erase", "set_status", "schedule", "apply_scheduled",
  "change_password", "reset_password", "create_api_key", "revoke_api_key", "set_credentials", "set_support",
  "partner_event", "name_check", "seed", "assign", "unassign", "support", "delete", "revisit_flagged",
  "revisit_cleared",
]);
const PAGE = 50;

// A status change names its two statuses in the words of the record's own pages (an onboarding's:
// the partner page's; a stall's: the stall page's); a record with no such words shows none.
const STATUS_KEYS = {
  onboarding: { pending: "p_col_pending", active: "p_col_active", suspended: "p_col_suspended", removed: "p_col_removed" },
  stall: { active: "st_active", vacant: "st_vacant", closed: "st_closed" },
  user: { active: "c_active", inactive: "c_inactive" },
};
function statusChange(e) {
  const keys = STATUS_KEYS[e.entity] || {};
  if (!keys[e.status_from] || !keys[e.status_to]) return null;
  return h("span", { class: "sub status-change" }, `${t(keys[e.status_from])} → ${t(keys[e.status_to])}`);
}

/** The record an entry is about, linked to where it can be seen. */
function record(e) {
  // Named as people know it (a stall's code and market, a team's name) when its package names it;
  // else by its number.
  const kind = ENTITIES.includes(e.entity) ? t(`c_ent_${e.entity}`) : e.entity;
  // A record whose id is its name (a partner's code) is named by it, not numbered.
  const named = e.entity_label || (e.entity_id && !/^[0-9]+$/.test(e.entity_id) ? e.entity_id : null);
  const label = named ? `${kind}: ${named}` : `${kind}${e.entity_id ? ` #${e.entity_id}` : ""}`;
  const href = e.entity_id && /^[0-9]+$/.test(e.entity_id)
    ? ({ stall: `/#/s/${e.entity_id}`, market: `/markets/${e.entity_id}`, user: `/console/people#edit-${e.entity_id}` })[e.entity]
    : null;
  return href ? h("a", { href }, label) : label;
}

function row(e) {
  return h("tr", { dataset: { entry: e.id, action: e.action, entity: e.entity } },
    h("td", {}, when(e.at)),
    h("td", {}, e.actor || t("c_audit_system"), e.actor && e.actor_username && e.actor !== e.actor_username ? h("span", { class: "sub" }, e.actor_username) : null),
    h("td", {}, t(e.entity === "programme_rule" && e.action === "update" ? "c_act_rule_update" : ACTIONS.has(e.action) ? `c_act_${e.action}` : "c_act_other"),
      statusChange(e)),
    h("td", {}, record(e)));
}

async function render(body) {
  const entity = h("select", { id: "a-entity", name: "entity" },
    h("option", { value: "" }, t("c_audit_all")),
    ENTITIES.map((x) => h("option", { value: x }, t(`c_ent_${x}`))));
  const actor = textField("a-actor", t("c_audit_actor"), { attrs: { maxlength: 64, autocapitalize: "none", spellcheck: "false" } });
  // The log starts with the service; a day outside these is a typo, said at the field.
  const since = dayField("a-since", t("c_audit_since"), { min: "2000-01-01", max: "2100-12-31" });
  const until = dayField("a-until", t("c_audit_until"), { min: "2000-01-01", max: "2100-12-31" });
  const form = h("form", { class: "card filters", id: "audit-filters", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "a-entity" }, t("c_audit_entity")), entity),
    actor.el, since.el, until.el,
    h("div", { class: "field" }, h("button", { type: "submit", class: "btn btn-primary", id: "audit-filter" }, t("c_audit_filter"))));
  const rows = h("tbody", {});
  const more = h("button", { type: "button", class: "btn", id: "audit-more", hidden: true }, t("c_audit_more"));
  const result = h("section", { class: "card", id: "audit", "aria-live": "polite" });
  let next = null;
  let filters = new URLSearchParams({ limit: String(PAGE) });  // as of the last "Lọc"
  let asked = 0;  // the newest request: an older answer arriving late is dropped

  function readFilters() {
    let bad = false;
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (entity.value) q.set("entity", entity.value);
    const who = actor.control.value.trim();
    // The filter takes a username; a name as the list shows it ("Lê Thị Thử") is said so.
    if (who && !/^[A-Za-z0-9._@-]{1,64}$/.test(who)) { setError("a-actor", t("c_audit_actor_username"), null, { local: true }); bad = true; }
    else if (who) q.set("actor", who);
    for (const [name, f] of [["since", since], ["until", until]]) {
      const read = f.day.read();
      if (read.error) { setError(f.day.input.id, read.error, null, { local: true }); bad = true; }
      else if (read.day) q.set(name, read.day);
    }
    if (!bad && q.get("since") && q.get("until") && q.get("since") > q.get("until")) {
      setError("a-until", t("day_backwards"), null, { local: true });
      bad = true;
    }
    return bad ? null : q;
  }

  async function load(before = null) {
    const mine = ++asked;
    more.disabled = true;
    const q = new URLSearchParams(filters);
    if (before) q.set("before", String(before));
    try {
      const page = await api.getJSON(`/api/audit-log?${q}`);
      if (mine !== asked) return;
      if (!before) {
        rows.replaceChildren();
        mount(result, page.items.length
          ? [table({
            caption: t("c_audit_title"), className: "audit-table",
            columns: [{ label: t("c_audit_when") }, { label: t("c_audit_who") }, { label: t("c_audit_what") }, { label: t("c_audit_record") }],
            rows: [],
          }), more]
          : h("p", { class: "empty", id: "no-audit" }, t("c_audit_none")));
        const tbody = result.querySelector("tbody");
        if (tbody) tbody.replaceWith(rows);
      }
      rows.append(...page.items.map(row));
      next = page.next_before;
      more.hidden = !next;
    } catch (err) {
      if (mine !== asked) return;
      // Nothing on screen may look like the answer to a filter that was refused.
      mount(result, h("p", { class: "form-error", role: "alert", id: "audit-error" }, problemText(err)));
      const field = err && err.field ? { since: "a-since", until: "a-until", actor: "a-actor" }[err.field] : null;
      if (field) setError(field, problemText(err));
    } finally {
      if (mine === asked) more.disabled = false;
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const read = readFilters();
    if (!read) {
      // An earlier refusal's message in the results is no longer about this filter.
      const stale = result.querySelector("#audit-error");
      if (stale) stale.remove();
      focusFirstError(form);
      return;
    }
    filters = read;
    load();
  });
  more.addEventListener("click", () => { if (next) load(next); });
  mount(body, heading(t("c_audit_title"), t("c_audit_intro")), form, result);
  await load();
}

consolePage("console-audit", render);
