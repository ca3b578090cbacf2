// "Gói hỗ trợ chuyển đổi số" on a stall's page (users_want #21): what the household was consulted
// about, received or declined, item by item (POST /api/stalls/{id}/support, merchants/support.py).
// Saved through the outbox like every field change: sent now when online, later otherwise; the
// server takes the same body twice as once. Read from the server, or from the last answer kept on
// the device; with neither, the card says so and asks nothing (an unknown state is never shown
// as "nobody talked about it").

import { h, toast } from "../lib/dom.js";
import { t, errorText, describeError, time } from "../lib/i18n.js";
import * as api from "../lib/api.js";
import * as outbox from "../lib/outbox.js";

export const SUPPORT_ITEMS = ["sales_app", "digital_signature", "e_invoice", "domain", "payment_account", "ecommerce"];
const STATES = ["none", "offered", "delivered", "declined"];

/** The card, filled once the stall's records are read; `canEdit`: the caller may record them. */
export function supportCard(stall, canEdit) {
  const body = h("div", { id: "support-body" }, h("p", { class: "muted" }, t("loading")));
  const card = h("section", { class: "card", id: "support-card", "aria-labelledby": "support-h" },
    h("h2", { id: "support-h" }, t("support_title")),
    h("p", { class: "muted small" }, t("support_intro")),
    body);
  const key = `support.${stall.id}`;
  let shownRefusals = "";
  function load() {
    return api.cachedGet(key, `/api/stalls/${stall.id}/support`).then(async ({ value, stale, at }) => {
      if (!value) { card.remove(); return; }  // not offered by this server
      const mine = await ownRecords();
      shownRefusals = mine.refused.map((r) => r.id).join(",");
      draw(value, stale ? at : null, mine.queued, mine.refused);
    }, (err) => body.replaceChildren(h("p", { class: "note note-warn", id: "support-unknown" },
      err && err.name === "ApiError" ? describeError(err) : t("support_unknown"))));
  }
  load();
  // A change sent from the queue later and refused (someone changed the item meanwhile) is said
  // here at once, with the server's answer drawn again, while the page is open.
  const onOutbox = async () => {
    if (!card.isConnected) { window.removeEventListener("choso:outbox", onOutbox); return; }
    const mine = await ownRecords();
    if (mine.refused.map((r) => r.id).join(",") !== shownRefusals) load();
  };
  window.addEventListener("choso:outbox", onOutbox);

  /** This device's changes to the stall's package: waiting in the queue (oldest first), and those
   * the server refused. */
  async function ownRecords() {
    try {
      const rows = (await outbox.list()).filter((r) => r.kind === "support" && r.stall_id === stall.id);
      return {
        queued: rows.filter((r) => ["queued", "sending"].includes(r.state)).map((r) => (r.body && r.body.items) || {}),
        refused: rows.filter((r) => r.state === "failed"),
      };
    } catch {
      return { queued: [], refused: [] };
    }
  }

  /** A refused change: why, and a button to drop it (the card then shows what the server has). */
  function refusal(rec) {
    const drop = h("button", { type: "button", class: "btn btn-small", dataset: { record: rec.id } }, t("support_drop"));
    drop.addEventListener("click", async () => { await outbox.remove(rec.id); load(); });
    return h("div", { class: "note note-warn support-refused", role: "alert" },
      h("p", {}, errorText(rec.error && rec.error.code)), drop);
  }

  function draw(value, staleAt, queued, refused = []) {
    const saved = Object.fromEntries((value.items || []).map((r) => [r.item, r.state]));
    // What this device already decided and has not sent yet shows as decided.
    for (const items of queued) {
      for (const [item, state] of Object.entries(items)) { if (state) saved[item] = state; else delete saved[item]; }
    }
    const summary = h("p", { id: "support-summary" });
    const sayHowMany = () => {
      const n = Object.keys(saved).length;
      summary.textContent = n ? t("support_consulted", { n, total: SUPPORT_ITEMS.length }) : t("support_not_yet");
    };
    const chosen = { ...saved };
    const error = h("p", { class: "form-error", role: "alert", id: "support-error" });
    const rows = SUPPORT_ITEMS.map((item) => {
      const group = h("div", { class: "chips", role: "radiogroup", "aria-labelledby": `support-${item}-label`, dataset: { item } });
      for (const state of canEdit ? STATES : []) {
        const id = `support-${item}-${state}`;
        const radio = h("input", { type: "radio", name: `support-${item}`, id, value: state, class: "chip-input", checked: (saved[item] || "none") === state });
        radio.addEventListener("change", () => { chosen[item] = state === "none" ? undefined : state; error.textContent = ""; });
        group.append(radio, h("label", { for: id, class: "chip" }, t(`support_${state}`)));
      }
      return h("div", { class: "support-item", dataset: { item, state: saved[item] || "none" } },
        h("p", { id: `support-${item}-label`, class: "support-label" }, h("strong", {}, t(`support_item_${item}`)),
          canEdit ? null : [" · ", t(`support_${saved[item] || "none"}`)]),
        canEdit ? group : null);
    });
    const save = canEdit ? h("button", { type: "button", class: "btn", id: "support-save" }, t("support_save")) : null;
    if (save) {
      save.addEventListener("click", async () => {
        const items = {};
        const was = {};  // what this device saw: the server refuses a change made over someone else's
        for (const item of SUPPORT_ITEMS) {
          if ((chosen[item] || null) !== (saved[item] || null)) { items[item] = chosen[item] || null; was[item] = saved[item] || null; }
        }
        if (!Object.keys(items).length) { toast(t("support_nothing"), "info"); return; }
        save.disabled = true;
        try {
          const rec = await outbox.add("support", { stall_id: stall.id, market_id: stall.market_id, label: stall.stall_code, body: { items, was } });
          const done = navigator.onLine ? await outbox.sendOne(rec.id) : rec;
          if (done.state === "failed") { error.textContent = errorText(done.error.code); return; }
          for (const [item, state] of Object.entries(items)) {
            if (state) saved[item] = state; else delete saved[item];
          }
          // What the device now knows, for the next time the page opens offline.
          // The server's answer when it came (the time is now); otherwise the last answer as it was,
          // with its own time (the queued change is laid over it when the page is drawn again).
          const answer = done.state === "sent" && done.result && done.result.stall && done.result.stall.items;
          if (answer) api.cache.set(key, { stall_id: stall.id, items: answer });
          for (const row of rows) row.dataset.state = saved[row.dataset.item] || "none";
          sayHowMany();
          toast(done.state === "sent" ? t("support_saved") : t("edit_queued"), done.state === "sent" ? "ok" : "warn", 8000, "saved");
        } finally {
          save.disabled = false;
        }
      });
    }
    body.replaceChildren(...[
      ...refused.map(refusal),
      staleAt ? h("p", { class: "note note-warn" }, t("stale_data", { time: time(staleAt) })) : null,
      summary,
      h("div", { class: "support-items" }, rows),
      error,
      save ? h("div", { class: "row-actions" }, save) : null,
    ].filter(Boolean));
    sayHowMany();
  }
  return card;
}
