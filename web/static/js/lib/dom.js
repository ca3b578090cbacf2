// Small DOM helpers. Elements are built node by node (never from HTML strings), so names and
// other data typed by people can never become markup, and no inline style attribute is written
// (the page's CSP forbids them); dynamic sizes go through element.style (the CSSOM), which CSP allows.

import { t } from "./i18n.js";

const SVG_NS = "http://www.w3.org/2000/svg";

function applyAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "value" || key === "checked" || key === "selected" || key === "indeterminate") el[key] = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === "") continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** h("button", {class: "btn", onclick}, "Text", otherNode) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

/** The same for SVG elements. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function mount(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/** Say something to screen-reader users (and keep it in the live region). */
export function announce(message) {
  const live = document.getElementById("live");
  if (!live) return;
  live.textContent = "";
  window.setTimeout(() => { live.textContent = message; }, 30);
}

/**
 * A message at the top of the page. kind: info | ok | warn | error. There is one banner slot: a new
 * message replaces whatever banner shows (volunteers found a pile of old banners confusing), and
 * every banner can be closed. ms = 0 keeps it until it is closed or replaced. `key` names the
 * message for dropToast(). A warning or error belongs to the page it was shown on (dropStaleToasts).
 */
export function toast(message, kind = "info", ms = 6000, key = null, action = null) {
  const area = document.getElementById("banners");
  if (!area) return null;
  for (const old of area.querySelectorAll(".banner")) old.remove();
  const close = h("button", { type: "button", class: "banner-close", "aria-label": t("close"), title: t("close") }, "×");
  const banner = h("div", { class: `banner banner-${kind}`, role: kind === "error" ? "alert" : "status", dataset: { toast: key || "any", page: window.location.hash } },
    h("span", { class: "banner-text" }, message), action, close);
  close.addEventListener("click", () => banner.remove());
  area.append(banner);
  if (ms) window.setTimeout(() => banner.remove(), ms);
  return banner;
}

export function dropToast(key) {
  const area = document.getElementById("banners");
  if (area) for (const b of area.querySelectorAll(`.banner[data-toast="${key}"]`)) b.remove();
}

/**
 * On a page change: a warning or an error shown on another page goes (it was about what that page
 * did: "not saved" must not sit over the next page). Confirmations stay their few seconds, and so
 * do the network state (key "net"), which is about the whole app, and "saved on this device, sent
 * when online" (key "saved"), said as the form hands over to the page it saved.
 */
export function dropStaleToasts(page) {
  const area = document.getElementById("banners");
  if (!area) return;
  for (const b of area.querySelectorAll(".banner-warn, .banner-error")) {
    if (b.dataset.page !== page && b.dataset.toast !== "net" && b.dataset.toast !== "saved") b.remove();
  }
}

/** Percentage bar with an optional threshold marker; value and target are shares 0..1. */
export function progressBar(value, { target = null, label = "", kind = "" } = {}) {
  const pct = Math.max(0, Math.min(1, Number(value) || 0));
  const fill = h("span", { class: "bar-fill" });
  fill.style.width = `${(pct * 100).toFixed(1)}%`;
  const bar = h("span", {
    class: ["bar", kind, target !== null && target !== undefined ? (pct >= target ? "bar-met" : "bar-below") : "bar-plain"],
    role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100,
    "aria-valuenow": Math.floor(pct * 100 + 1e-9), "aria-label": label,  // as pct() reads it
  }, fill);
  if (target !== null && target !== undefined) {
    const mark = h("span", { class: "bar-target", "aria-hidden": "true" });
    mark.style.left = `${(Math.max(0, Math.min(1, target)) * 100).toFixed(1)}%`;
    bar.append(mark);
  }
  return bar;
}

// A suggestion list closes when its field loses the focus, a moment later so a click on an option still
// lands; not when the field has the focus back by then (choose, "Đổi", type at once: the list stays
// open for Enter).
export function closeOnBlur(input, close, ms = 200) {
  input.addEventListener("blur", () => window.setTimeout(() => { if (document.activeElement !== input) close(); }, ms));
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => fn(...args), ms);
  };
}

/** Save data as a JSON file on the device (a data-subject export). */
export function saveJson(data, filename) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
  const a = h("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60 * 1000);
}
