// /console/people (admins): volunteers, managers, viewers, partner users and admins with a display
// name and a phone; what each works on (markets, wards, a whole province for managers and
// viewers, the partner of a partner user); a new password (shown once); deactivation; API keys
// for partner and viewer users (shown once, revocable). #new and #edit-<id> open the forms.

import { h, mount, toast, announce, debounce } from "../lib/dom.js";
import { t, num, errorText } from "../lib/i18n.js";
import * as api from "../lib/api.js";
import { roleName } from "../lib/shell.js";
import { clearErrors, field, focusFirstError, setError, showProblem } from "../lib/forms.js";
import { fold, nationalPhone, groupedPhone, looksLikePhone } from "../lib/text.js";
import { wardPicker } from "../lib/wardpicker.js";
import { confirmDialog } from "../lib/dialog.js";
import { consolePage, heading } from "./frame.js";
import { failed, problemText, secretDialog, table, textField, when } from "./ui.js";

const ROLES = ["volunteer", "manager", "viewer", "partner", "admin"];
const SCOPED = { volunteer: ["markets", "wards"], manager: ["markets", "wards", "provinces"], viewer: ["markets", "wards", "provinces"], partner: [], admin: [] };
const KEY_ROLES = ["partner", "viewer"];
const FIELDS = {
  username: "u-username", display_name: "u-name", phone: "u-phone", role: "u-role",
  market_ids: "u-markets", ward_codes: "u-wards", province_codes: "u-provinces", partner_code: "u-partner",
};
const PASSWORD_LETTERS = "abcdefghjkmnpqrstuvwxyz23456789";

const ref = { markets: [], wards: new Map(), provinces: [], partners: [], teams: new Map() };
let people = [];
let filter = { q: "", role: "" };

/** A first password in the server's format (groups of four), made on this device and shown once. */
function newPassword() {
  const bytes = window.crypto.getRandomValues(new Uint8Array(12));
  const chars = Array.from(bytes, (b) => PASSWORD_LETTERS[b % PASSWORD_LETTERS.length]);
  return [0, 4, 8].map((i) => chars.slice(i, i + 4).join("")).join("-");
}

async function loadRefs() {
  const [markets, wards, provinces, partners, teams] = await Promise.all([
    api.getJSON("/api/markets?include_archived=true"),
    api.getJSON("/api/admin-units?province=48"),
    api.getJSON("/api/admin-units"),
    api.getJSON("/api/partners"),
    api.getJSON("/api/teams").catch(() => []),
  ]);
  // A volunteer in a team works in the team's markets without any assigned here (teams/ keeps the
  // two apart): the list says so instead of "nothing assigned".
  ref.teams = new Map(teams.flatMap((team) => team.members.map((m) => [m.id, team])));
  ref.markets = markets.sort((a, b) => a.name.localeCompare(b.name, "vi"));
  ref.wards = new Map(wards.map((w) => [w.code, w.name]));
  ref.provinces = provinces;
  ref.partners = partners.sort((a, b) => a.name.localeCompare(b.name, "vi"));
}

function scopeText(u) {
  if (u.role === "admin") return t("c_scope_all");
  if (u.role === "partner") {
    const partner = u.partner_code && (ref.partners || []).find((p) => p.code === u.partner_code);
    return u.partner_code ? t("c_scope_partner", { code: partner && partner.name ? partner.name : u.partner_code }) : "—";
  }
  const parts = [];
  const byId = new Map(ref.markets.map((m) => [m.id, m.name]));
  if (u.province_codes && u.province_codes.length) parts.push(...u.province_codes.map((c) => (ref.provinces.find((p) => p.code === c) || {}).name || c));
  if (u.ward_codes.length) parts.push(...u.ward_codes.map((c) => ref.wards.get(c) || c));
  const team = ref.teams.get(u.id);
  // A market assigned directly that the team also works in is named once, with the team.
  const viaTeam = new Set(team ? team.markets.map((m) => m.id) : []);
  const direct = u.market_ids.filter((id) => !viaTeam.has(id));
  if (direct.length) parts.push(...direct.map((id) => byId.get(id) || `#${id}`));
  if (team) parts.push(t("c_scope_team", { name: team.name, markets: team.markets.map((m) => m.name).join(", ") || "—" }));
  if (!parts.length) return u.role === "viewer" ? t("c_scope_city") : t("c_scope_none");
  return parts.join(", ");
}

function personRow(u) {
  return h("tr", { dataset: { user: u.id, username: u.username }, class: u.active ? "" : "row-archived" },
    h("td", {}, h("span", { class: "market-name" }, u.display_name || u.username), h("span", { class: "sub" }, u.username)),
    h("td", {}, roleName(u.role)),
    h("td", {}, u.phone ? groupedPhone(u.phone) : "—"),
    h("td", { class: "scope-cell" }, scopeText(u)),
    h("td", {}, u.active ? h("span", { class: "badge state-sent" }, t("c_active")) : h("span", { class: "badge badge-muted" }, t("c_inactive"))),
    h("td", {}, h("a", { class: "btn btn-small", href: `#edit-${u.id}`, "aria-label": `${t("edit")} — ${u.display_name || u.username}` }, t("edit"))));
}

function listSection(redraw) {
  const q = fold(filter.q);
  const shown = people
    .filter((u) => !filter.role || u.role === filter.role)
    .filter((u) => !q || fold(`${u.username} ${u.display_name || ""} ${u.phone ? nationalPhone(u.phone) : ""}`).includes(q.replace(/(\d)\s+(?=\d)/g, "$1")));
  const search = h("input", { id: "people-filter", type: "search", value: filter.q, autocomplete: "off" });
  search.addEventListener("input", debounce(() => { filter.q = search.value; redraw(); }, 150));
  const role = h("select", { id: "people-role", onchange: () => { filter.role = role.value; redraw(); } },
    h("option", { value: "" }, t("c_all_roles")), ROLES.map((r) => h("option", { value: r, selected: filter.role === r }, roleName(r))));
  return h("section", { class: "card", "aria-labelledby": "h-people" },
    h("h2", { id: "h-people" }, t("c_people_list"), " ", h("span", { class: "muted small" }, `(${num(shown.length)})`)),
    h("div", { class: "filters" },
      h("div", { class: "field" }, h("label", { for: "people-filter" }, t("c_filter_people")), search),
      h("div", { class: "field" }, h("label", { for: "people-role" }, t("c_role")), role)),
    shown.length ? table({
      caption: t("c_people_list"),
      className: "people-table",
      columns: [{ label: t("c_col_person") }, { label: t("c_role") }, { label: t("phone") }, { label: t("c_col_scope") }, { label: t("c_col_state") }, { label: t("c_col_actions") }],
      rows: shown.map(personRow),
    }) : h("p", { class: "empty" }, t("c_no_people")));
}

// ---------------------------------------------------------------- scopes

function marketChecklist(selected) {
  const chosen = new Set(selected);
  const filterInput = h("input", { id: "u-markets-filter", type: "search", autocomplete: "off" });
  const list = h("ul", { class: "plain checklist", id: "u-markets" });
  const count = h("p", { class: "hint", role: "status" });
  const draw = () => {
    const q = fold(filterInput.value);
    // An archived market takes no one new; one already in the person's scope stays, marked.
    list.replaceChildren(...ref.markets.filter((m) => (!m.archived || chosen.has(m.id)) && (!q || fold(m.name).includes(q) || chosen.has(m.id))).map((m) => {
      const box = h("input", { type: "checkbox", id: `u-market-${m.id}`, value: m.id, checked: chosen.has(m.id), onchange: () => {
        if (box.checked) chosen.add(m.id); else chosen.delete(m.id);
        count.textContent = t("c_markets_chosen", { n: num(chosen.size) });
      } });
      return h("li", { class: "check" }, box, h("label", { for: box.id }, m.name, m.ward_name ? h("span", { class: "sub" }, m.ward_name) : null,
        m.archived ? h("span", { class: "sub" }, t("c_archived")) : null));
    }));
    count.textContent = t("c_markets_chosen", { n: num(chosen.size) });
  };
  filterInput.addEventListener("input", debounce(draw, 120));
  draw();
  const el = h("fieldset", { class: "field scope-markets", id: "u-markets-field" },
    h("legend", {}, t("c_scope_markets")),
    h("p", { class: "hint" }, t("c_scope_markets_hint")),
    h("label", { for: "u-markets-filter", class: "label" }, t("c_filter_markets")),
    filterInput, h("div", { class: "checklist-box" }, list), count,
    h("p", { class: "field-error", id: "u-markets-error", hidden: true }));
  return { el, value: () => [...chosen].sort((a, b) => a - b) };
}

function wardChips(selected) {
  const chosen = new Map(selected.map((c) => [c, ref.wards.get(c) || c]));
  const chips = h("ul", { class: "plain chips", id: "u-wards" });
  const picker = wardPicker({
    id: "u-ward-pick", label: t("c_scope_add_ward"), clearable: false,
    onChange: (w) => {
      if (!w) return;
      chosen.set(w.code, w.name);
      picker.set(null);
      draw();
      announce(t("c_ward_added", { name: w.name }));
      picker.focus();
    },
  });
  const draw = () => {
    chips.replaceChildren(...[...chosen].map(([code, name]) => h("li", { class: "chip chip-static", dataset: { code } }, name,
      h("button", { type: "button", class: "chip-remove", "aria-label": t("c_remove_named", { name }), onclick: () => { chosen.delete(code); draw(); picker.focus(); } }, "×"))));
    if (!chosen.size) chips.replaceChildren(h("li", { class: "muted" }, t("c_no_wards")));
  };
  draw();
  const el = h("fieldset", { class: "field scope-wards", id: "u-wards-field" },
    h("legend", {}, t("c_scope_wards")),
    h("p", { class: "hint" }, t("c_scope_wards_hint")),
    chips, picker.el,
    h("p", { class: "field-error", id: "u-wards-error", hidden: true }));
  return { el, value: () => [...chosen.keys()].sort() };
}

function provinceChoice(selected) {
  const select = h("select", { id: "u-provinces" },
    h("option", { value: "" }, t("c_no_province")),
    ref.provinces.map((p) => h("option", { value: p.code, selected: selected.includes(p.code) }, p.name)));
  return {
    el: field({ id: "u-provinces", label: t("c_scope_province"), hint: t("c_scope_province_hint"), control: select, optional: true }),
    value: () => (select.value ? [select.value] : []),
  };
}

// ---------------------------------------------------------------- the form

function personForm(user, { onSaved, onClose }) {
  const isNew = !user;
  const username = textField("u-username", t("username"), { value: user ? user.username : "", required: isNew, hint: isNew ? t("c_username_hint") : "", attrs: { maxlength: 64, autocapitalize: "none", spellcheck: "false", readonly: !isNew } });
  const name = textField("u-name", t("c_display_name"), { value: user ? user.display_name : "", required: true, attrs: { maxlength: 100 } });
  const phone = textField("u-phone", t("phone"), { value: user && user.phone ? nationalPhone(user.phone) : "", optional: true, type: "tel", hint: t("c_phone_hint"), attrs: { inputmode: "tel", maxlength: 30 } });
  const role = h("select", { id: "u-role" }, ROLES.map((r) => h("option", { value: r, selected: (user ? user.role : "volunteer") === r }, roleName(r))));
  const roleField = field({ id: "u-role", label: t("c_role"), hint: t("c_role_hint"), control: role, required: true });
  const scopeBox = h("div", { class: "scope-box" });
  let scope = {};
  const drawScopes = () => {
    const r = role.value;
    const kinds = SCOPED[r];
    scope = {};
    const parts = [];
    if (r === "partner") {
      const select = h("select", { id: "u-partner" }, h("option", { value: "" }, t("c_choose_partner")),
        ref.partners.map((p) => h("option", { value: p.code, selected: user && user.partner_code === p.code }, `${p.name} (${p.code})`)));
      scope.partner = select;
      parts.push(field({ id: "u-partner", label: t("c_partner"), hint: t("c_partner_hint"), control: select, required: true }));
    }
    if (kinds.includes("markets")) { scope.markets = marketChecklist(user ? user.market_ids : []); parts.push(scope.markets.el); }
    if (kinds.includes("wards")) { scope.wards = wardChips(user ? user.ward_codes : []); parts.push(scope.wards.el); }
    if (kinds.includes("provinces")) { scope.provinces = provinceChoice(user ? user.province_codes || [] : []); parts.push(scope.provinces.el); }
    // A role that cannot hold what the person is given now says what saving will drop.
    const dropped = !user ? [] : [
      ["markets", (user.market_ids || []).length, "c_scope_drop_markets"],
      ["wards", (user.ward_codes || []).length, "c_scope_drop_wards"],
      ["provinces", (user.province_codes || []).length, "c_scope_drop_provinces"],
    ].filter(([kind, n]) => n && !kinds.includes(kind)).map(([, n, key]) => t(key, { n: num(n) }));
    mount(scopeBox,
      h("h3", {}, t("c_scope_title")),
      h("p", { class: "hint" }, t(`c_scope_about_${r}`)),
      dropped.length ? h("p", { class: "note note-warn", id: "u-scope-dropped", role: "status" }, t("c_scope_dropped", { what: dropped.join(", ") })) : null,
      parts);
  };
  role.addEventListener("change", drawScopes);
  drawScopes();
  const formError = h("p", { class: "form-error", id: "u-form-error", role: "alert" });
  const save = h("button", { type: "submit", class: "btn btn-primary", id: "u-save" }, isNew ? t("c_create_person") : t("save"));
  const title = isNew ? t("c_new_person") : t("c_edit_person", { name: user.display_name || user.username });

  const form = h("form", { id: "person-form", class: "card", novalidate: true, "aria-labelledby": "h-person-form" },
    h("div", { class: "form-head" },
      h("h2", { id: "h-person-form", tabindex: "-1" }, title),
      h("a", { href: "#", class: "btn btn-small btn-ghost", onclick: (ev) => { ev.preventDefault(); onClose(); } }, t("close"))),
    user && !user.active ? h("p", { class: "note note-warn" }, t("c_person_inactive")) : null,
    username.el, name.el, phone.el, roleField, scopeBox,
    isNew ? h("p", { class: "hint" }, t("c_password_made")) : null,
    formError,
    h("div", { class: "row-actions" }, save));

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    formError.textContent = "";
    let bad = false;
    // What the server would refuse is said before anything is asked (the "no scope?" dialog came
    // first, then the refusal, and again at every try).
    if (isNew && !username.control.value.trim()) { setError("u-username", t("c_required_username")); bad = true; }
    else if (isNew && !/^[A-Za-z0-9._@-]{1,64}$/.test(username.control.value.trim())) { setError("u-username", errorText("invalid_username")); bad = true; }
    if (phone.control.value.trim() && !looksLikePhone(phone.control.value)) { setError("u-phone", errorText("invalid_phone")); bad = true; }
    if (!name.control.value.trim()) { setError("u-name", t("c_required_display_name")); bad = true; }
    if (scope.partner && !scope.partner.value) { setError("u-partner", t("c_required_partner")); bad = true; }
    if (bad) { focusFirstError(form); return; }
    const r = role.value;
    const body = {
      display_name: name.control.value.trim(),
      phone: phone.control.value.trim() || null,
      role: r,
      market_ids: scope.markets ? scope.markets.value() : [],
      ward_codes: scope.wards ? scope.wards.value() : [],
      province_codes: scope.provinces ? scope.provinces.value() : [],
      partner_code: scope.partner ? scope.partner.value : null,
    };
    // A manager given nothing sees a country of zeros: allowed (the scope may come later), asked.
    if (r === "manager" && !body.market_ids.length && !body.ward_codes.length && !body.province_codes.length) {
      const ok = await confirmDialog({
        id: "no-scope-dialog", title: t("c_no_scope_title"), lines: [t("c_no_scope_line")],
        ok: t("c_no_scope_save"), cancel: t("c_no_scope_pick"),
      });
      if (!ok) { (scopeBox.querySelector("input, select, button") || role).focus(); return; }
    }
    save.disabled = true;
    try {
      let saved;
      if (isNew) {
        const password = newPassword();
        const create = { ...body, username: username.control.value.trim(), password };
        if (!create.phone) delete create.phone;
        if (!create.partner_code) delete create.partner_code;
        saved = (await api.sendJSON("POST", "/api/users", create)).data;
        await secretDialog({
          id: "password-dialog", title: t("c_person_created", { name: saved.display_name || saved.username }),
          lines: [t("c_password_for", { user: saved.username })], secret: password, label: t("c_secret_password"),
        });
      } else {
        if (!body.partner_code) body.partner_code = null;
        saved = (await api.sendJSON("PATCH", `/api/users/${user.id}`, body)).data;
        toast(t("c_person_saved", { name: saved.display_name || saved.username }), "ok");
      }
      await onSaved(saved);
    } catch (err) {
      if (err.problem && (err.problem.errors || err.problem.field)) {
        showProblem(formError, err.problem, FIELDS);
        if (!form.querySelector("[aria-invalid='true']") && !formError.textContent) formError.textContent = problemText(err);
      } else formError.textContent = problemText(err);
      focusFirstError(form);
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

async function accessSection(user, onSaved) {
  const actions = h("div", { class: "row-actions" },
    h("button", { type: "button", class: "btn", id: "u-reset", onclick: async () => {
      const ok = await confirmDialog({
        id: "reset-dialog", title: t("c_reset_title", { name: user.display_name || user.username }),
        lines: [t("c_reset_text")], ok: t("c_reset"), cancel: t("cancel"),
      });
      if (!ok) return;
      try {
        const { data } = await api.sendJSON("POST", `/api/users/${user.id}/password-reset`, {});
        await secretDialog({ id: "password-dialog", title: t("c_reset_done"), lines: [t("c_password_for", { user: user.username })], secret: data.password, label: t("c_secret_password") });
      } catch (err) { failed(err); }
    } }, t("c_reset")),
    h("button", { type: "button", class: ["btn", user.active ? "btn-danger" : ""], id: user.active ? "u-deactivate" : "u-activate", onclick: async () => {
      if (user.active) {
        const ok = await confirmDialog({
          id: "deactivate-dialog", title: t("c_deactivate_title", { name: user.display_name || user.username }),
          lines: [t("c_deactivate_text")], ok: t("c_deactivate"), cancel: t("cancel"),
        });
        if (!ok) return;
      }
      try {
        const { data } = await api.sendJSON("PATCH", `/api/users/${user.id}`, { active: !user.active });
        toast(data.active ? t("c_activated", { name: data.display_name || data.username }) : t("c_deactivated", { name: data.display_name || data.username }), "ok");
        await onSaved(data);
      } catch (err) { failed(err); }
    } }, user.active ? t("c_deactivate") : t("c_activate")));
  const section = h("section", { class: "card", "aria-labelledby": "h-access" },
    h("h2", { id: "h-access" }, t("c_access_title")), actions);
  if (KEY_ROLES.includes(user.role)) section.append(await keysBox(user));
  return section;
}

async function keysBox(user) {
  const box = h("div", { class: "api-keys", id: "api-keys" });
  const draw = async () => {
    let keys = [];
    try { keys = await api.getJSON(`/api/users/${user.id}/api-keys`); } catch (err) { failed(err); }
    const live = keys.filter((k) => !k.revoked_at);
    const label = h("input", { id: "key-label", maxlength: 100, autocomplete: "off" });
    const make = h("button", { type: "button", class: "btn", id: "key-create" }, t("c_key_create"));
    make.addEventListener("click", async () => {
      try {
        const { data } = await api.sendJSON("POST", `/api/users/${user.id}/api-keys`, { label: label.value.trim() || null });
        await secretDialog({ id: "key-dialog", title: t("c_key_created"), lines: [t("c_key_how")], secret: data.key, label: t("c_secret_key") });
        await draw();
      } catch (err) { failed(err); }
    });
    mount(box,
      h("h3", {}, t("c_keys_title")),
      h("p", { class: "hint" }, t("c_keys_hint")),
      live.length ? table({
        caption: t("c_keys_title"),
        columns: [{ label: t("c_key_prefix") }, { label: t("c_key_label") }, { label: t("c_key_made") }, { label: t("c_col_actions") }],
        rows: live.map((k) => h("tr", { dataset: { key: k.id } },
          h("td", {}, h("code", {}, `cs_${k.prefix}_…`)), h("td", {}, k.label || "—"), h("td", {}, when(k.created_at)),
          h("td", {}, h("button", { type: "button", class: "btn btn-small btn-danger", "aria-label": t("c_key_revoke_named", { prefix: k.prefix }), onclick: async () => {
            const ok = await confirmDialog({ id: "revoke-dialog", title: t("c_key_revoke_title"), lines: [t("c_key_revoke_text")], ok: t("c_key_revoke"), cancel: t("cancel") });
            if (!ok) return;
            try {
              await api.request(`/api/users/${user.id}/api-keys/${k.id}`, { method: "DELETE" }).then(async (res) => { if (!res.ok) throw await api.toError(res); });
              toast(t("c_key_revoked"), "ok");
              await draw();
            } catch (err) { failed(err); }
          } }, t("c_key_revoke"))))),
      }) : h("p", { class: "muted" }, t("c_no_keys")),
      h("div", { class: "key-new" }, h("div", { class: "field" }, h("label", { for: "key-label" }, t("c_key_label")), label), make));
  };
  await draw();
  return box;
}

async function render(body) {
  await loadRefs();
  people = await api.getJSON("/api/users");
  const listBox = h("div", { class: "console-list" });
  const formBox = h("div", { class: "console-detail", id: "person-detail" });
  const drawList = () => mount(listBox, listSection(drawList));
  const drawForm = async () => {
    const hash = window.location.hash.slice(1);
    const m = hash.match(/^edit-(\d+)$/);
    if (hash !== "new" && !m) {
      mount(formBox, h("section", { class: "card muted-card" }, h("h2", {}, t("c_people_help_title")), h("p", {}, t("c_people_help"))));
      return;
    }
    const user = m ? people.find((u) => u.id === Number(m[1])) : null;
    if (m && !user) { mount(formBox, h("p", { class: "form-error", role: "alert" }, t("c_no_such_person"))); return; }
    const onSaved = async (saved) => {
      people = await api.getJSON("/api/users");
      drawList();
      if (window.location.hash === `#edit-${saved.id}`) await drawForm();
      else window.location.hash = `edit-${saved.id}`;
    };
    const parts = [personForm(user, { onSaved, onClose: () => { window.location.hash = ""; } })];
    if (user) parts.push(await accessSection(user, onSaved));
    mount(formBox, parts);
    const head = document.getElementById("h-person-form");
    if (head) { head.focus({ preventScroll: true }); head.scrollIntoView({ block: "start" }); }
  };
  mount(body,
    h("div", { class: "section-head" },
      heading(t("c_people_title"), t("c_people_intro")),
      h("a", { class: "btn btn-primary", href: "#new", id: "new-person" }, "+ ", t("c_new_person"))),
    h("div", { class: "console-grid" }, listBox, formBox));
  drawList();
  await drawForm();
  window.onhashchange = () => { drawForm(); };
}

consolePage("console-people", render);
