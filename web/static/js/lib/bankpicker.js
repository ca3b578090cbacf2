// A searchable bank picker (ARIA combobox): by name, short name, code or the 6-digit number, ignoring
// diacritics. Volunteers see banks by name; the 6-digit number (the BIN) is never shown as jargon.

import { h, clear, closeOnBlur } from "./dom.js";
import { t } from "./i18n.js";
import { fold } from "./text.js";

export const POPULAR = ["970422", "970436", "970415", "970418", "970405", "970407", "971025", "971005"];
const MAX = 8;

/**
 * One row per institution. Rows with the same BIN are the same bank. The directory also lists a
 * few institutions under two BINs because its sources disagree (CIMB 422589 and 970459, Mirae
 * Asset 977777 and 970468 share a `code`): the list shows such a bank once, under the number
 * VietQR routes on, which is the one outside the card-BIN range 9704xx; the other number still
 * names the bank when it is typed or scanned.
 */
export function pickerRows(banks) {
  const byBin = new Map();
  for (const b of banks || []) if (b && b.bin && !byBin.has(b.bin)) byBin.set(b.bin, b);
  const byCode = new Map();
  for (const b of byBin.values()) {
    const key = b.code ? `code:${String(b.code).toUpperCase()}` : `bin:${b.bin}`;
    const kept = byCode.get(key);
    if (!kept || (kept.bin.startsWith("9704") && !b.bin.startsWith("9704"))) byCode.set(key, b);
  }
  const kept = new Set(byCode.values());
  return [...byBin.values()].filter((b) => kept.has(b));
}

/** A bank as volunteers know it: its short name and full name; a bare number only when unknown. */
export function bankLabel(bank) {
  if (!bank) return "";
  if (!bank.name || bank.unknown) return t("bank_by_code", { code: bank.bin });
  return bank.short_name && bank.short_name !== bank.name ? `${bank.short_name} — ${bank.name}` : bank.name;
}

/** The short name of the bank with this BIN, from a list of banks (a plain description when unknown). */
export function bankShort(banks, bin) {
  const b = (banks || []).find((x) => x.bin === bin);
  return b ? b.short_name || b.name : t("bank_by_code", { code: bin });
}

function index(banks) {
  return pickerRows(banks).map((b) => ({ bank: b, bin: b.bin, code: fold(b.code), short: fold(b.short_name), name: fold(b.name) }));
}

export function search(rows, query) {
  const q = fold(query);
  if (!q) return [];
  const hits = [];
  for (const r of rows) {
    let rank = null;
    if (q === r.bin || q === r.code || q === r.short) rank = 0;
    else if (r.bin.startsWith(q) || r.code.startsWith(q) || r.short.startsWith(q)) rank = 1;
    else if (r.code.includes(q) || r.short.includes(q) || r.name.includes(q)) rank = 2;
    else if (q.split(" ").every((w) => r.name.includes(w) || r.short.includes(w))) rank = 3;
    if (rank !== null) hits.push([rank, r.bank]);
  }
  // Among equally good matches, the banks most stalls use first ("vietc": Vietcombank, then the rest).
  const usual = (bank) => { const i = POPULAR.indexOf(bank.bin); return i < 0 ? POPULAR.length : i; };
  hits.sort((a, b) => a[0] - b[0] || usual(a[1]) - usual(b[1]));
  return hits.map((x) => x[1]);
}

/**
 * bankPicker({id, banks, onChange}) -> {el, input, get(), set(bin), setBanks(banks)}
 * `id` is given to the search input, so labels and errors attach to it.
 */
export function bankPicker({ id, banks = [], onChange = () => {} }) {
  let rows = index(banks);
  let byBin = new Map(banks.map((b) => [b.bin, b]));
  let chosen = null;
  let options = [];
  let active = -1;

  const listId = `${id}-list`;
  const input = h("input", {
    id, type: "text", role: "combobox", autocomplete: "off", spellcheck: "false",
    "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": listId,
    placeholder: t("bank_placeholder"),
  });
  const list = h("ul", { id: listId, role: "listbox", class: "options", hidden: true, "aria-label": t("bank") });
  const empty = h("p", { class: "hint", hidden: true });
  const chipText = h("span", { class: "chip-text" });
  const changeBtn = h("button", { type: "button", class: "btn btn-small", "aria-label": t("bank_change_aria") }, t("bank_change"));
  const chosenBox = h("div", { class: "bank-chosen", hidden: true }, chipText, changeBtn);
  const popular = h("div", { class: "popular" });
  const searchBox = h("div", { class: "bank-search" }, input, list, empty, popular);
  const el = h("div", { class: "bankpicker" }, chosenBox, searchBox);

  const label = bankLabel;

  function drawPopular() {
    clear(popular);
    const picks = POPULAR.map((bin) => byBin.get(bin)).filter(Boolean);
    if (!picks.length) return;
    popular.append(h("span", { class: "hint" }, t("bank_popular")));
    for (const b of picks) {
      popular.append(h("button", { type: "button", class: "btn btn-small chip", onclick: () => choose(b) }, b.short_name));
    }
  }

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(i) {
    active = i;
    options.forEach((li, j) => li.setAttribute("aria-selected", j === i ? "true" : "false"));
    if (i >= 0 && options[i]) {
      input.setAttribute("aria-activedescendant", options[i].id);
      options[i].scrollIntoView({ block: "nearest" });
    }
  }

  function render() {
    const q = input.value.trim();
    let found = search(rows, q).slice(0, MAX);
    const digits = q.replace(/\s/g, "");
    // A number typed in full names its bank even when the list shows that bank under another number.
    const exact = /^\d{6}$/.test(digits) ? byBin.get(digits) : null;
    if (exact && !found.some((b) => b.bin === digits)) found = [exact, ...found.filter((b) => b.code !== exact.code)].slice(0, MAX);
    const manual = /^\d{6}$/.test(digits) && !found.some((b) => b.bin === digits);
    clear(list);
    options = found.map((b, i) => {
      const li = h("li", { id: `${id}-opt-${i}`, role: "option", "aria-selected": "false", class: "option" },
        h("strong", {}, b.short_name), " ", h("span", { class: "muted" }, b.name));
      li.addEventListener("click", () => choose(b));
      return li;
    });
    if (manual) {
      const li = h("li", { id: `${id}-opt-bin`, role: "option", "aria-selected": "false", class: "option" }, t("bank_use_bin", { bin: digits }));
      li.addEventListener("click", () => choose({ bin: digits, short_name: "", name: "", code: "", unknown: true }));
      options.push(li);
    }
    list.append(...options);
    const open = q.length > 0 && options.length > 0;
    list.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    empty.hidden = !(q.length > 0 && options.length === 0);
    empty.textContent = rows.length ? t("bank_none") : t("bank_list_missing");
    popular.hidden = q.length > 0;
    highlight(options.length ? 0 : -1);
  }

  function choose(b, { silent = false } = {}) {
    chosen = b;
    chipText.textContent = label(b);
    chosenBox.hidden = !b;
    searchBox.hidden = !!b;
    input.value = "";
    close();
    if (!silent) {
      onChange(b);
      changeBtn.focus();
    }
  }

  input.addEventListener("input", render);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown") { ev.preventDefault(); if (list.hidden) render(); else highlight(Math.min(options.length - 1, active + 1)); }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); highlight(Math.max(0, active - 1)); }
    else if (ev.key === "Enter") { if (!list.hidden && active >= 0) { ev.preventDefault(); options[active].click(); } }
    else if (ev.key === "Escape") { close(); }
  });
  closeOnBlur(input, close);
  changeBtn.addEventListener("click", () => {
    chosen = null;
    chosenBox.hidden = true;
    searchBox.hidden = false;
    onChange(null);
    input.focus();
  });

  drawPopular();
  return {
    el, input,
    get: () => chosen,
    set(bin) {
      if (!bin) { chosen = null; chosenBox.hidden = true; searchBox.hidden = false; return; }
      choose(byBin.get(bin) || { bin, short_name: "", name: "", code: "", unknown: true }, { silent: true });
    },
    setBanks(list2) {
      rows = index(list2);
      byBin = new Map(list2.map((b) => [b.bin, b]));
      drawPopular();
      if (chosen && byBin.get(chosen.bin)) choose(byBin.get(chosen.bin), { silent: true });
    },
    focus: () => (chosen ? changeBtn.focus() : input.focus()),
  };
}
