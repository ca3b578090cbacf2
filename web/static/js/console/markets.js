// /console/markets: every market in the caller's scope, the ones still without a ward first; create
// (admins), edit (name, ward from the national directory, address, point on the map, zones added,
// renamed or retired), archive and bring back, and the way to a market's stall-list import.
// #new opens the form for a new market, #edit-<id> the form of a market.

import { h, mount, toast, announce, debounce } from "../lib/dom.js";
import { t, num } from "../lib/i18n.js";
import * as api from "../lib/api.js";
import { settings } from "../lib/shell.js";
import { clearErrors, focusFirstError, setError, showProblem } from "../lib/forms.js";
import { fold } from "../lib/text.js";
import { pointPicker } from "../lib/map.js";
import { wardPicker } from "../lib/wardpicker.js";
import { consolePage, heading } from "./frame.js";
import { failed, problemText, reasonDialog, table, textField, when } from "./ui.js";

const FIELDS = {
  name: "m-name", ward_code: "m-ward", address: "m-address", lat: "m-lat", lon: "m-lon",
  zones: "m-zones", zone_renames: "m-zones",
};
let state = { markets: [], me: null, query: "", archived: false };

function route() {
  const hash = window.location.hash.slice(1);
  if (hash === "new") return { form: "new" };
  const m = hash.match(/^edit-(\d+)$/);
  return m ? { form: "edit", id: Number(m[1]) } : { form: null };
}

async function loadMarkets() {
  state.markets = await api.getJSON("/api/markets?include_archived=true");
}

function wardLine(m) {
  return m.ward_name || t("c_no_ward");
}

function marketRow(m) {
  return h("tr", { dataset: { market: m.id }, class: m.archived ? "row-archived" : "" },
    h("td", {}, h("span", { class: "market-name" }, m.name),
      m.archived ? [" ", h("span", { class: "badge badge-muted" }, t("c_archived"))] : null,
      h("span", { class: "sub" }, m.address || "")),
    h("td", {}, m.ward_code ? wardLine(m) : h("span", { class: "badge badge-warn" }, t("c_no_ward"))),
    h("td", { class: "num" }, num(m.stall_count || 0)),
    h("td", {}, (m.zones || []).join(", ") || "—"),
    h("td", {}, h("div", { class: "row-actions tight" },
      h("a", { class: "btn btn-small", href: `#edit-${m.id}`, "aria-label": `${t("edit")} — ${m.name}` }, t("edit")),
      m.archived ? null : h("a", { class: "btn btn-small", href: `/console/markets/${m.id}/import`, "aria-label": `${t("c_import")} — ${m.name}` }, t("c_import_short")))));
}

function listSection(onFilter) {
  const visible = state.markets
    .filter((m) => state.archived || !m.archived)
    .filter((m) => !state.query || fold(m.name).includes(fold(state.query)) || fold(m.ward_name || "").includes(fold(state.query)))
    .sort((a, b) => a.name.localeCompare(b.name, "vi"));
  const search = h("input", { id: "market-filter", type: "search", value: state.query, autocomplete: "off" });
  search.addEventListener("input", debounce(() => { state.query = search.value; onFilter(); }, 150));
  const archived = h("input", { id: "show-archived", type: "checkbox", checked: state.archived, onchange: () => { state.archived = archived.checked; onFilter(); } });
  return h("section", { class: "card", "aria-labelledby": "h-market-list" },
    h("h2", { id: "h-market-list" }, t("c_market_list"), " ", h("span", { class: "muted small" }, `(${num(visible.length)})`)),
    h("div", { class: "filters" },
      h("div", { class: "field" }, h("label", { for: "market-filter" }, t("c_filter_markets")), search),
      h("div", { class: "check" }, archived, h("label", { for: "show-archived" }, t("c_show_archived")))),
    visible.length
      ? table({
        caption: t("c_market_list"),
        className: "market-admin-table",
        columns: [{ label: t("col_market") }, { label: t("c_col_ward") }, { label: t("col_stalls"), num: true }, { label: t("c_col_zones") }, { label: t("c_col_actions") }],
        rows: visible.map(marketRow),
      })
      : h("p", { class: "empty" }, t("c_no_markets")));
}

function missingWards() {
  const without = state.markets.filter((m) => !m.ward_code && !m.archived);
  if (!without.length) return null;
  return h("section", { class: "card card-warn", id: "no-ward", "aria-labelledby": "h-no-ward" },
    h("h2", { id: "h-no-ward" }, t("c_no_ward_title", { n: num(without.length) })),
    h("p", {}, t("c_no_ward_text")),
    h("ul", { class: "plain fix-list" }, without.map((m) => h("li", {},
      h("span", { class: "market-name" }, m.name), " ",
      h("a", { class: "btn btn-small", href: `#edit-${m.id}`, "aria-label": `${t("c_pick_ward")} — ${m.name}` }, t("c_pick_ward"))))));
}

// ---------------------------------------------------------------- the form

function zonesEditor(market) {
  // Each current zone: its name (edit it to rename) and a button to retire it; retired zones with a
  // button to use them again; a field to add one.
  const items = (market ? market.zones : []).map((z) => ({ from: z, name: z, retired: false }));
  const retired = (market && market.retired_zones ? market.retired_zones : []).map((z) => ({ from: z, name: z, retired: true }));
  const all = [...items, ...retired];
  const box = h("div", { class: "zones-editor" });
  const addInput = h("input", { id: "m-zone-new", autocomplete: "off", maxlength: 40 });
  const addBtn = h("button", { type: "button", class: "btn btn-small", id: "m-zone-add" }, t("c_zone_add"));
  const fieldset = h("fieldset", { class: "field zones", id: "m-zones-field", "aria-describedby": "m-zones-hint m-zones-error" },
    h("legend", {}, t("c_zones")),
    h("p", { class: "hint", id: "m-zones-hint" }, market ? t("c_zones_hint_edit") : t("c_zones_hint_new")),
    box,
    h("div", { class: "zone-add" }, h("label", { for: "m-zone-new" }, t("c_zone_new")), addInput, addBtn),
    h("p", { class: "field-error", id: "m-zones-error", hidden: true }));

  function draw(focusIndex = null) {
    const current = all.filter((z) => !z.retired);
    const gone = all.filter((z) => z.retired);
    mount(box,
      current.length ? h("ul", { class: "plain zone-list" }, current.map((z, i) => {
        const input = h("input", { id: `m-zone-${i}`, value: z.name, autocomplete: "off", maxlength: 40, "aria-label": t("c_zone_name", { z: z.from || z.name }) });
        input.addEventListener("input", () => { z.name = input.value; });
        return h("li", { class: "zone-item", dataset: { zone: z.from || "" } }, input,
          h("button", { type: "button", class: "btn btn-small", onclick: () => {
            if (z.from) z.retired = true; else all.splice(all.indexOf(z), 1);
            draw(); addInput.focus();
          }, "aria-label": t(z.from ? "c_zone_retire_named" : "c_zone_remove_named", { z: z.name }) }, t(z.from ? "c_zone_retire" : "c_zone_remove")));
      })) : h("p", { class: "muted" }, t("c_no_zones")),
      gone.length ? h("div", { class: "retired-zones" },
        h("p", { class: "hint" }, t("c_zones_retired")),
        h("ul", { class: "plain zone-list" }, gone.map((z) => h("li", { class: "zone-item zone-retired", dataset: { zone: z.from } },
          h("span", {}, z.from),
          h("button", { type: "button", class: "btn btn-small", onclick: () => { z.retired = false; z.name = z.from; draw(); }, "aria-label": t("c_zone_restore_named", { z: z.from }) }, t("c_zone_restore")))))) : null);
    if (focusIndex !== null) { const el = document.getElementById(`m-zone-${focusIndex}`); if (el) el.focus(); }
  }
  const add = () => {
    const name = addInput.value.trim();
    if (!name) { addInput.focus(); return; }
    const same = all.find((z) => fold(z.name) === fold(name) || (z.from && fold(z.from) === fold(name)));
    if (same && same.retired) same.retired = false;
    else if (!same) all.push({ from: null, name, retired: false });
    addInput.value = "";
    draw();
    announce(t("c_zone_added", { z: name }));
    addInput.focus();
  };
  addBtn.addEventListener("click", add);
  addInput.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); add(); } });
  draw();
  return {
    el: fieldset,
    /** {zones, zone_renames}: the current zones in order (new names), and the renames. */
    value() {
      const current = all.filter((z) => !z.retired);
      return {
        zones: current.map((z) => z.name.trim()).filter(Boolean),
        zone_renames: current.filter((z) => z.from && z.name.trim() && z.name.trim() !== z.from).map((z) => ({ from: z.from, to: z.name.trim() })),
      };
    },
  };
}

function parseCoord(text) {
  const v = String(text || "").trim().replace(",", ".");
  if (!v) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : NaN;
}

function marketForm(market, { me, onSaved, onClose }) {
  const isNew = !market;
  const name = textField("m-name", t("c_market_name"), { value: market ? market.name : "", required: true, attrs: { maxlength: 120 } });
  const ward = wardPicker({
    id: "m-ward", label: t("c_ward"), province: (market && market.province_code) || "48",
    value: market && market.ward_code ? { code: market.ward_code, name: market.ward_name || market.ward_code } : null,
  });
  const address = textField("m-address", t("c_address"), { value: market ? market.address : "", optional: true, attrs: { maxlength: 200 } });
  const lat = textField("m-lat", t("c_lat"), { value: market && market.lat != null ? String(market.lat) : "", optional: true, attrs: { inputmode: "decimal" } });
  const lon = textField("m-lon", t("c_lon"), { value: market && market.lon != null ? String(market.lon) : "", optional: true, attrs: { inputmode: "decimal" } });
  const picker = pointPicker({
    lat: market ? market.lat : null, lon: market ? market.lon : null, tileUrl: settings.tileUrl, label: t("c_map_pick"), pinLabel: t("c_point_here"),
    onPick: (la, lo) => { lat.control.value = String(la); lon.control.value = String(lo); announce(t("c_point_set", { lat: la, lon: lo })); },
  });
  const typed = () => {
    const la = parseCoord(lat.control.value);
    const lo = parseCoord(lon.control.value);
    if (Number.isFinite(la) && Number.isFinite(lo)) picker.set(la, lo);
  };
  lat.control.addEventListener("change", typed);
  lon.control.addEventListener("change", typed);
  const zones = zonesEditor(market);
  // Its stalls' business licence numbers: recorded only where the programme asks (off by default).
  const asksLicence = h("input", { type: "checkbox", id: "m-asks-licence", checked: Boolean(market && market.asks_licence), "aria-describedby": "m-asks-licence-hint" });
  const licenceField = h("div", { class: "field", id: "m-asks-licence-field" },
    h("div", { class: "check" }, asksLicence, h("label", { for: "m-asks-licence" }, t("c_asks_licence"))),
    h("p", { class: "hint", id: "m-asks-licence-hint" }, t("c_asks_licence_hint")));
  const formError = h("p", { class: "form-error", id: "m-form-error", role: "alert" });
  const save = h("button", { type: "submit", class: "btn btn-primary", id: "m-save" }, isNew ? t("c_create_market") : t("save"));
  const title = isNew ? t("c_new_market") : t("c_edit_market", { name: market.name });

  const form = h("form", { id: "market-form", class: "card", novalidate: true, "aria-labelledby": "h-market-form" },
    h("div", { class: "form-head" },
      h("h2", { id: "h-market-form", tabindex: "-1" }, title),
      h("a", { href: "#", class: "btn btn-small btn-ghost", onclick: (ev) => { ev.preventDefault(); onClose(); } }, t("close"))),
    market && market.archived ? h("p", { class: "note note-warn" }, t("c_archived_note", { when: when(market.archived_at), reason: market.archive_reason || "—" })) : null,
    name.el, ward.el, address.el,
    h("fieldset", { class: "field location" },
      h("legend", {}, t("c_location")),
      h("p", { class: "hint" }, t("c_location_hint")),
      h("div", { class: "coords" }, lat.el, lon.el),
      picker.el),
    zones.el,
    licenceField,
    formError,
    h("div", { class: "row-actions" }, save,
      !isNew ? archiveButton(market, onSaved) : null,
      !isNew && !market.archived ? h("a", { class: "btn", href: `/console/markets/${market.id}/import` }, t("c_import")) : null));

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    formError.textContent = "";
    const la = parseCoord(lat.control.value);
    const lo = parseCoord(lon.control.value);
    let bad = false;
    if (!name.control.value.trim()) { setError("m-name", t("c_required_name")); bad = true; }
    // A new market names its ward (the console lists those without one as work to do); an old
    // one may still be saved without while its ward is looked up.
    if (isNew && !ward.value()) { setError("m-ward", t("c_required_ward")); bad = true; }
    if (Number.isNaN(la) || (la !== null && (la < -90 || la > 90))) { setError("m-lat", t("c_bad_lat")); bad = true; }
    if (Number.isNaN(lo) || (lo !== null && (lo < -180 || lo > 180))) { setError("m-lon", t("c_bad_lon")); bad = true; }
    if ((la === null) !== (lo === null)) { setError(la === null ? "m-lat" : "m-lon", t("c_coords_together")); bad = true; }
    if (bad) { focusFirstError(form); return; }
    const chosenWard = ward.value();
    const z = zones.value();
    const body = {
      name: name.control.value.trim(),
      address: address.control.value.trim() || null,
      lat: la, lon: lo,
      ward_code: chosenWard ? chosenWard.code : null,
      asks_licence: asksLicence.checked,
    };
    save.disabled = true;
    try {
      let saved;
      if (isNew) {
        if (body.ward_code === null) delete body.ward_code;
        if (body.address === null) delete body.address;
        if (la === null) { delete body.lat; delete body.lon; }
        saved = (await api.sendJSON("POST", "/api/markets", { ...body, zones: z.zones })).data;
        toast(t("c_market_created", { name: saved.name }), "ok");
      } else {
        const patch = { ...body, zones: z.zones, zone_renames: z.zone_renames };
        saved = (await api.sendJSON("PATCH", `/api/markets/${market.id}`, patch, { "If-Match": `"${market.version || 1}"` })).data;
        toast(t("c_market_saved", { name: saved.name }), "ok");
      }
      await onSaved(saved);
    } catch (err) {
      if (err.code === "version_conflict") formError.textContent = t("c_market_changed");
      else if (api.routeMissing(err)) formError.textContent = t("c_edit_unavailable");
      else if (err.problem && (err.problem.errors || err.problem.field)) {
        showProblem(formError, err.problem, FIELDS);
        if (!formError.textContent && !form.querySelector("[aria-invalid='true']")) formError.textContent = problemText(err);
      } else formError.textContent = problemText(err);
      focusFirstError(form);
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

function archiveButton(market, onSaved) {
  const archiving = !market.archived;
  return h("button", {
    type: "button", class: ["btn", archiving ? "btn-danger" : ""], id: archiving ? "m-archive" : "m-unarchive",
    onclick: async () => {
      const reason = await reasonDialog({
        id: "archive-dialog",
        title: archiving ? t("c_archive_title", { name: market.name }) : t("c_unarchive_title", { name: market.name }),
        lines: [archiving ? t("c_archive_text") : t("c_unarchive_text")],
        label: t("c_reason"), ok: archiving ? t("c_archive") : t("c_unarchive"), danger: archiving,
      });
      if (!reason) return;
      try {
        const { data } = await api.sendJSON("POST", `/api/markets/${market.id}/${archiving ? "archive" : "unarchive"}`, { reason });
        toast(archiving ? t("c_archived_done", { name: market.name }) : t("c_unarchived_done", { name: market.name }), "ok");
        await onSaved(data);
      } catch (err) {
        failed(err);
      }
    },
  }, archiving ? t("c_archive") : t("c_unarchive"));
}

async function render(body, me) {
  state.me = me;
  await loadMarkets();
  const listBox = h("div", { class: "console-list" });
  const formBox = h("div", { class: "console-detail", id: "market-detail" });
  const drawList = () => mount(listBox, missingWards(), listSection(drawList));
  const drawForm = async () => {
    const r = route();
    if (!r.form) {
      mount(formBox, h("section", { class: "card muted-card" },
        h("h2", {}, t("c_markets_help_title")), h("p", {}, t(me.role === "admin" ? "c_markets_help" : "c_markets_help_manager"))));
      return;
    }
    if (r.form === "new" && me.role !== "admin") { window.location.hash = ""; return; }
    let market = null;
    if (r.form === "edit") {
      try {
        market = await api.getJSON(`/api/markets/${r.id}`);
      } catch (err) {
        mount(formBox, h("p", { class: "form-error", role: "alert" }, problemText(err)));
        return;
      }
    }
    const onSaved = async (saved) => {
      await loadMarkets();
      drawList();
      if (window.location.hash === `#edit-${saved.id}`) await drawForm();
      else window.location.hash = `edit-${saved.id}`;
    };
    const onClose = () => { window.location.hash = ""; };
    mount(formBox, marketForm(market, { me, onSaved, onClose }));
    const head = document.getElementById("h-market-form");
    if (head) { head.focus({ preventScroll: true }); head.scrollIntoView({ block: "start" }); }
  };
  mount(body,
    h("div", { class: "section-head" },
      heading(t("c_markets_title"), t(me.role === "admin" ? "c_markets_intro" : "c_markets_intro_manager")),
      me.role === "admin" ? h("a", { class: "btn btn-primary", href: "#new", id: "new-market" }, "+ ", t("c_new_market")) : null),
    h("div", { class: "console-grid" }, listBox, formBox));
  drawList();
  await drawForm();
  window.onhashchange = () => { drawForm(); };
}

consolePage("console-markets", render);
