// The send queue: every record made on this device, with its state, and "Gửi ngay".

import { h, mount } from "../lib/dom.js";
import { t, addStrings, dateTime } from "../lib/i18n.js";
import * as outbox from "../lib/outbox.js";
import { stateBadge, retryLine } from "./common.js";
import { sharedAccountChoice } from "./register.js";

addStrings({
  vi: {
    queue_offline_tap: "Chưa gửi được: máy đang mất mạng. Hồ sơ vẫn nằm trên máy và sẽ tự gửi khi có mạng trở lại.",
    queue_fix_note: "{n} hồ sơ bị máy chủ từ chối: gửi lại cũng không được. Ở hồ sơ đó, bấm Sửa và sửa theo lời nhắn, hoặc trả lời câu hỏi của nó." },
  en: {
    queue_offline_tap: "Not sent: this device is offline. The records stay on it and are sent by themselves when the network is back.",
    queue_fix_note: "{n} record(s) refused by the server: sending again will not help. On that record, press Edit and fix what the message says, or answer its question." },
});

export async function outboxView(ctx) {
  const list = h("ul", { class: "record-list", id: "record-list" });
  const sendBtn = h("button", { type: "button", class: "btn btn-primary btn-big", id: "send-now-all" }, t("send_now"));
  const offlineNote = h("p", { class: "note note-warn", id: "queue-offline", role: "status", hidden: navigator.onLine }, t("queue_offline"));
  // Refused records wait for someone to fix them, not for the network: said first.
  const fixNote = h("p", { class: "note note-error", id: "queue-fix-note", role: "status", hidden: true });
  sendBtn.addEventListener("click", async () => {
    // Offline nothing can go: said where the button is (a tap did nothing that could be seen).
    if (!navigator.onLine) {
      offlineNote.hidden = false;
      offlineNote.textContent = t("queue_offline_tap");
      offlineNote.scrollIntoView({ block: "nearest" });
      return;
    }
    sendBtn.disabled = true;
    try { await outbox.flush({ force: true }); } finally { sendBtn.disabled = false; }
  });

  async function draw() {
    const rows = (await outbox.list()).reverse();
    const refused = rows.filter((r) => r.state === "failed").length;
    fixNote.hidden = !refused;
    fixNote.textContent = refused ? t("queue_fix_note", { n: refused }) : "";
    // "Gửi ngay" only when something is waiting to be sent.
    sendBtn.hidden = !rows.some((r) => r.state === "queued");
    list.replaceChildren();
    if (!rows.length) list.append(h("li", { class: "empty" }, t("queue_empty")));
    for (const rec of rows) {
      const market = ctx.market(rec.market_id);
      const actions = [];
      if (rec.state === "failed") {
        if (rec.kind === "register") actions.push(h("a", { href: `#/m/${rec.market_id}/new/${rec.id}`, class: "btn btn-small btn-primary" }, t("edit")));
        else if (rec.kind === "patch") actions.push(h("a", { href: `#/s/${rec.stall_id}/edit`, class: "btn btn-small btn-primary" }, t("edit")));
        // A support change refused because someone recorded the item meanwhile: sending it again
        // can only be refused again; the stall's card shows what was recorded, to choose again.
        else if (rec.kind === "support") actions.push(h("a", { href: `#/s/${rec.stall_id}`, class: "btn btn-small btn-primary" }, t("view")));
        // An added or corrected account another stall of the market is paid into: sent again
        // without the check once the volunteer confirms both stalls are paid into it.
        else if (rec.error && rec.error.code === "account_in_use" && rec.body) {
          const { check_shared_account: _, ...body } = rec.body;
          actions.push(sharedAccountChoice(rec.error, () => outbox.revise(rec.id, { body }).then(() => outbox.flush({ force: true }))));
        } else actions.push(h("button", { type: "button", class: "btn btn-small", onclick: () => outbox.retry(rec.id).then(() => outbox.flush({ force: true })) }, t("resend")));
      }
      if (rec.state === "sent" && rec.result && rec.result.stall_id) {
        actions.push(h("a", { href: `#/s/${rec.result.stall_id}`, class: "btn btn-small" }, t("view")));
      }
      if (rec.state === "failed" || (rec.state === "queued" && rec.kind !== "register")) {
        actions.push(h("button", {
          type: "button", class: "btn btn-small btn-ghost",
          onclick: async () => { if (window.confirm(t("delete_record_confirm"))) await outbox.remove(rec.id); },
        }, t("delete")));
      }
      list.append(h("li", { class: ["record", `record-${rec.state}`], dataset: { record: rec.id, state: rec.state } },
        h("div", { class: "record-main" },
          h("span", { class: "record-title" }, rec.label || "—"),
          h("span", { class: "sub" }, [t(`kind_${rec.kind}`), market ? market.name : "", dateTime(rec.created_at)].filter(Boolean).join(" · ")),
          retryLine(rec)),
        stateBadge(rec),
        actions.length ? h("div", { class: "record-actions" }, actions) : null));
    }
  }

  const onChange = () => draw();
  const onNet = () => { offlineNote.hidden = navigator.onLine; };
  window.addEventListener("choso:outbox", onChange);
  window.addEventListener("online", onNet);
  window.addEventListener("offline", onNet);
  ctx.cleanup = () => {
    window.removeEventListener("choso:outbox", onChange);
    window.removeEventListener("online", onNet);
    window.removeEventListener("offline", onNet);
  };

  mount(ctx.main,
    h("h1", {}, t("queue_title")),
    h("p", { class: "muted" }, t("queue_intro")),
    fixNote,
    offlineNote,
    h("div", { class: "row-actions" }, sendBtn,
      h("button", { type: "button", class: "btn btn-ghost", onclick: () => outbox.clearSent() }, t("clear_sent"))),
    list);
  await draw();
}
