// The markets map, drawn with Leaflet and Leaflet.markercluster (served from their XStatic packages,
// see web/router.py). One dot per market, coloured by status and sized by stall count; markets close
// together gather into a numbered ring (its arcs show their statuses) that splits as you zoom in; a
// name is shown only where it overlaps nothing else (a collision pass after every move), so the map
// never becomes an unreadable heap. A search box finds a market whatever the accents, zooms to it
// and opens its popup. Backdrop: the configured tile server (MAP_TILE_URL), otherwise ward names at
// their reference points (GET /map/wards.json), so the map works offline.
//
// The page's CSP allows no inline script or style: everything here is built node by node and
// dynamic sizes and colours go through element.style (the CSSOM), as Leaflet does itself.

import { h, s, announce, closeOnBlur } from "./dom.js";
import { t, num, pct, addStrings } from "./i18n.js";

// The place picker's own words (pointPicker: the console's market form, service points).
addStrings({
  vi: {
    c_pick_centre: "Đặt điểm ở giữa bản đồ",
    c_pick_hint: "Bấm vào bản đồ để đặt điểm; dùng phím mũi tên để di chuyển bản đồ.",
  },
  en: {
    c_pick_centre: "Put the point at the map's centre",
    c_pick_hint: "Click the map to put the point; the arrow keys move the map.",
  },
});
import { fold } from "./text.js";
import { statusClass, statusLabel, STATUSES, levelShare } from "./coverage.js";

const VENDOR = document.body.dataset.vendor || "/static/vendor/";
const CITY = { center: [16.05, 108.2], zoom: 12 }; // Đà Nẵng, when no market has a point
const FOCUS_ZOOM = 14; // a market found by the search is shown at least this close (streets, ~10 m a pixel)
const MAX_ZOOM = 18;
const AIM_ZOOM = 16; // a place picked around a market: its gates and the streets beside it (~2 m a pixel)
const UNKNOWN_COLOUR = "#8a96a3";
const POPUP_CLEAR_LEFT = 64; // px: the zoom buttons (44 px wide, 10 px in) and a gap
const WARD_OFFSETS = [0, -22, 22, -36, 36]; // px above/below the reference point a ward name may sit
const reducedMotion = () => window.matchMedia("(prefers-reduced-motion: reduce)").matches;

// ---- Loading the library (once per page) ----

const loads = new Map();

function loadOnce(url, start) {
  if (!loads.has(url)) {
    const promise = start();
    loads.set(url, promise);
    promise.catch(() => loads.delete(url)); // a later map may try again (e.g. back online)
  }
  return loads.get(url);
}

function stylesheet(href) {
  return loadOnce(href, () => new Promise((resolve, reject) => {
    const link = h("link", { rel: "stylesheet", href });
    link.addEventListener("load", resolve);
    link.addEventListener("error", () => { link.remove(); reject(new Error(`cannot load ${href}`)); });
    // Before app.css, so the app's rules win over the library's defaults.
    document.head.insertBefore(link, document.querySelector('link[rel="stylesheet"][href$="/app.css"]'));
  }));
}

function script(src) {
  return loadOnce(src, () => new Promise((resolve, reject) => {
    const el = h("script", { src });
    el.addEventListener("load", resolve);
    el.addEventListener("error", () => { el.remove(); reject(new Error(`cannot load ${src}`)); });
    document.head.append(el);
  }));
}

/** Leaflet with marker clustering, loaded on first use; resolves to the global `L`. */
export function loadLeaflet() {
  const css = Promise.all([
    stylesheet(`${VENDOR}leaflet/leaflet.css`),
    stylesheet(`${VENDOR}leaflet.markercluster/MarkerCluster.css`),
  ]);
  // The clustering plug-in extends the global L, so it loads after Leaflet.
  const js = script(`${VENDOR}leaflet/leaflet.js`)
    .then(() => script(`${VENDOR}leaflet.markercluster/leaflet.markercluster.js`));
  return Promise.all([css, js]).then(() => window.L);
}

// ---- Search ----

/**
 * Markets whose name matches, best first, ignoring accents and case: the whole name, then names
 * with a word starting with the query ("han" finds "Chợ Hàn", not "Chợ Hòa Khánh"), then names
 * where every word of the query starts a word ("cho dong" finds "Chợ Đống Đa").
 */
export function findMarkets(markets, query) {
  const q = fold(query);
  if (!q) return [];
  const terms = q.split(" ");
  const hits = [];
  for (const m of markets) {
    const name = fold(m.name);
    const words = name.split(" ");
    let rank = null;
    if (name === q || name === `cho ${q}`) rank = 0;
    else if (name.startsWith(q) || name.includes(` ${q}`)) rank = 1;
    else if (terms.every((term) => words.some((w) => w.startsWith(term)))) rank = 2;
    if (rank !== null) hits.push([rank, m]);
  }
  hits.sort((a, b) => a[0] - b[0] || a[1].name.localeCompare(b[1].name, "vi"));
  return hits.map(([, m]) => m);
}

const MAX_RESULTS = 8;

/** A labelled ARIA combobox over the markets; `onPick(market)` when one is chosen. */
function searchBox(markets, onPick) {
  const id = "map-search";
  const listId = `${id}-list`;
  let options = [];
  let found = [];
  let active = -1;
  const input = h("input", {
    id, type: "search", role: "combobox", autocomplete: "off", spellcheck: "false",
    "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": listId,
    "aria-describedby": `${id}-hint`, enterkeyhint: "search",
  });
  const list = h("ul", { id: listId, role: "listbox", class: "options map-options", hidden: true, "aria-label": t("map_search") });
  const none = h("p", { class: "hint map-search-none", role: "status" });
  const el = h("div", { class: "field map-search" },
    h("label", { for: id }, t("map_search")),
    h("p", { class: "hint", id: `${id}-hint` }, t("map_search_hint")),
    h("div", { class: "map-search-box" }, input, list),
    none);

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
    found = findMarkets(markets, input.value).slice(0, MAX_RESULTS);
    options = found.map((m, i) => {
      const li = h("li", { id: `${id}-opt-${i}`, role: "option", "aria-selected": "false", class: "option" },
        h("strong", {}, m.name), " ",
        h("span", { class: "muted" }, [m.ward, statusLabel(m.status)].filter(Boolean).join(" · ")));
      li.addEventListener("click", () => choose(m));
      return li;
    });
    list.replaceChildren(...options);
    const typed = input.value.trim().length > 0;
    list.hidden = !(typed && options.length);
    input.setAttribute("aria-expanded", list.hidden ? "false" : "true");
    none.textContent = typed && !options.length ? t("map_search_none") : "";
    highlight(options.length ? 0 : -1);
  }

  function choose(m) {
    input.value = m.name;
    close();
    onPick(m);
  }

  input.addEventListener("input", render);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown") {
      ev.preventDefault();
      if (list.hidden) render(); else highlight(Math.min(options.length - 1, active + 1));
    } else if (ev.key === "ArrowUp") {
      ev.preventDefault();
      highlight(Math.max(0, active - 1));
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      if (list.hidden) render();
      if (found.length) choose(found[Math.max(0, active)]);
    } else if (ev.key === "Escape") {
      close();
    }
  });
  closeOnBlur(input, close);
  return el;
}

// ---- The map ----

const maps = new Set(); // maps drawn on this page; a re-render (language switch) replaces them

function hasPoint(m) {
  return Number.isFinite(m.lat) && Number.isFinite(m.lon);
}

function colour(status) {
  return STATUSES.includes(status) ? `var(--st-${status})` : UNKNOWN_COLOUR;
}

function marketLabel(m) {
  return `${m.name}: ${statusLabel(m.status)}, ${t("stall_count", { n: num(m.stalls || 0) })}`;
}

function popupContent(m, hrefOf) {
  const hasShares = ["qr_issued", "qr_verified", "transacting"].some((l) => m[`${l}_share`] != null || (m.levels && m.levels[l]));
  const shares = [["qr_issued", "level_qr_issued"], ["qr_verified", "level_qr_verified"], ["transacting", "level_transacting"]]
    .map(([level, key]) => `${t(key)}: ${pct(levelShare(m, level).share)}`);
  return h("div", { class: "map-popup", dataset: { market: m.id } },
    h("p", { class: "map-popup-title" }, m.name),
    m.ward ? h("p", { class: "muted" }, m.ward) : null,
    h("p", {}, h("span", { class: `badge status-badge ${statusClass(m.status)}` }, statusLabel(m.status)), " ",
      t("stall_count", { n: num(m.stalls || 0) })),
    hasShares ? h("p", { class: "small" }, shares.join(" · ")) : null,
    h("p", {}, h("a", { href: hrefOf(m), class: "map-popup-link" }, t("map_open_market", { name: m.name }))));
}

/** Resolves once the element is on the page and has a size (Leaflet measures its container). */
/** Resolves once the element has a size (a map drawn into a box of 0×0 stays blank). */
export function whenSized(el) {
  return new Promise((resolve) => {
    const ro = new ResizeObserver(() => {
      if (el.clientWidth > 0 && el.clientHeight > 0) { ro.disconnect(); resolve(); }
    });
    ro.observe(el);
  });
}

/**
 * A Leaflet map in `box` with the app's controls: zoom buttons titled in the page's language,
 * `controls(map)` next to them, a metric scale, the attribution, and the tiles when a tile server
 * is configured (the box then gets `map-tiled`). Maps of `registry` whose box has left the page
 * are removed first; the new one joins it.
 */
export function baseMap(L, box, registry, { minZoom, maxZoom = MAX_ZOOM, compact = false, tileUrl = "", controls = () => {} }) {
  for (const old of registry) {
    if (!old.getContainer().isConnected) { old.remove(); registry.delete(old); }
  }
  const animate = !reducedMotion();
  const map = L.map(box, {
    zoomControl: false, maxZoom, minZoom, scrollWheelZoom: !compact,
    zoomAnimation: animate, markerZoomAnimation: animate, fadeAnimation: animate,
  });
  registry.add(map);
  L.control.zoom({ zoomInTitle: t("zoom_in"), zoomOutTitle: t("zoom_out") }).addTo(map);
  controls(map);
  L.control.scale({ imperial: false }).addTo(map);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  if (tileUrl) {
    let host = tileUrl;
    try { host = new URL(tileUrl.replace("{s}", "a"), window.location.href).host; } catch { /* keep as typed */ }
    const credit = h("span", {}, t("map_tiles_from", { host })).outerHTML; // escaped by the DOM
    L.tileLayer(tileUrl, { maxZoom: MAX_ZOOM, attribution: credit }).addTo(map);
    box.classList.add("map-tiled");
  }
  return map;
}

/**
 * Keeps a drawn map's labels placed: once a frame after it moves, zooms or resizes (and on
 * `events`), and stops the map once its box has left the page (another drill-down level, a
 * language switch), taking it out of `registry`. Returns the relabel function.
 */
export function watchMap(map, box, registry, placeLabels, events = "") {
  let queued = false;
  const relabel = () => {
    if (queued) return;
    queued = true;
    window.requestAnimationFrame(() => { queued = false; if (box.isConnected) placeLabels(); });
  };
  map.on("zoomstart", () => box.classList.add("map-zooming"));
  map.on("zoomend", () => box.classList.remove("map-zooming"));
  map.on(`moveend zoomend resize ${events}`.trim(), relabel);
  const ro = new ResizeObserver(() => {
    if (!box.isConnected) {
      ro.disconnect();
      registry.delete(map);
      try { map.stop(); map.remove(); } catch { /* removed mid-animation */ }
      return;
    }
    map.invalidateSize();
    relabel();
  });
  ro.observe(box);
  relabel();
  return relabel;
}

/** Whether two boxes [left, top, right, bottom] overlap. */
export function overlaps(a, b) {
  return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
}

/**
 * marketMap(markets, {tileUrl, compact, search, hrefOf, points, pointView}) -> {el, legend, note, search, ready}
 * markets: [{id, name, ward, status, lat, lon, stalls, ...shares}]; `search` is the search box to
 * place on the page (null when compact); `ready` resolves to {map, focusMarket(id)} once drawn.
 * points: partners' service points ({id, kind, name, lat, lon, ...}), drawn as small square pins
 * beside the markets (never gathered with them) when they have a place; pointView gives their
 * words: {glyph(kind), label(point), details(point) -> nodes, legend(n)} (lib/points.js).
 */
export function marketMap(markets, { tileUrl = "", compact = false, search = !compact, hrefOf = (m) => `/markets/${m.id}`, points = [], pointView = null } = {}) {
  const pins = pointView ? points.filter(hasPoint) : [];
  const placed = markets.filter(hasPoint);
  const missing = markets.filter((m) => !hasPoint(m));
  const box = h("div", { class: "map-box", role: "region", "aria-label": t("map_region") });
  const state = h("p", { class: "map-state muted", role: "status" }, t("loading"));
  const el = h("div", { class: ["map-wrap", compact && "map-compact"] }, box, state);
  let control = null;
  const ready = loadLeaflet()
    .then((L) => whenSized(box).then(() => draw(L)))
    .then((c) => { control = c; state.textContent = ""; return c; })
    .catch((err) => {
      state.textContent = t("map_unavailable");
      state.classList.add("note", "note-warn");
      throw err;
    });
  ready.catch(() => {}); // shown on the page; callers may still await it

  function draw(L) {
    const Reset = L.Control.extend({
      onAdd() {
        const button = h("button", { type: "button", class: "map-reset", title: t("zoom_reset"), "aria-label": t("zoom_reset") }, "⤢");
        button.addEventListener("click", () => showAll());
        const bar = h("div", { class: "leaflet-bar map-reset-bar" }, button);
        L.DomEvent.disableClickPropagation(bar);
        return bar;
      },
    });
    const map = baseMap(L, box, maps, {
      minZoom: 3, compact, tileUrl, controls: (m) => new Reset({ position: "topleft" }).addTo(m),
    });
    const animate = !reducedMotion();
    if (!tileUrl) drawWards(L, map);

    // Dots: one per market, sized by stall count (area ~ count).
    const maxStalls = Math.max(1, ...placed.map((m) => m.stalls || 0));
    const size = (m) => Math.round((compact ? 12 : 14) + (compact ? 10 : 14) * Math.sqrt((m.stalls || 0) / maxStalls));
    const MarketIcon = L.DivIcon.extend({
      options: { html: false, className: "mk" },
      createIcon(old) {
        const div = L.DivIcon.prototype.createIcon.call(this, old);
        const m = this.options.market;
        div.classList.add(statusClass(m.status));
        div.dataset.market = String(m.id);
        div.dataset.status = m.status || "unknown";
        div.setAttribute("aria-label", marketLabel(m));
        div.replaceChildren(h("span", { class: "mk-dot" }), h("span", { class: "mk-label", "aria-hidden": "true" }, m.name));
        return div;
      },
    });
    const ClusterIcon = L.DivIcon.extend({
      options: { html: false, className: "mk-cluster" },
      createIcon(old) {
        const div = L.DivIcon.prototype.createIcon.call(this, old);
        const members = this.options.members;
        const counts = [...STATUSES, null].map((st) => [st, members.filter((m) => (STATUSES.includes(m.status) ? m.status : null) === st).length]).filter(([, n]) => n);
        // The ring's arcs show how many of the gathered markets are in each status.
        let at = 0;
        const stops = counts.map(([st, n]) => {
          const from = at;
          at += (n / members.length) * 100;
          return `${colour(st)} ${from.toFixed(2)}% ${at.toFixed(2)}%`;
        });
        const ring = h("span", { class: "mk-ring" });
        ring.style.background = `conic-gradient(${stops.join(", ")})`;
        div.replaceChildren(ring, h("span", { class: "mk-count", "aria-hidden": "true" }, num(members.length)));
        div.dataset.count = String(members.length);
        div.dataset.markets = members.map((m) => m.id).join(",");
        div.setAttribute("aria-label", t("map_cluster", {
          n: num(members.length),
          parts: counts.map(([st, n]) => `${num(n)} ${statusLabel(st).toLocaleLowerCase(document.documentElement.lang)}`).join(", "),
        }));
        return div;
      },
    });

    const clusters = L.markerClusterGroup({
      maxClusterRadius: compact ? 36 : 44,
      showCoverageOnHover: false,
      spiderfyOnMaxZoom: true,
      zoomToBoundsOnClick: true,
      animate,
      spiderLegPolylineOptions: { weight: 2, color: "#111111", opacity: 0.6 },
      iconCreateFunction(cluster) {
        const members = cluster.getAllChildMarkers().map((mk) => mk.options.icon.options.market);
        const n = members.length;
        const d = n < 10 ? 40 : n < 100 ? 48 : 56;
        return new ClusterIcon({ members, iconSize: [d, d] });
      },
    });
    // A popup clears the zoom buttons at the top left (on a phone they covered its left edge):
    // panned right of them, and narrow enough to fit beside them.
    const popupOptions = (widest) => {
      const room = map.getSize().x - POPUP_CLEAR_LEFT - 24 - 48;
      return { maxWidth: Math.max(180, Math.min(widest, room)), autoPanPaddingTopLeft: [POPUP_CLEAR_LEFT, 24], autoPanPaddingBottomRight: [24, 24] };
    };
    const byId = new Map();
    const markers = placed.map((m) => {
      const d = size(m);
      const marker = L.marker([m.lat, m.lon], {
        icon: new MarketIcon({ market: m, iconSize: [d, d] }), title: m.name, riseOnHover: true,
      });
      marker.bindPopup(() => popupContent(m, hrefOf), popupOptions(300));
      marker.on("popupopen", (e) => onPopupOpen(marker, e.popup));
      byId.set(String(m.id), marker);
      return marker;
    });
    clusters.addLayers(markers);
    map.addLayer(clusters);

    // Service points: a pane under the markets' so a market is never hidden by a pin, shown from
    // street level (FOCUS_ZOOM) in: further out they would sit on the markets' dots and rings.
    if (pins.length) {
      const pane = map.createPane("points");
      pane.style.zIndex = "590";
      const showPins = () => pane.classList.toggle("sp-hidden", map.getZoom() < FOCUS_ZOOM);
      map.on("zoomend", showPins);
      showPins();
      for (const p of pins) {
        const icon = L.divIcon({ className: `sp-pin sp-${p.kind}`, html: h("span", { "aria-hidden": "true" }, pointView.glyph(p.kind)), iconSize: [22, 22] });
        const pin = L.marker([p.lat, p.lon], { icon, pane: "points", title: pointView.label(p), alt: pointView.label(p), keyboard: true });
        pin.bindPopup(() => h("div", { class: "map-popup sp-popup", dataset: { point: p.id } }, pointView.details(p)), popupOptions(280));
        pin.on("add", () => { const el = pin.getElement(); if (el) { el.dataset.point = String(p.id); el.setAttribute("aria-label", pointView.label(p)); } });
        pin.addTo(map);
      }
    }

    // Enter on a focused ring does what a click does: zoom in (or spread the markets at full zoom).
    clusters.on("clusterkeypress", (e) => {
      if (e.originalEvent.key !== "Enter") return;
      const cluster = e.layer;
      if (map.getZoom() >= map.getMaxZoom()) cluster.spiderfy();
      else cluster.zoomToBounds({ padding: [40, 40] });
    });

    // The popup speaks the page's language; keyboard users land in it and leave it with Escape,
    // back on the market's dot.
    let focusNext = false;
    function onPopupOpen(marker, popup) {
      // On a phone the map is narrower than a popup may be: keep it inside the map, with the
      // popup's own frame (padding, close button: about 40 px) and the pan padding (2 × 24 px)
      // around its content (64 px left the popup cut at the map's edge on a 390 px phone).
      const room = Math.max(160, map.getSize().x - 100);
      if (popup.options.maxWidth > room) { popup.options.maxWidth = room; popup.update(); }
      const pop = popup.getElement();
      const closer = pop.querySelector(".leaflet-popup-close-button");
      if (closer) { closer.setAttribute("aria-label", t("close")); closer.title = t("close"); }
      if (!pop.dataset.keys) {
        pop.dataset.keys = "on";
        pop.addEventListener("keydown", (ev) => {
          if (ev.key === "Escape") { ev.preventDefault(); map.closePopup(); }
        });
      }
      const link = pop.querySelector(".map-popup-link");
      if (link && (focusNext || box.contains(document.activeElement))) link.focus({ preventScroll: true });
      focusNext = false;
      popup.once("remove", () => {
        const icon = marker.getElement();
        if (box.contains(document.activeElement) || document.activeElement === document.body) {
          (icon && icon.isConnected ? icon : box).focus({ preventScroll: true });
        }
      });
    }

    const bounds = placed.length ? L.latLngBounds(placed.map((m) => [m.lat, m.lon])) : null;
    function showAll() {
      map.closePopup();
      if (bounds) map.fitBounds(bounds, { padding: [28, 28], maxZoom: FOCUS_ZOOM });
      else map.setView(CITY.center, CITY.zoom);
    }
    showAll();

    // Names: biggest markets first, each beside its dot where it overlaps nothing (right, left,
    // below, above), else hidden; then ward names wherever they still fit.
    function placeLabels() {
      const W = box.clientWidth;
      const H = box.clientHeight;
      const frame = box.getBoundingClientRect();
      const taken = [];
      // Nothing goes under the controls or an open popup. (A service point's pin may: a market's
      // name comes first, and the pin is still there to tap around it.)
      for (const c of box.querySelectorAll(".leaflet-control, .leaflet-popup")) {
        if (c.style.opacity === "0") continue; // a closed popup fading out
        const r = c.getBoundingClientRect();
        taken.push([r.left - frame.left - 4, r.top - frame.top - 4, r.right - frame.left + 4, r.bottom - frame.top + 4]);
      }
      const shown = new Set();
      for (const marker of markers) {
        const v = clusters.getVisibleParent(marker);
        if (v && v.getElement()) shown.add(v);
      }
      const dots = [];
      for (const layer of shown) {
        const icon = layer.getElement();
        const p = map.latLngToContainerPoint(layer.getLatLng());
        const hw = icon.offsetWidth / 2;
        const hh = icon.offsetHeight / 2;
        const rect = [p.x - hw - 2, p.y - hh - 2, p.x + hw + 2, p.y + hh + 2];
        taken.push(rect);
        if (icon.classList.contains("mk")) dots.push({ layer, icon, p, hw, hh, m: layer.options.icon.options.market });
      }
      dots.sort((a, b) => (b.m.stalls || 0) - (a.m.stalls || 0) || a.m.name.localeCompare(b.m.name, "vi"));
      for (const { icon, p, hw, hh } of dots) {
        const label = icon.querySelector(".mk-label");
        const w = label.offsetWidth;
        const lh = label.offsetHeight;
        const spots = [
          ["lbl-r", p.x + hw + 4, p.y - lh / 2],
          ["lbl-l", p.x - hw - 4 - w, p.y - lh / 2],
          ["lbl-b", p.x - w / 2, p.y + hh + 2],
          ["lbl-t", p.x - w / 2, p.y - hh - 2 - lh],
        ];
        icon.classList.remove("lbl-r", "lbl-l", "lbl-b", "lbl-t");
        for (const [cls, x, y] of spots) {
          const rect = [x, y, x + w, y + lh];
          if (x < 2 || y < 2 || x + w > W - 2 || y + lh > H - 2) continue;
          // Its own dot is in `taken` too, but no spot touches it.
          if (taken.some((r) => overlaps(r, rect))) continue;
          taken.push(rect);
          icon.classList.add(cls);
          break;
        }
      }
      for (const ward of wardMarkers) {
        const icon = ward.getElement();
        if (!icon) continue;
        const span = icon.firstChild;
        const p = map.latLngToContainerPoint(ward.getLatLng());
        const w = span.offsetWidth;
        const lh = span.offsetHeight;
        // Markets sit at or near their ward's reference point, so the name may move off it a little.
        let placedAt = null;
        for (const dy of WARD_OFFSETS) {
          const rect = [p.x - w / 2 - 2, p.y + dy - lh / 2 - 2, p.x + w / 2 + 2, p.y + dy + lh / 2 + 2];
          if (rect[0] > 0 && rect[1] > 0 && rect[2] < W && rect[3] < H && !taken.some((r) => overlaps(r, rect))) {
            placedAt = dy;
            taken.push(rect);
            break;
          }
        }
        icon.classList.toggle("ward-off", placedAt === null);
        if (placedAt !== null) span.style.marginTop = `${placedAt}px`;
      }
    }
    const relabel = watchMap(map, box, maps, placeLabels, "popupopen popupclose");
    clusters.on("animationend spiderfied unspiderfied", relabel);

    /** Zoom to a market (at least FOCUS_ZOOM, out of its cluster) and open its popup. */
    function focusMarket(id) {
      const marker = byId.get(String(id));
      if (!marker) return false;
      const open = () => {
        focusNext = true;
        marker.openPopup();
        relabel();
        announce(marketLabel(marker.options.icon.options.market));
      };
      map.once("moveend", () => clusters.zoomToShowLayer(marker, open));
      map.setView(marker.getLatLng(), Math.max(map.getZoom(), FOCUS_ZOOM), { animate });
      return true;
    }
    return { map, clusters, focusMarket, relabel };
  }

  let wardMarkers = [];
  function drawWards(L, map) {
    const pane = map.createPane("wards");
    pane.setAttribute("aria-hidden", "true"); // a backdrop: the markets carry their ward in words
    fetch("/map/wards.json", { credentials: "same-origin" })
      .then((res) => (res.ok ? res.json() : { wards: [] }))
      .then((data) => {
        // As on printed maps, the name without its kind ("Phường Hải Châu" -> "Hải Châu").
        const short = (name) => name.replace(/^(Phường|Xã|Thị trấn|Đặc khu)\s+/u, "");
        const icon = (name) => L.divIcon({ className: "ward-label ward-off", html: h("span", {}, short(name)), iconSize: [0, 0] });
        wardMarkers = (data.wards || []).filter(hasPoint).map((w) =>
          L.marker([w.lat, w.lon], { icon: icon(w.name), pane: "wards", interactive: false, keyboard: false }).addTo(map));
        if (control) control.relabel();
      })
      .catch(() => { /* offline: markets still show */ });
  }

  const counts = Object.fromEntries(STATUSES.map((st) => [st, 0]));
  for (const m of markets) if (m.status in counts) counts[m.status] += 1;
  const legend = h("div", { class: "legend", role: "group", "aria-label": t("legend") },
    STATUSES.map((st) => h("span", { class: "legend-item" }, h("span", { class: `swatch status-${st}`, "aria-hidden": "true" }), `${statusLabel(st)} (${counts[st]})`)),
    markets.some((m) => !STATUSES.includes(m.status)) ? h("span", { class: "legend-item" }, h("span", { class: "swatch status-unknown", "aria-hidden": "true" }), statusLabel(null)) : null,
    h("span", { class: "legend-item" },
      s("svg", { width: 44, height: 28, viewBox: "0 0 44 28", "aria-hidden": "true" },
        s("circle", { cx: 8, cy: 20, r: 5 }), s("circle", { cx: 28, cy: 14, r: 12 })),
      t("legend_size")),
    h("span", { class: "legend-item" }, h("span", { class: "legend-cluster", "aria-hidden": "true" }, "3"), t("legend_cluster")),
    // Each kind of point drawn, with its mark, then how many and when they show.
    ...(pins.length && pointView.kindLabel
      ? [...new Set(pins.map((p) => p.kind))].sort().map((kind) => h("span", { class: "legend-item", dataset: { kind } },
        h("span", { class: `sp-pin sp-legend sp-${kind}`, "aria-hidden": "true" }, pointView.glyph(kind)), pointView.kindLabel(kind)))
      : []),
    pins.length ? h("span", { class: "legend-item", id: "legend-points" },
      pointView.kindLabel ? null : h("span", { class: "sp-pin sp-legend", "aria-hidden": "true" }, pointView.glyph("cash")),
      pointView.legend(pins.length)) : null);
  const note = missing.length ? h("p", { class: "muted small" }, t("no_location", { names: missing.map((m) => m.name).join(", ") })) : null;
  const finder = search ? searchBox(placed, (m) => { ready.then((c) => c.focusMarket(m.id), () => {}); }) : null;
  return { el, legend, note, search: finder, ready };
}

// ---- Picking a point (the console's market form) ----

/**
 * pointPicker({lat, lon, centre, marks, tileUrl, label, pinLabel, onPick}) -> {el, set(lat, lon), clear(), aim(lat, lon, marks), ready}
 * marks: [{lat, lon, text, label, className}] landmarks drawn to aim by, never picked.
 * A map where a click (or a tap) puts the market's point, and its marker can be dragged; keyboard
 * users move the map with the arrow keys and put the point at its centre with the button under it.
 * onPick(lat, lon) with the point rounded to 6 decimals (about 10 cm).
 */
export function pointPicker({ lat = null, lon = null, centre = null, marks = [], tileUrl = "", label = "", pinLabel = "", onPick = () => {} } = {}) {
  const box = h("div", { class: "map-box map-picker", role: "region", "aria-label": label || t("map_region") });
  const state = h("p", { class: "map-state muted", role: "status" }, t("loading"));
  const centreBtn = h("button", { type: "button", class: "btn btn-small", id: "pick-centre", disabled: true }, t("c_pick_centre"));
  const el = h("div", { class: "map-wrap map-pick-wrap" }, box, state, h("div", { class: "row-actions" }, centreBtn));
  let map = null;
  let marker = null;
  let L = null;
  let landmarks = [];
  const round = (x) => Math.round(x * 1e6) / 1e6;

  // Landmarks to aim by (the market, points already there): drawn, never picked.
  function drawMarks(list) {
    for (const m of landmarks) m.remove();
    landmarks = list.filter((m) => Number.isFinite(m.lat) && Number.isFinite(m.lon)).map((m) => L.marker([m.lat, m.lon], {
      icon: L.divIcon({ className: `pick-mark ${m.className || ""}`, html: h("span", {}, m.text || ""), iconSize: [0, 0] }),
      interactive: false, keyboard: false, title: m.label || "",
    }).addTo(map));
  }

  function put(la, lo, { notify = true, pan = false } = {}) {
    if (!map || !Number.isFinite(la) || !Number.isFinite(lo)) return;
    if (!marker) {
      const icon = L.divIcon({ className: "pick-pin", html: h("span", { class: "pick-dot" }), iconSize: [26, 26] });
      marker = L.marker([la, lo], { icon, draggable: true, keyboard: false, title: pinLabel, alt: pinLabel }).addTo(map);
      marker.on("dragend", () => { const p = marker.getLatLng().wrap(); put(p.lat, p.lng); });
    } else {
      marker.setLatLng([la, lo]);
    }
    if (pan) map.setView([la, lo], Math.max(map.getZoom(), FOCUS_ZOOM));
    if (notify) onPick(round(la), round(lo));
  }

  const ready = loadLeaflet()
    .then((lib) => whenSized(box).then(() => lib))
    .then((lib) => {
      L = lib;
      const animate = !reducedMotion();
      map = L.map(box, { zoomControl: false, maxZoom: MAX_ZOOM, minZoom: 3, zoomAnimation: animate, fadeAnimation: animate, markerZoomAnimation: animate });
      L.control.zoom({ zoomInTitle: t("zoom_in"), zoomOutTitle: t("zoom_out") }).addTo(map);
      map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
      const has = Number.isFinite(lat) && Number.isFinite(lon);
      // With no point yet, the map opens on `centre` (e.g. the market the point serves), unmarked.
      const around = centre && Number.isFinite(centre[0]) && Number.isFinite(centre[1]) ? centre : null;
      map.setView(has ? [lat, lon] : around || CITY.center, has ? FOCUS_ZOOM : around ? AIM_ZOOM : CITY.zoom);
      if (tileUrl) {
        L.tileLayer(tileUrl, { maxZoom: MAX_ZOOM }).addTo(map);
        box.classList.add("map-tiled");
      } else {
        fetch("/map/wards.json", { credentials: "same-origin" })
          .then((res) => (res.ok ? res.json() : { wards: [] }))
          .then((data) => {
            const short = (name) => name.replace(/^(Phường|Xã|Thị trấn|Đặc khu)\s+/u, "");
            for (const w of (data.wards || []).filter(hasPoint)) {
              L.marker([w.lat, w.lon], {
                icon: L.divIcon({ className: "ward-label", html: h("span", {}, short(w.name)), iconSize: [0, 0] }),
                interactive: false, keyboard: false,
              }).addTo(map);
            }
          })
          .catch(() => { /* offline: the map still picks */ });
      }
      if (has) put(lat, lon, { notify: false });
      drawMarks(marks);
      // A map dragged round the world still gives a longitude within ±180.
      map.on("click", (e) => { const p = e.latlng.wrap(); put(p.lat, p.lng); });
      new ResizeObserver(() => map.invalidateSize()).observe(box);
      centreBtn.disabled = false;
      centreBtn.addEventListener("click", () => { const c = map.getCenter().wrap(); put(c.lat, c.lng); });
      state.textContent = t("c_pick_hint");
      return map;
    })
    .catch((err) => {
      state.textContent = t("map_unavailable");
      state.classList.add("note", "note-warn");
      throw err;
    });
  ready.catch(() => {});
  return {
    el,
    ready,
    /** Move the point (typed coordinates) without calling onPick. */
    set(la, lo) { ready.then(() => put(la, lo, { notify: false, pan: true }), () => {}); },
    /** Take the point off (no point chosen). */
    clear() { if (marker) { marker.remove(); marker = null; } },
    /** Show another place to aim by (e.g. the market chosen in the form), its landmarks drawn. */
    aim(la, lo, list = []) {
      ready.then(() => {
        if (Number.isFinite(la) && Number.isFinite(lo)) map.setView([la, lo], Math.max(map.getZoom(), AIM_ZOOM));
        drawMarks(list);
      }, () => {});
    },
  };
}
