// /console/partners (admins): the partner registry; a partner's credentials (write-only: the page
// shows which are set, never a value); what to hand to the partner (our endpoint URLs, how to
// sign, the fields to configure on their side); its recent notifications and unmatched payments.
// #p-<CODE> opens a partner.

import { h, mount, toast, debounce } from "../lib/dom.js";
import { t, num, currentLang } from "../lib/i18n.js";
import * as api from "../lib/api.js";
import { clearErrors, showProblem } from "../lib/forms.js";
import { fold } from "../lib/text.js";
import { confirmDialog } from "../lib/dialog.js";
import { consolePage, heading } from "./frame.js";
import { problemText, table, textField, when } from "./ui.js";

// Credential fields per notification scheme (partners/registry.py CREDENTIAL_FIELDS).
const NATIVE_FIELDS = { momo: ["access_key", "secret_key"], vnpay: ["hash_secret"], zalopay: ["key2"], payos: ["checksum_key"] };
const OWN = "signing_secret";
// Native notification endpoints (partners/router.py) and what the partner configures on its side.
const NATIVE = {
  momo: { method: "POST", path: "/api/partners/momo/ipn", configure: "c_native_momo" },
  vnpay: { method: "GET", path: "/api/partners/vnpay/ipn", configure: "c_native_vnpay" },
  zalopay: { method: "POST", path: "/api/partners/zalopay/callback", configure: "c_native_zalopay" },
  payos: { method: "POST", path: "/api/partners/payos/webhook", configure: "c_native_payos" },
};
const NATIVE_OWNER = { momo: "MOMO", vnpay: "VNPAY", zalopay: "ZALOPAY", payos: "PAYOS" };

let partners = [];
const KIND_ORDER = { aggregator: 0, gateway: 1, wallet: 2, bank: 3 };
// Partners with credentials first, then those with a notification format of their own, then by
// kind (the few wallets and gateways before the many banks) and name.
const order = (a, b) => (b.credentials_set.length - a.credentials_set.length)
  || ((nativeScheme(b) ? 1 : 0) - (nativeScheme(a) ? 1 : 0))
  || (KIND_ORDER[a.kind] ?? 9) - (KIND_ORDER[b.kind] ?? 9)
  || a.name.localeCompare(b.name, "vi");
let query = "";

function nativeScheme(p) {
  // The native endpoints are fixed to one partner each (MOMO, VNPAY, ZALOPAY, PAYOS).
  return Object.entries(NATIVE_OWNER).find(([, code]) => code === p.code)?.[0] || null;
}

function fieldsOf(p) {
  const scheme = nativeScheme(p);
  return [...(scheme ? NATIVE_FIELDS[scheme] : []), OWN];
}

function randomSecret() {
  const bytes = window.crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function copyButton(text, label) {
  const btn = h("button", { type: "button", class: "btn btn-small", "aria-label": label }, t("c_copy"));
  btn.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(text); toast(t("c_copied"), "ok", 2500); } catch { toast(t("c_copy_by_hand"), "warn"); }
  });
  return btn;
}

function partnerRow(p) {
  const set = p.credentials_set || [];
  return h("tr", { dataset: { partner: p.code } },
    h("td", {}, h("a", { href: `#p-${p.code}`, class: "market-name" }, p.name), h("span", { class: "sub" }, p.code)),
    h("td", {}, t(`c_kind_${p.kind}`)),
    h("td", {}, nativeScheme(p) ? t("c_scheme_native", { scheme: p.name }) : p.own_api_enabled ? t("c_scheme_own") : t("c_scheme_none")),
    h("td", {}, set.length ? h("span", { class: "badge state-sent" }, t("c_creds_n", { n: num(set.length) })) : h("span", { class: "badge badge-muted" }, t("c_creds_none"))));
}

function listSection(redraw) {
  const q = fold(query);
  const shown = partners.filter((p) => !q || fold(`${p.name} ${p.code} ${p.bins.join(" ")}`).includes(q));
  const search = h("input", { id: "partner-filter", type: "search", value: query, autocomplete: "off" });
  search.addEventListener("input", debounce(() => { query = search.value; redraw(); }, 150));
  return h("section", { class: "card partner-list", "aria-labelledby": "h-partners" },
    h("h2", { id: "h-partners" }, t("c_partner_list"), " ", h("span", { class: "muted small" }, `(${num(shown.length)})`)),
    h("div", { class: "filters" }, h("div", { class: "field" }, h("label", { for: "partner-filter" }, t("c_filter_partners")), search)),
    table({
      caption: t("c_partner_list"), className: "partner-table",
      columns: [{ label: t("c_partner") }, { label: t("c_kind") }, { label: t("c_notifications_how") }, { label: t("c_credentials") }],
      rows: shown.map(partnerRow),
    }));
}

// ---------------------------------------------------------------- one partner

/** The number stallholders call when a transfer goes wrong (the stall page shows it). */
function supportForm(p, onSaved) {
  const f = textField("support-phone", t("c_support_phone"), {
    type: "tel", value: p.support_phone || "", optional: true,
    attrs: { maxlength: 40, inputmode: "tel", autocomplete: "off" },
  });
  const state = h("p", { class: "status-line", id: "support-state" }, p.support_phone ? t("c_support_is", { phone: p.support_phone }) : t("c_support_none"));
  const formError = h("p", { class: "form-error", id: "support-error", role: "alert" });
  const save = h("button", { type: "submit", class: "btn btn-primary", id: "support-save" }, t("c_support_save"));
  const clear = h("button", { type: "button", class: "btn", id: "support-clear", disabled: !p.support_phone }, t("c_support_clear"));
  const form = h("form", { class: "card", id: "support-form", novalidate: true, "aria-labelledby": "h-support" },
    h("h3", { id: "h-support" }, t("c_support_title")),
    h("p", { class: "hint" }, t("c_support_hint")),
    state, f.el, formError, h("div", { class: "row-actions" }, save, clear));

  async function put(value, done) {
    clearErrors(form);
    formError.textContent = "";
    if (save.disabled) return; // one change at a time: a double tap sends it once
    save.disabled = true;
    clear.disabled = true;
    try {
      const { data } = await api.sendJSON("PUT", `/api/partners/${encodeURIComponent(p.code)}/support`, { support_phone: value });
      toast(t(done, { name: p.name }), "ok");
      await onSaved(data);
    } catch (err) {
      if (err.problem && err.problem.field) showProblem(formError, err.problem, { support_phone: "support-phone" });
      else formError.textContent = problemText(err);
    } finally {
      save.disabled = false;
      clear.disabled = !p.support_phone;
    }
  }
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const value = f.control.value.trim();
    if (!value) { formError.textContent = t("c_support_empty"); f.control.focus(); return; }
    put(value, "c_support_saved");
  });
  clear.addEventListener("click", () => put(null, "c_support_cleared"));
  return form;
}

function credentialsForm(p, onSaved) {
  const fields = fieldsOf(p);
  const set = new Set(p.credentials_set || []);
  const inputs = fields.map((name) => {
    const f = textField(`cred-${name}`, t(`c_cred_${name}`), {
      type: "password", optional: true,
      hint: set.has(name) ? t("c_cred_is_set") : t("c_cred_not_set"),
      attrs: { autocomplete: "new-password", spellcheck: "false", maxlength: 512, dataset: { name } },
    });
    const show = h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-pressed": "false", "aria-label": t("c_show_named", { name: t(`c_cred_${name}`) }) }, t("c_show"));
    show.addEventListener("click", () => {
      const on = f.control.type === "password";
      f.control.type = on ? "text" : "password";
      show.setAttribute("aria-pressed", on ? "true" : "false");
    });
    const extra = [show];
    if (name === OWN) {
      extra.push(h("button", { type: "button", class: "btn btn-small", id: "cred-generate", onclick: () => {
        f.control.value = randomSecret();
        f.control.type = "text";
        show.setAttribute("aria-pressed", "true");
        f.control.focus();
      } }, t("c_generate")));
    }
    f.el.append(h("div", { class: "row-actions tight" }, extra));
    return { name, ...f };
  });
  const formError = h("p", { class: "form-error", id: "cred-error", role: "alert" });
  const save = h("button", { type: "submit", class: "btn btn-primary", id: "cred-save" }, t("c_cred_save"));
  const clear = h("button", { type: "button", class: "btn btn-danger", id: "cred-clear", disabled: !set.size }, t("c_cred_clear"));
  const form = h("form", { class: "card", id: "cred-form", novalidate: true, "aria-labelledby": "h-creds", autocomplete: "off" },
    h("h3", { id: "h-creds" }, t("c_credentials")),
    h("p", { class: "hint" }, t("c_cred_hint")),
    h("p", { class: "status-line", id: "cred-state" }, set.size ? t("c_cred_state", { names: [...set].map((n) => t(`c_cred_${n}`)).join(", ") }) : t("c_creds_none")),
    inputs.map((i) => i.el), formError,
    h("div", { class: "row-actions" }, save, clear));

  async function put(values) {
    const { data } = await api.sendJSON("PUT", `/api/partners/${encodeURIComponent(p.code)}/credentials`, values);
    for (const i of inputs) { i.control.value = ""; i.control.type = "password"; }
    return data;
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    formError.textContent = "";
    const values = {};
    for (const i of inputs) if (i.control.value.trim()) values[i.name] = i.control.value.trim();
    if (!Object.keys(values).length) { formError.textContent = t("c_cred_empty"); inputs[0].control.focus(); return; }
    const dropped = [...set].filter((n) => !(n in values));
    if (dropped.length) {
      const ok = await confirmDialog({
        id: "cred-confirm", title: t("c_cred_replace_title"),
        lines: [t("c_cred_replace_text", { names: dropped.map((n) => t(`c_cred_${n}`)).join(", ") })],
        ok: t("c_cred_save"), cancel: t("cancel"),
      });
      if (!ok) return;
    }
    save.disabled = true;
    try {
      const data = await put(values);
      toast(t("c_cred_saved", { name: p.name }), "ok");
      await onSaved(data);
    } catch (err) {
      if (err.problem && err.problem.field) {
        const map = Object.fromEntries(fields.map((n) => [n, `cred-${n}`]));
        showProblem(formError, err.problem, map);
        if (!form.querySelector("[aria-invalid='true']")) formError.textContent = problemText(err);
      } else formError.textContent = problemText(err);
    } finally {
      save.disabled = false;
    }
  });
  clear.addEventListener("click", async () => {
    const ok = await confirmDialog({ id: "cred-clear-dialog", title: t("c_cred_clear_title", { name: p.name }), lines: [t("c_cred_clear_text")], ok: t("c_cred_clear"), cancel: t("cancel") });
    if (!ok) return;
    try {
      const data = await put({});
      toast(t("c_cred_cleared", { name: p.name }), "ok");
      await onSaved(data);
    } catch (err) { formError.textContent = problemText(err); }
  });
  return form;
}

function handover(p) {
  const origin = window.location.origin;
  const own = `${origin}/api/partners/${p.code}/events`;
  const scheme = nativeScheme(p);
  const urlLine = (id, label, url, method) => h("div", { class: "endpoint" },
    h("p", { class: "label", id: `${id}-label` }, label),
    h("p", { class: "endpoint-url" }, h("span", { class: "badge badge-muted" }, method), " ", h("code", { id }, url), " ", copyButton(url, `${t("c_copy")} — ${label}`)));
  const example = '{"id":"evt-123","type":"payment.received","occurred_at":"2026-01-15T09:30:00+07:00","data":{"bin":"970422","account_number":"0123456789","amount":45000}}';
  return h("section", { class: "card handover", "aria-labelledby": "h-handover" },
    h("h3", { id: "h-handover" }, t("c_handover")),
    h("p", { class: "hint" }, t("c_handover_hint")),
    scheme ? h("div", { class: "native" },
      h("h4", {}, t("c_native_title", { name: p.name })),
      urlLine("native-url", t("c_native_url"), `${origin}${NATIVE[scheme].path}`, NATIVE[scheme].method),
      h("p", {}, t(NATIVE[scheme].configure)),
      h("p", {}, t("c_native_reference")),
      (p.credentials_set || []).some((n) => NATIVE_FIELDS[scheme].includes(n)) ? h("p", { class: "note note-ok" }, t("c_native_on")) : h("p", { class: "note note-warn" }, t("c_native_off"))) : null,
    h("div", { class: "own-api" },
      h("h4", {}, t("c_own_title")),
      urlLine("own-url", t("c_own_url"), own, "POST"),
      h("ol", { class: "steps" },
        h("li", {}, t("c_own_step_secret")),
        h("li", {}, t("c_own_step_sign"), " ", h("code", {}, "X-Signature: t=<unix>,v1=<hex HMAC-SHA256(signing_secret, \"<t>.<body>\")>")),
        h("li", {}, t("c_own_step_body")),
        h("li", {}, t("c_own_step_types"), " ", ["account.onboarded", "account.activated", "account.deactivated", "payment.received"].map((x, i) => [i ? ", " : "", h("code", {}, x)])),
        h("li", {}, t("c_own_step_retry"))),
      h("p", { class: "label" }, t("c_own_example")),
      h("pre", { class: "example", tabindex: "0", "aria-label": t("c_own_example") }, example),
      p.own_api_enabled ? h("p", { class: "note note-ok" }, t("c_own_on")) : h("p", { class: "note note-warn" }, t("c_own_off"))));
}

function money(amount) {
  return new Intl.NumberFormat(currentLang() === "en" ? "en-GB" : "vi-VN").format(amount) + " ₫";
}

async function activity(p) {
  const [notes, unmatched] = await Promise.all([
    api.getJSON(`/api/partners/${encodeURIComponent(p.code)}/notifications?limit=20`).catch((err) => (api.routeMissing(err) ? null : Promise.reject(err))),
    api.getJSON(`/api/partners/${encodeURIComponent(p.code)}/unmatched?limit=20`),
  ]);
  return [
    h("section", { class: "card", "aria-labelledby": "h-notes", id: "partner-notifications" },
      h("h3", { id: "h-notes" }, t("c_notes_title")),
      !notes ? h("p", { class: "muted" }, t("not_available_yet"))
        : notes.length ? table({
          caption: t("c_notes_title"),
          columns: [{ label: t("c_received") }, { label: t("c_note_type") }, { label: t("c_note_id") }, { label: t("c_note_result") }],
          rows: notes.map((n) => h("tr", { dataset: { note: n.id } },
            // The event's kind in words (partners/schemes/own.py); an unknown one as it came.
            h("td", { dataset: { type: n.type } }, t(`c_note_type_${n.type}`) !== `c_note_type_${n.type}` ? t(`c_note_type_${n.type}`) : h("code", {}, n.type)),
            h("td", {}, h("code", {}, n.external_id)),
            h("td", {}, t(`c_result_${n.result}`) !== `c_result_${n.result}` ? t(`c_result_${n.result}`) : (n.result || "—")))),
        }) : h("p", { class: "muted" }, t("c_notes_none"))),
    h("section", { class: "card", "aria-labelledby": "h-unmatched", id: "partner-unmatched" },
      h("h3", { id: "h-unmatched" }, t("c_unmatched_title")),
      h("p", { class: "hint" }, t("c_unmatched_hint")),
      unmatched.items.length ? table({
        caption: t("c_unmatched_title"),
        columns: [{ label: t("c_paid_at") }, { label: t("c_amount"), num: true }, { label: t("c_account") }, { label: t("c_reference") }, { label: t("c_note_id") }],
        rows: unmatched.items.map((u) => h("tr", {},
          h("td", {}, when(u.occurred_at)), h("td", { class: "num" }, money(u.amount)), h("td", {}, u.account_number || "—"),
          h("td", {}, u.reference || "—"), h("td", {}, h("code", {}, u.external_id)))),
      }) : h("p", { class: "muted" }, t("c_unmatched_none"))),
  ];
}

async function render(body) {
  partners = (await api.getJSON("/api/partners")).sort(order);
  const listBox = h("div", { class: "console-list" });
  const detail = h("div", { class: "console-detail", id: "partner-detail" });
  const drawList = () => mount(listBox, listSection(drawList));
  const drawDetail = async () => {
    const m = window.location.hash.match(/^#p-([A-Za-z0-9_-]+)$/);
    if (!m) {
      mount(detail, h("section", { class: "card muted-card" }, h("h2", {}, t("c_partners_help_title")), h("p", {}, t("c_partners_help"))));
      return;
    }
    let p;
    try { p = await api.getJSON(`/api/partners/${encodeURIComponent(m[1])}`); } catch (err) {
      mount(detail, h("p", { class: "form-error", role: "alert" }, problemText(err)));
      return;
    }
    const onSaved = async () => {
      partners = (await api.getJSON("/api/partners")).sort(order);
      drawList();
      await drawDetail();
    };
    mount(detail,
      h("section", { class: "card partner-head" },
        h("div", { class: "form-head" },
          h("h2", { id: "h-partner", tabindex: "-1" }, p.name, " ", h("span", { class: "muted small" }, p.code)),
          h("a", { href: "#", class: "btn btn-small btn-ghost", onclick: (ev) => { ev.preventDefault(); window.location.hash = ""; } }, t("close"))),
        h("p", { class: "muted" }, t(`c_kind_${p.kind}`), p.bins.length ? ` · ${t("c_bins", { bins: p.bins.join(", ") })}` : ""),
        // What the partner's own staff see when they sign in (its numbers, accounts, report import).
        h("p", {}, h("a", { href: `/partner?code=${encodeURIComponent(p.code)}`, class: "btn btn-small", id: "partner-page-link" }, t("p_go")))),
      supportForm(p, onSaved),
      credentialsForm(p, onSaved),
      handover(p),
      await activity(p));
    const head = document.getElementById("h-partner");
    head.focus({ preventScroll: true });
    head.scrollIntoView({ block: "start" });
  };
  mount(body, heading(t("c_partners_title"), t("c_partners_intro")), h("div", { class: "console-grid" }, listBox, detail));
  drawList();
  await drawDetail();
  window.onhashchange = () => { drawDetail(); };
}

consolePage("console-partners", render);
