// Team management (/teams, admins and managers): the teams of the caller's wards with members,
// leader and markets; create a team, change its members (history is kept), leader and markets.
// The ward is picked from the national directory by typing its name, with or without diacritics.

import { h, mount, clear, toast, debounce, announce } from "./lib/dom.js";
import { t, num, dateTime, describeError, addStrings } from "./lib/i18n.js";
import { confirmDialog } from "./lib/dialog.js";
import * as api from "./lib/api.js";
import { widePage } from "./lib/page.js";
import { personName } from "./lib/text.js";

addStrings({
  vi: {
    team_markets_ward: "Chợ của phường, xã đã chọn; tổ làm ở chợ nơi khác thì bấm hiện thêm.",
    team_markets_all: "Hiện chợ của các phường, xã khác",
    team_markets_none_title: "Tổ chưa có chợ nào?",
    team_markets_none_line: "Thành viên sẽ không thấy chợ nào của tổ để làm việc. Có thể thêm chợ sau.",
    team_save_anyway: "Vẫn lưu",
    team_pick_markets: "Chọn chợ",
    team_ward_outside: "ngoài phạm vi bạn quản lý",
  },
  en: {
    team_markets_ward: "Markets of the chosen ward; for a team working elsewhere, show more.",
    team_markets_all: "Show markets of other wards",
    team_markets_none_title: "A team with no market?",
    team_markets_none_line: "Its members will see no market of the team to work in. Markets can be added later.",
    team_save_anyway: "Save anyway",
    team_pick_markets: "Choose markets",
    team_ward_outside: "not one you manage",
  },
});

function teamCard(team, { onEdit }) {
  const leader = team.members.find((m) => m.is_leader);
  return h("li", { class: "card team-card", dataset: { team: team.id } },
    h("h2", {}, team.name),
    h("p", { class: "muted" }, team.ward_name || team.ward_code, " · ", t("team_members_n", { n: num(team.members.length) })),
    h("p", {}, h("strong", {}, t("team_leader"), ": "), leader ? personName(leader) : h("span", { class: "muted" }, t("team_no_leader"))),
    h("p", {}, h("strong", {}, t("team_members"), ": "),
      // The leader first, then by the names shown, in Vietnamese order.
      team.members.length ? [...team.members].sort((a, b) => Number(b.is_leader) - Number(a.is_leader) || personName(a).localeCompare(personName(b), "vi"))
        .map(personName).join(", ") : h("span", { class: "muted" }, "—")),
    h("p", {}, h("strong", {}, t("team_markets"), ": "),
      team.markets.length ? team.markets.map((m) => m.name).join(", ") : h("span", { class: "muted" }, "—")),
    team.past_members.length
      ? h("details", { class: "past-members" },
        h("summary", {}, t("team_past"), ` (${num(team.past_members.length)})`),
        h("ul", {}, team.past_members.map((m) => h("li", {}, t("team_past_line", { user: personName(m), from: dateTime(m.joined_at), to: dateTime(m.left_at) })))))
      : null,
    h("div", { class: "row-actions" },
      onEdit ? h("button", { type: "button", class: "btn", onclick: () => onEdit(team), "aria-label": `${t("edit")} — ${team.name}` }, t("edit")) : null,
      h("a", { class: "btn", href: `/return-visits?team=${team.id}` }, t("team_visits"))));
}

/** A list of choices shown under a search box (buttons, so they work with a keyboard and touch). */
function choices(items, render) {
  return h("ul", { class: "choice-list" }, items.map((item) => h("li", {}, render(item))));
}

/** In a search box of the form, Enter never saves the whole form (it did, half done): it picks
 * the one choice found for exactly what is typed, moves to the choices when there are several,
 * and waits while the answer for the text typed last has not come (the choices shown are for
 * older text then: a quick Enter must not add someone else). The down arrow moves to the choices.
 * `results.dataset.q` is the text the choices shown were found for. */
function searchKeys(input, results) {
  input.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" && ev.key !== "ArrowDown") return;
    if (ev.key === "Enter") ev.preventDefault();
    if (results.dataset.q !== input.value) return;
    const open = [...results.querySelectorAll("button.choice:not([disabled])")];
    if (!open.length) return;
    ev.preventDefault();
    if (ev.key === "Enter" && open.length === 1) open[0].click();
    else open[0].focus();
  });
}

/** Whether the user may give a team this ward (the API's rule, teams/scope.py): an administrator
 * any; a manager the wards of their scope, of their provinces and of their markets. */
function managesWard(me, markets, unit) {
  if (me.role === "admin") return true;
  return (me.ward_codes || []).includes(unit.code)
    || (me.province_codes || []).includes(unit.province_code)
    || markets.some((m) => m.ward_code === unit.code);
}

function editor({ me, team, markets, province, onSaved, onCancel }) {
  const members = new Map((team ? team.members : []).map((m) => [m.id, { id: m.id, username: m.username, display_name: m.display_name }]));
  let leaderId = team ? team.leader_id : null;
  let ward = team ? { code: team.ward_code, name: team.ward_name || team.ward_code } : null;
  const error = h("p", { class: "form-error", role: "alert", id: "team-error" });

  const name = h("input", { id: "team-name", value: team ? team.name : "", maxlength: 100, required: true, autocomplete: "off" });

  // Ward: typed, searched in the directory, picked.
  const wardChosen = h("p", { class: "note note-ok", id: "team-ward-chosen", hidden: !ward });
  const wardResults = h("div", { id: "team-ward-results", "aria-live": "polite" });
  const wardSearch = h("input", { id: "team-ward", type: "search", autocomplete: "off", spellcheck: "false", "aria-describedby": "team-ward-hint" });
  const showWard = () => { wardChosen.hidden = !ward; wardChosen.textContent = ward ? t("team_ward_chosen", { name: ward.name }) : ""; };
  showWard();
  const findWards = debounce(async () => {
    const typed = wardSearch.value;
    const q = typed.trim();
    clear(wardResults);
    delete wardResults.dataset.q;
    if (!q) return;
    try {
      const units = await api.getJSON(`/api/admin-units?${new URLSearchParams({ province, q, limit: "8" })}`);
      if (wardSearch.value !== typed) return;  // typed on meanwhile: its own search follows
      wardResults.dataset.q = typed;
      if (!units.length) { wardResults.append(h("p", { class: "muted" }, t("team_ward_none"))); return; }
      // Wards outside the manager's scope are shown, not offered: the save would be refused.
      wardResults.append(choices(units, (u) => {
        const outside = !managesWard(me, markets, u);
        return h("button", {
          type: "button", class: "btn btn-small choice", dataset: { ward: u.code }, disabled: outside,
          onclick: () => { ward = { code: u.code, name: u.name }; showWard(); showMarkets(); clear(wardResults); wardSearch.value = ""; announce(t("team_ward_chosen", { name: u.name })); },
        }, u.name, outside ? h("span", { class: "sub" }, t("team_ward_outside")) : null);
      }));
    } catch (err) {
      wardResults.append(h("p", { class: "form-error" }, describeError(err)));
    }
  }, 200);
  wardSearch.addEventListener("input", findWards);
  searchKeys(wardSearch, wardResults);

  // Markets: those the caller may see, and the team's own (kept, even when outside their scope).
  const byId = new Map(markets.map((m) => [m.id, m]));
  for (const m of team ? team.markets : []) if (!byId.has(m.id)) byId.set(m.id, { ...m, outside: true });
  const chosenMarkets = new Set(team ? team.markets.map((m) => m.id) : []);
  const marketBoxes = h("div", { class: "market-checks" }, [...byId.values()].sort((a, b) => a.name.localeCompare(b.name, "vi")).map((m) => {
    const box = h("input", { type: "checkbox", id: `team-market-${m.id}`, value: m.id, checked: chosenMarkets.has(m.id), disabled: !!m.outside });
    box.addEventListener("change", () => { if (box.checked) chosenMarkets.add(m.id); else chosenMarkets.delete(m.id); });
    return h("div", { class: "check", dataset: { ward: m.ward_code || "" } }, box, h("label", { for: `team-market-${m.id}` }, m.name, m.ward_name ? h("span", { class: "sub" }, m.ward_name) : null));
  }));
  // A team works in its ward's markets: those are listed once the ward is chosen (and the ones
  // ticked); the others are a tick away.
  const allMarkets = h("input", { type: "checkbox", id: "team-markets-all" });
  const marketsHint = h("p", { class: "hint", id: "team-markets-hint" }, t("team_markets_ward"));
  function showMarkets() {
    const every = !ward || allMarkets.checked;
    marketsHint.hidden = every;
    for (const row of marketBoxes.children) {
      const box = row.querySelector("input");
      row.hidden = !every && row.dataset.ward !== ward.code && !box.checked;
    }
  }
  allMarkets.addEventListener("change", showMarkets);
  showMarkets();

  // Members: searched by username or name; the leader is one of them.
  const memberList = h("ul", { class: "member-list", id: "team-members" });
  const drawMembers = () => {
    clear(memberList);
    if (!members.size) memberList.append(h("li", { class: "muted" }, t("team_members_none")));
    for (const m of [...members.values()].sort((a, b) => personName(a).localeCompare(personName(b), "vi"))) {
      const radio = h("input", { type: "radio", name: "team-leader", id: `leader-${m.id}`, checked: m.id === leaderId });
      radio.addEventListener("change", () => { leaderId = m.id; });
      memberList.append(h("li", { dataset: { member: m.id } },
        h("span", { class: "member-name" }, personName(m)),
        h("span", { class: "check" }, radio, h("label", { for: `leader-${m.id}` }, t("team_leader"))),
        h("button", { type: "button", class: "btn btn-small", onclick: () => { members.delete(m.id); if (leaderId === m.id) leaderId = null; drawMembers(); }, "aria-label": `${t("team_remove")} — ${personName(m)}` }, t("team_remove"))));
    }
  };
  drawMembers();
  const memberResults = h("div", { id: "team-member-results", "aria-live": "polite" });
  const memberSearch = h("input", { id: "team-member-search", type: "search", autocomplete: "off", spellcheck: "false", autocapitalize: "none" });
  const findMembers = debounce(async () => {
    // A username or a name as people write it ("Tuấn", "tuan"): the server compares without marks.
    const typed = memberSearch.value;
    const q = typed.trim().replace(/[^\p{L}\p{N}._@ '-]/gu, "").slice(0, 64);
    clear(memberResults);
    delete memberResults.dataset.q;
    if (!q) return;
    try {
      const found = (await api.getJSON(`/api/teams/candidates?${new URLSearchParams({ q })}`)).filter((c) => !members.has(c.id));
      if (memberSearch.value !== typed) return;  // typed on meanwhile: its own search follows
      memberResults.dataset.q = typed;
      if (!found.length) { memberResults.append(h("p", { class: "muted" }, t("no_results"))); return; }
      memberResults.append(choices(found, (c) => {
        const elsewhere = c.team_id && (!team || c.team_id !== team.id);
        return h("button", {
          type: "button", class: "btn btn-small choice", disabled: !!elsewhere, dataset: { user: c.id },
          onclick: () => { members.set(c.id, { id: c.id, username: c.username, display_name: c.display_name }); if (leaderId === null) leaderId = c.id; drawMembers(); clear(memberResults); memberSearch.value = ""; memberSearch.focus(); },
        }, `${t("team_add")} ${personName(c)}`, elsewhere ? h("span", { class: "sub" }, t("team_in_other", { team: c.team_name })) : null);
      }));
    } catch (err) {
      memberResults.append(h("p", { class: "form-error" }, describeError(err)));
    }
  }, 200);
  memberSearch.addEventListener("input", findMembers);
  searchKeys(memberSearch, memberResults);

  const save = h("button", { type: "submit", class: "btn btn-primary", id: "team-save" }, t("team_save"));
  const form = h("form", { class: "card team-editor", id: "team-editor", novalidate: true },
    h("h2", {}, team ? `${t("edit")}: ${team.name}` : t("teams_new")),
    h("div", { class: "field" }, h("label", { for: "team-name" }, t("team_name")), name),
    h("div", { class: "field" },
      h("label", { for: "team-ward" }, t("team_ward")),
      h("p", { class: "hint", id: "team-ward-hint" }, t("team_ward_hint")),
      wardSearch, wardResults, wardChosen),
    h("fieldset", { class: "field", id: "team-markets" }, h("legend", {}, t("team_markets")), marketsHint, marketBoxes,
      h("div", { class: "check" }, allMarkets, h("label", { for: "team-markets-all" }, t("team_markets_all")))),
    h("fieldset", { class: "field" }, h("legend", {}, t("team_members")),
      memberList,
      h("label", { for: "team-member-search" }, t("team_member_search")), memberSearch, memberResults),
    error,
    h("div", { class: "row-actions" }, save,
      h("button", { type: "button", class: "btn", onclick: onCancel }, t("cancel"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    if (!name.value.trim()) { error.textContent = t("team_name_missing"); name.focus(); return; }
    if (!ward) { error.textContent = t("team_ward_missing"); wardSearch.focus(); return; }
    // Allowed (markets can come later), but asked: its members would see nothing to work in.
    if (!chosenMarkets.size && !(await confirmDialog({
      id: "team-no-markets", title: t("team_markets_none_title"), lines: [t("team_markets_none_line")],
      ok: t("team_save_anyway"), cancel: t("team_pick_markets"),
    }))) { (marketBoxes.querySelector("div:not([hidden]) input") || allMarkets).focus(); return; }
    const body = {
      name: name.value.trim(),
      ward_code: ward.code,
      leader_id: leaderId !== null && members.has(leaderId) ? leaderId : null,
      member_ids: [...members.keys()],
      market_ids: [...chosenMarkets],
    };
    save.disabled = true;
    try {
      const { data } = team
        ? await api.sendJSON("PATCH", `/api/teams/${team.id}`, body)
        : await api.sendJSON("POST", "/api/teams", body);
      toast(t("team_saved"), "ok");
      onSaved(data);
    } catch (err) {
      error.textContent = describeError(err);
    } finally {
      save.disabled = false;
    }
  });
  return { form, focus: () => name.focus() };
}

async function render(main, me) {
  const [teams, markets] = await Promise.all([api.getJSON("/api/teams"), api.getJSON("/api/markets")]);
  const province = (markets.find((m) => m.province_code) || {}).province_code || "48";
  const slot = h("div", { id: "editor-slot" });
  const open = (team) => {
    const ed = editor({
      me, team, markets, province,
      onSaved: () => render(main, me).catch((err) => toast(describeError(err), "error")),
      onCancel: () => { clear(slot); newBtn.hidden = false; },
    });
    mount(slot, ed.form);
    newBtn.hidden = true;
    ed.form.scrollIntoView({ block: "start" });
    ed.focus();
  };
  const newBtn = h("button", { type: "button", class: "btn btn-primary", id: "team-new", onclick: () => open(null) }, "+ ", t("teams_new"));
  // A volunteer (a team leader too) sees the team but does not manage it: the API refuses them.
  const manages = ["admin", "manager"].includes(me.role);
  mount(main,
    h("h1", {}, t("teams_title")),
    h("p", { class: "muted" }, t("teams_intro")),
    h("div", { class: "row-actions" }, manages ? newBtn : null, h("a", { class: "btn", href: "/activity" }, t("nav_activity"))),
    slot,
    teams.length
      ? h("ul", { class: "cards team-cards", id: "team-list" }, teams.map((team) => teamCard(team, { onEdit: manages ? open : null })))
      : h("p", { class: "empty" }, t("teams_none")));
}

widePage("teams", render);
