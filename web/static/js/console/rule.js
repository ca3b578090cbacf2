// /console/rule (admins): the cashless-market rule. Its versions (in force, scheduled, superseded,
// withdrawn; a scheduled one is withdrawn before its day);
// new thresholds with the day they apply from; and, before anything is saved, the markets whose
// status the new rule would change (POST /api/programme/rule/preview, which writes nothing).

import { h, mount, toast } from "../lib/dom.js";
import { t, num, pct, targetPct, currentLang } from "../lib/i18n.js";
import * as api from "../lib/api.js";
import { clearErrors, focusFirstError, setError, showProblem } from "../lib/forms.js";
import { levelLabel } from "../lib/coverage.js";
import { today as vietnamToday } from "../lib/activity.js";
import { statusBadge } from "../lib/widgets.js";
import { confirmDialog } from "../lib/dialog.js";
import { consolePage, heading } from "./frame.js";
import { dayField, problemText, table, when } from "./ui.js";

const LEVELS = ["qr_issued", "qr_verified", "transacting", "fees_cashless"];

function thresholdsText(thresholds) {
  return Object.entries(thresholds).map(([l, v]) => `${levelLabel(l)} ≥ ${targetPct(v)}`).join(" · ") || "—";
}

function stateBadge(state) {
  const cls = { in_force: "state-sent", scheduled: "state-queued", superseded: "badge-muted", withdrawn: "badge-muted" }[state] || "badge-muted";
  return h("span", { class: `badge ${cls}`, dataset: { state } }, t(`c_rule_${state}`));
}

const EXAMPLE = "15/01/2027";

function dayText(value) {
  return new Date(value).toLocaleDateString(currentLang() === "en" ? "en-GB" : "vi-VN", { timeZone: "Asia/Ho_Chi_Minh", day: "2-digit", month: "2-digit", year: "numeric" });
}

function previewTable(preview, levels) {
  if (!preview.changes.length) return h("p", { class: "note note-ok", id: "preview-none" }, t("c_preview_none", { n: num(preview.markets) }));
  return h("div", {},
    h("p", { class: "note note-warn", id: "preview-summary" }, t("c_preview_some", { n: num(preview.changes.length), total: num(preview.markets) })),
    table({
      caption: t("c_preview_caption"),
      className: "preview-table",
      columns: [{ label: t("col_market") }, { label: t("c_from") }, { label: t("c_to") }, { label: t("col_stalls"), num: true },
        ...levels.map((l) => ({ label: levelLabel(l), num: true }))],
      rows: preview.changes.map((c) => h("tr", { dataset: { market: c.market_id, from: c.from, to: c.to } },
        h("td", {}, h("a", { href: `/markets/${c.market_id}` }, c.name)),
        h("td", {}, statusBadge(c.from)), h("td", {}, "→ ", statusBadge(c.to)),
        h("td", { class: "num" }, num(c.active_stalls)),
        levels.map((l) => h("td", { class: "num" }, `${pct(c.levels[l].share)} (${num(c.levels[l].count)})`)))),
    }));
}

async function render(body) {
  const [current, versions] = await Promise.all([
    api.getJSON("/api/programme/rule"),
    api.getJSON("/api/programme/rule/versions"),
  ]);
  const scheduled = versions.filter((v) => v.state === "scheduled");

  // ---- the form
  const rows = LEVELS.map((level) => {
    const on = level in current.thresholds;
    const box = h("input", { type: "checkbox", id: `r-use-${level}`, checked: on });
    const value = h("input", {
      id: `r-${level}`, type: "number", min: 0, max: 100, step: 1, inputmode: "numeric",
      value: on ? String(Math.round(current.thresholds[level] * 1000) / 10) : "", disabled: !on,
      "aria-describedby": `r-${level}-error`,
    });
    box.addEventListener("change", () => { value.disabled = !box.checked; if (box.checked && !value.value) value.value = "50"; value.focus(); stale(); });
    value.addEventListener("input", stale);
    return { level, box, value, el: h("div", { class: "rule-row", id: `r-${level}-field` },
      h("div", { class: "check" }, box, h("label", { for: box.id }, levelLabel(level))),
      h("div", { class: "pct-input" }, h("label", { for: value.id, class: "sr-only" }, t("c_threshold_of", { level: levelLabel(level) })), value, h("span", { "aria-hidden": "true" }, "%")),
      h("p", { class: "field-error", id: `r-${level}-error`, hidden: true })) };
  });
  const today = vietnamToday();
  // Day/month/year whatever the browser's language (lib/dayinput.js), with a calendar button.
  // Up to two years ahead: a year typed wrong (2207 for 2027) would schedule a rule that never comes.
  // The same day two years on, as the server counts it (coverage/rule.py): 29 February gives 28
  // February (a Date would roll over to 1 March, a day the server refuses).
  const [year, monthDay] = [Number(today.slice(0, 4)) + 2, today.slice(5)];
  const leap = (y) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const latest = `${year}-${monthDay === "02-29" && !leap(year) ? "02-28" : monthDay}`;
  const dateField = dayField("r-date", t("c_effective"), { hint: t("c_effective_hint", { example: EXAMPLE }), max: latest });
  dateField.day.input.addEventListener("input", stale);
  const formError = h("p", { class: "form-error", id: "r-form-error", role: "alert" });
  const previewBtn = h("button", { type: "submit", class: "btn btn-primary", id: "r-preview" }, t("c_preview"));
  const saveBtn = h("button", { type: "button", class: "btn", id: "r-save", disabled: true }, t("c_rule_save"));
  const previewBox = h("section", { id: "rule-preview", class: "card", "aria-live": "polite", "aria-label": t("c_preview_title") });
  let previewed = null; // the body the preview shown was made for

  function bodyOf() {
    clearErrors(form);
    const thresholds = {};
    let bad = false;
    for (const r of rows) {
      if (!r.box.checked) continue;
      const v = Number(r.value.value);
      if (r.value.value.trim() === "" || !Number.isFinite(v) || v < 0 || v > 100) { setError(`r-${r.level}`, t("c_bad_percent")); bad = true; continue; }
      const share = Math.round(v * 10) / 1000;  // tenths of a percent, as stored
      // 0 % (or less than 0.05 %, which rounds to it) is always met: a market would count
      // cashless on the other levels alone.
      if (share === 0) { setError(`r-${r.level}`, t("c_zero_percent")); bad = true; continue; }
      thresholds[r.level] = share;
    }
    if (!Object.keys(thresholds).length && !bad) { formError.textContent = t("c_rule_needs_one"); bad = true; }
    const read = dateField.day.read();
    const day = read.day;
    if (read.error) { setError("r-date", read.error); bad = true; }
    else if (day && day < today) { setError("r-date", t("c_date_past")); bad = true; }
    if (bad) { focusFirstError(form); return null; }
    const out = { thresholds };
    if (day && day !== today) out.effective_from = day;
    return out;
  }

  function stale() {
    if (previewed) {
      previewed = null;
      saveBtn.disabled = true;
      mount(previewBox, h("p", { class: "muted" }, t("c_preview_stale")));
    }
  }

  const form = h("form", { class: "card", id: "rule-form", novalidate: true, "aria-labelledby": "h-rule-form" },
    h("h2", { id: "h-rule-form" }, t("c_rule_new")),
    h("p", { class: "hint" }, t("c_rule_form_hint")),
    h("fieldset", { class: "field" }, h("legend", {}, t("c_thresholds")), rows.map((r) => r.el)),
    dateField.el,
    formError,
    h("div", { class: "row-actions" }, previewBtn, saveBtn));

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    formError.textContent = "";
    const payload = bodyOf();
    if (!payload) return;
    previewBtn.disabled = true;
    try {
      const { data } = await api.sendJSON("POST", "/api/programme/rule/preview", payload);
      previewed = JSON.stringify(payload);
      mount(previewBox, h("h2", { id: "h-preview", tabindex: "-1" }, t("c_preview_title")),
        h("p", { class: "hint" }, t("c_preview_basis")),
        previewTable(data, Object.keys(payload.thresholds)));
      saveBtn.disabled = false;
      document.getElementById("h-preview").focus();
    } catch (err) {
      if (err.problem && err.problem.field === "effective_from") setError("r-date", problemText(err));
      else if (err.problem && err.problem.errors) showProblem(formError, err.problem, { effective_from: "r-date", ...Object.fromEntries(rows.map((r) => [`thresholds.${r.level}`, `r-${r.level}`])) });
      else formError.textContent = problemText(err);
    } finally {
      previewBtn.disabled = false;
    }
  });

  saveBtn.addEventListener("click", async () => {
    const payload = bodyOf();
    if (!payload || JSON.stringify(payload) !== previewed) { stale(); return; }
    const ok = await confirmDialog({
      id: "rule-confirm", title: t("c_rule_confirm_title"),
      lines: [thresholdsText(payload.thresholds), payload.effective_from ? t("c_rule_confirm_later", { day: dayText(`${payload.effective_from}T00:00:00+07:00`) }) : t("c_rule_confirm_now")],
      ok: t("c_rule_save"), cancel: t("cancel"),
    });
    if (!ok) return;
    saveBtn.disabled = true;
    try {
      const { data } = await api.sendJSON("PUT", "/api/programme/rule", payload);
      toast(data.state === "scheduled" ? t("c_rule_saved_later", { v: data.version, day: dayText(data.effective_from) }) : t("c_rule_saved", { v: data.version }), "ok");
      await render(body);
    } catch (err) {
      formError.textContent = problemText(err);
      saveBtn.disabled = false;
    }
  });

  // ---- the rule now and its versions
  const now = h("section", { class: "card", "aria-labelledby": "h-rule-now", id: "rule-now" },
    h("h2", { id: "h-rule-now" }, t("c_rule_now", { v: current.version })),
    h("p", { class: "rule-line lead" }, thresholdsText(current.thresholds)),
    h("p", { class: "muted" }, current.created_by
      ? t("c_rule_since", { when: when(current.applied_at || current.created_at), who: current.created_by })
      : t("c_rule_since_start", { when: when(current.applied_at || current.created_at) })),
    scheduled.length ? h("div", { class: "note note-warn", id: "rule-scheduled" },
      scheduled.map((v) => h("p", {}, t("c_rule_waiting", { v: v.version, day: dayText(v.effective_from), parts: thresholdsText(v.thresholds) })))) : null);

  const history = h("section", { class: "card", "aria-labelledby": "h-rule-versions" },
    h("h2", { id: "h-rule-versions" }, t("c_rule_versions")),
    table({
      caption: t("c_rule_versions"),
      className: "versions-table",
      columns: [{ label: t("c_version"), num: true }, { label: t("c_thresholds") }, { label: t("c_effective_col") }, { label: t("c_col_state") }, { label: t("c_made_by") }],
      rows: versions.map((v) => h("tr", { dataset: { version: v.version } },
        h("td", { class: "num" }, String(v.version)),
        h("td", {}, thresholdsText(v.thresholds)),
        h("td", {}, dayText(v.effective_from)),
        h("td", {}, stateBadge(v.state),
          v.state === "withdrawn" && v.withdrawn_by ? h("span", { class: "sub" }, t("c_rule_withdrawn_by", { who: v.withdrawn_by, when: when(v.withdrawn_at) })) : null,
          v.state === "scheduled" ? h("button", { type: "button", class: "btn btn-small", id: `withdraw-${v.version}`, onclick: () => withdraw(v) }, t("c_rule_withdraw")) : null),
        h("td", {}, v.created_by || "—", h("span", { class: "sub" }, when(v.created_at))))),
    }));

  // A version scheduled by mistake: withdrawn before its day (kept in the history, never applied).
  async function withdraw(v) {
    const day = dayText(v.effective_from);
    const ok = await confirmDialog({
      id: "rule-withdraw-confirm", title: t("c_rule_withdraw_title", { v: v.version }),
      lines: [thresholdsText(v.thresholds), t("c_rule_withdraw_line", { v: v.version, day })],
      ok: t("c_rule_withdraw"), cancel: t("cancel"),
    });
    if (!ok) return;
    try {
      await api.sendJSON("POST", `/api/programme/rule/versions/${v.version}/withdraw`, {});
      toast(t("c_rule_withdrawn_done", { v: v.version }), "ok");
    } catch (err) {
      toast(problemText(err), "error");
    }
    await render(body);
  }

  mount(body,
    heading(t("c_rule_title"), t("c_rule_intro")),
    h("div", { class: "console-grid" }, h("div", {}, now, history), form),
    previewBox);
}

consolePage("console-rule", render);
