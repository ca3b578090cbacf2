// Labels and shape-tolerant readers for the coverage API (levels, statuses, rollups, history, tiles).

import { t } from "./i18n.js";

export const LEVELS = ["registered", "qr_issued", "qr_verified", "transacting"];
export const SHARE_LEVELS = ["qr_issued", "qr_verified", "transacting", "fees_cashless"];
export const STATUSES = ["not_started", "in_progress", "cashless", "lapsed"];

export const levelLabel = (level) => t(`level_${level}`);
export const statusLabel = (status) => (STATUSES.includes(status) ? t(`status_${status}`) : t("status_unknown"));
export const statusClass = (status) => `status-${STATUSES.includes(status) ? status : "unknown"}`;
export const levelClass = (level) => `level-${LEVELS.includes(level) || level === "inactive" ? level : "registered"}`;

const arr = (v) => (Array.isArray(v) ? v : []);

/** {count, share} of a level in a coverage object (nested levels.{x} or flat fields). */
export function levelShare(obj, level) {
  if (!obj) return { count: 0, share: 0 };
  const active = Number(obj.active_stalls ?? obj.active ?? obj.stalls ?? 0);
  const nested = obj.levels && obj.levels[level];
  if (nested && typeof nested === "object") {
    const count = Number(nested.count ?? 0);
    const share = nested.share != null ? Number(nested.share) : active ? count / active : 0;
    return { count, share };
  }
  if (obj[`${level}_share`] != null) {
    const share = Number(obj[`${level}_share`]);
    return { count: Number(obj[`${level}_count`] ?? obj[level] ?? Math.round(share * active)), share };
  }
  if (obj.shares && obj.shares[level] != null) {
    const share = Number(obj.shares[level]);
    return { count: Math.round(share * active), share };
  }
  if (typeof obj[level] === "number") {
    const count = Number(obj[level]);
    return { count, share: active ? count / active : 0 };
  }
  return { count: 0, share: 0 };
}

export function activeStalls(obj) {
  return Number(obj && (obj.active_stalls ?? obj.active ?? obj.stall_count ?? obj.stalls ?? 0)) || 0;
}

/** Thresholds of the programme rule: {level: share}. */
export function thresholdsOf(rule) {
  if (!rule) return {};
  const th = rule.thresholds || (rule.rule && rule.rule.thresholds) || {};
  const out = {};
  for (const [k, v] of Object.entries(th)) if (v != null && !Number.isNaN(Number(v))) out[k] = Number(v);
  return out;
}

export function ruleVersion(rule) {
  return rule ? (rule.version ?? rule.rule_version ?? (rule.rule && rule.rule.version) ?? "") : "";
}

/** Rows of GET /api/coverage?group_by=... as [{key, name, ...coverage}]. */
export function groups(data) {
  const rows = Array.isArray(data) ? data : arr(data && (data.groups || data.items || data.rows || data.results));
  return rows.map((r) => ({
    ...r,
    key: String(r.key ?? r.code ?? r.id ?? r.market_id ?? r.partner_code ?? r.group ?? r.ward_code ?? ""),
    name: r.name ?? r.label ?? r.partner_name ?? r.market_name ?? r.ward_name ?? String(r.key ?? r.code ?? r.id ?? ""),
  }));
}

/** Markets from the coverage GeoJSON (or from /api/markets as a fallback) as flat objects. */
export function marketsFromGeo(fc) {
  return arr(fc && fc.features).map((f) => {
    const p = f.properties || {};
    const [lon, lat] = (f.geometry && f.geometry.coordinates) || [p.lon, p.lat];
    return {
      ...p,
      id: p.id ?? p.market_id ?? f.id,
      name: p.name ?? "",
      ward: p.ward ?? p.ward_name ?? "",
      status: p.status ?? null,
      lat: lat != null ? Number(lat) : null,
      lon: lon != null ? Number(lon) : null,
      stalls: Number(p.active_stalls ?? p.stall_count ?? p.stalls ?? 0),
    };
  });
}

export function marketsFromList(list) {
  return arr(list).map((m) => ({ ...m, ward: m.ward_name || m.legacy_ward_name || "", status: m.status ?? null, stalls: Number(m.stall_count ?? 0) }));
}

/** History points: [{date, active, shares: {level: share}}], oldest first. */
export function history(data) {
  const rows = Array.isArray(data) ? data : arr(data && (data.series || data.points || data.items || data.history || data.days));
  const out = rows.map((r) => {
    const shares = {};
    for (const lvl of SHARE_LEVELS) {
      const { share } = levelShare(r, lvl);
      shares[lvl] = share;
    }
    return { date: r.date ?? r.day ?? r.snapshot_date ?? r.at ?? r.taken_at, active: activeStalls(r), shares, status: r.status };
  }).filter((p) => p.date);
  out.sort((a, b) => (String(a.date) < String(b.date) ? -1 : 1));
  return out;
}

/** Stall tiles of a market: {zones: [{zone, stalls: [...]}], byId: Map}. */
export function tiles(data) {
  let zones = [];
  if (Array.isArray(data)) {
    zones = data.length && data[0] && (data[0].stalls || data[0].tiles) ? data : groupByZone(data);
  } else if (data) {
    if (Array.isArray(data.zones)) zones = data.zones;
    else if (Array.isArray(data.tiles) || Array.isArray(data.stalls)) zones = groupByZone(data.tiles || data.stalls);
    else if (typeof data.zones === "object" && data.zones) zones = Object.entries(data.zones).map(([zone, stalls]) => ({ zone, stalls }));
  }
  const byId = new Map();
  const norm = zones.map((z) => ({
    zone: z.zone ?? z.name ?? null,
    stalls: arr(z.stalls || z.tiles).map((s) => {
      const tile = {
        ...s,
        id: s.id ?? s.stall_id,
        stall_code: s.stall_code ?? s.code ?? "",
        level: s.level ?? "registered",
        needs_revisit: !!(s.needs_revisit ?? s.revisit),
      };
      byId.set(tile.id, tile);
      return tile;
    }),
  }));
  return { zones: norm, byId };
}

function groupByZone(list) {
  const map = new Map();
  for (const s of arr(list)) {
    const z = s.zone ?? null;
    if (!map.has(z)) map.set(z, []);
    map.get(z).push(s);
  }
  return Array.from(map, ([zone, stalls]) => ({ zone, stalls }));
}

/** Why a stall needs a return visit, as the lists and the stall page say it. */
export function revisitReason(reason) {
  return ["qr_mismatch", "qr_invalid", "no_account", "account_suspended", "account_removed"].includes(reason) ? t(`visit_reason_${reason}`) : t("visit_reason_other");
}
