// Printing a market's signs as a print job: the server freezes the stalls and payloads, the PDF
// opens, and the signs count as issued only once the person confirms the sheets came out.
import { h, clear, toast, dropToast } from "./dom.js";
import { t, describeError, addStrings } from "./i18n.js";
import * as api from "./api.js";

addStrings({
  vi: {
    print_job_stopped: "{n} biển dùng tài khoản mà ngân hàng hoặc ví đã tạm ngưng hoặc gỡ: {codes}. Hỏi lại chủ sạp trước khi treo biển.",
    print_job_confirm_others: "Đã in, trừ {n} biển này (chưa treo)",
    print_job_shortened: "{n} biển in rút gọn chữ quá dài (có dấu \"…\"): {list}. Muốn in đủ, hãy sửa các sạp này cho ngắn hơn rồi in lại.",
  },
  en: {
    print_job_stopped: "{n} {n|sign uses|signs use} an account its bank or wallet suspended or removed: {codes}. Ask the stallholder before hanging it.",
    print_job_confirm_others: "Printed, except these {n} (not hung)",
    print_job_shortened: "{n} {n|sign shortens|signs shorten} text that is too long (marked \"…\"): {list}. To print it whole, shorten it on the stall and print again.",
  },
});

/** Create a print job for a market, open its PDF, and offer the confirmation in `box`. */
export async function printJob(marketId, body, box, onConfirmed) {
  let job;
  try {
    job = (await api.sendJSON("POST", `/api/markets/${marketId}/print-jobs`, body)).data;
  } catch (err) {
    toast(describeError(err), err.code === "nothing_to_print" ? "warn" : "error");
    return;
  }
  toast(t("pdf_opening"), "info", 6000, "pdf");
  try {
    await api.openFile(job.pdf_url, `bien-${marketId}-${job.id}.pdf`);
    dropToast("pdf");
  } catch (err) {
    toast(describeError(err), "error");
    return;
  }
  showConfirm(job, box, onConfirmed);
}

function showConfirm(job, box, onConfirmed) {
  clear(box);
  // Every sign of the job, or (stall_ids) all but those left out.
  const confirm = async (stallIds = null) => {
    try {
      const done = (await api.sendJSON("POST", `/api/print-jobs/${job.id}/confirm`, stallIds ? { stall_ids: stallIds } : {})).data;
      clear(box);
      toast(t("print_job_confirmed", { n: done.confirmed_count }), "ok");
      if (onConfirmed) onConfirmed(done);
    } catch (err) {
      toast(describeError(err), "error");
    }
  };
  // The market's signs print each stall's first account its bank or wallet has not stopped; a stall
  // with no other account still gets its sign, said here (as the stall's own sign page says it).
  const stopped = job.stalls.filter((s) => s.account_stopped);
  // Those signs may stay off the count ("Đã in biển"): a sign that will not be hung is not issued.
  const others = job.stalls.filter((s) => !s.account_stopped).map((s) => s.stall_id);
  // Signs that show a text only in part (too long: "…"), as one stall's sign page says it.
  const cut = job.stalls.filter((s) => s.sign_shortened && s.sign_shortened.length);
  const cutList = cut.map((s) => `${s.stall_code} (${s.sign_shortened.map((x) => t(`cut_${x}`)).join(", ")})`).join("; ");
  box.append(h("div", { class: "card print-confirm", role: "region", "aria-label": t("print_job_title") },
    stopped.length ? h("p", { class: "note note-warn", id: "print-job-stopped" }, t("print_job_stopped", { n: stopped.length, codes: stopped.map((s) => s.stall_code).join(", ") })) : null,
    cut.length ? h("p", { class: "note note-warn", id: "print-job-shortened" }, t("print_job_shortened", { n: cut.length, list: cutList })) : null,
    h("p", {}, t("print_job_question", { n: job.stall_count })),
    h("div", { class: "row-actions" },
      h("button", { type: "button", class: "btn btn-primary", id: "confirm-print-job", onclick: () => confirm() }, t("print_job_confirm")),
      stopped.length && others.length
        ? h("button", { type: "button", class: "btn", id: "confirm-print-job-others", onclick: () => confirm(others) }, t("print_job_confirm_others", { n: stopped.length }))
        : null,
      h("button", { type: "button", class: "btn", onclick: () => api.openFile(job.pdf_url, `bien-${job.market_id}-${job.id}.pdf`).catch(() => null) }, t("print_job_reopen")),
      h("button", { type: "button", class: "btn", onclick: () => clear(box) }, t("print_job_later")))));
}
