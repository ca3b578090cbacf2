"""Numbers, times and Vietnam's date read exactly as Intl writes them, although the app works them
out itself (lib/i18n.js num and time, lib/activity.js today: no Intl formatter to build while a
slow tablet starts)."""

from __future__ import annotations

import pytest

from tests.web.conftest import LOADED_MODULE_JS

pytestmark = pytest.mark.browser

COMPARE = (
    """async (lang) => {
  """
    + LOADED_MODULE_JS
    + """
  const i18n = await import(loaded("/static/js/lib/i18n.js"));
  await i18n.setLang(lang);
  const locale = lang === "en" ? "en-GB" : "vi-VN";
  const numbers = [0, 1, -1, 7, 12, 99, 100, 999, 1000, -1000, 1001, 9999, 10000, 12345, 99999,
    100000, 123456, 999999, 1000000, -1234567, 2000000, 12345678, 2 ** 31, 2 ** 53 - 1,
    -(2 ** 53 - 1), 2 ** 53, 1.5, -0.25, 1234.5678, 1e21, NaN, "42", "1000", null, undefined, ""];
  for (let n = 0; n < 30000; n += 7) numbers.push(n, -n, n * 997);
  const bad = [];
  const intl = new Intl.NumberFormat(locale);
  for (const n of numbers) {
    const want = intl.format(Number(n) || 0);
    if (i18n.num(n) !== want) bad.push(`num(${n}) = ${i18n.num(n)}, Intl ${want}`);
  }
  const day = new Date(2026, 11, 2).getTime();
  const times = [day, day - 1, Date.UTC(1970, 0, 1), 8.64e15, -8.64e15];
  for (let m = 0; m < 24 * 60; m += 1) times.push(day + m * 60000 + 59999);
  for (const ms of times) {
    // Vietnam has kept UTC+7 since 1975; the time-zone database has other offsets before (and a
    // local mean time at the ends of the Date range): those only need to read as a time.
    if (ms < Date.UTC(1976, 0, 1) || ms > Date.UTC(2200, 0, 1)) {
      if (!/^[0-9][0-9]:[0-9][0-9]$/.test(i18n.time(ms))) bad.push(`time(${ms}) = ${i18n.time(ms)}`);
      continue;
    }
    const want = new Date(ms).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Ho_Chi_Minh" });
    if (i18n.time(ms) !== want) bad.push(`time(${ms}) = ${i18n.time(ms)}, Intl ${want}`);
  }
  const invalid = new Date(NaN).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  if (i18n.time(NaN) !== invalid) bad.push(`time(NaN) = ${i18n.time(NaN)}`);
  return { bad: bad.slice(0, 10), count: numbers.length + times.length };
}"""
)

# Asia/Ho_Chi_Minh's date at instants from 1976 (UTC+7 since) to 2100, dense around midnight.
VIETNAM_DAY = (
    """async () => {
  """
    + LOADED_MODULE_JS
    + """
  const { today } = await import(loaded("/static/js/lib/activity.js"));
  const intl = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Ho_Chi_Minh", year: "numeric", month: "2-digit", day: "2-digit" });
  const bad = [];
  const instants = [Date.now()];
  for (let ms = Date.UTC(1976, 0, 1); ms < Date.UTC(2100, 0, 1); ms += 86400000 * 13 + 3600000 * 5 + 61000) instants.push(ms);
  for (let day = Date.UTC(2026, 11, 1); day < Date.UTC(2027, 0, 3); day += 86400000) {
    for (const off of [-1, 0, 1, 60000]) instants.push(day - 7 * 3600000 + off);  // local midnight
  }
  for (const ms of instants) {
    if (today(ms) !== intl.format(new Date(ms)) || today(new Date(ms)) !== today(ms)) bad.push(`${new Date(ms).toISOString()}: ${today(ms)} vs ${intl.format(new Date(ms))}`);
  }
  if (today() !== intl.format(new Date())) bad.push("now");
  return { bad: bad.slice(0, 10), count: instants.length };
}"""
)


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_numbers_and_times_read_as_intl_writes_them(new_page, live_server, lang: str) -> None:
    # A device set to another zone still reads Vietnam's time (Intl with Asia/Ho_Chi_Minh).
    page = await new_page(timezone_id="America/Los_Angeles")
    await page.goto("/")
    await page.wait_for_selector("#username")
    got = await page.evaluate(COMPARE, lang)
    assert got["count"] > 10000
    assert got["bad"] == []


async def test_the_day_in_vietnam_is_the_day_intl_gives(new_page, live_server) -> None:
    page = await new_page()
    await page.goto("/")
    await page.wait_for_selector("#username")
    got = await page.evaluate(VIETNAM_DAY)
    assert got["count"] > 3000
    assert got["bad"] == []


DAY_MONTH = (
    """async (lang) => {
  """
    + LOADED_MODULE_JS
    + """
  const i18n = await import(loaded("/static/js/lib/i18n.js"));
  await i18n.setLang(lang);
  return ["2026-11-30", "2026-01-05", "2026-12-01T23:30:00Z", "not a day"].map((v) => i18n.date(v))
    .concat([new Date(Date.UTC(2026, 10, 4, 15, 15)), "not a time"].map((v) => i18n.dateTime(v)))
    .concat([i18n.time(Date.UTC(2026, 10, 4, 15, 15)), i18n.date(new Date(Date.UTC(2026, 10, 30, 17, 30)))]);
}"""
)


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_a_chart_day_reads_day_slash_month(new_page, live_server, lang: str) -> None:
    """Chart axes and tables write a day as Vietnamese (and British) readers do: 30/11, the
    calendar day as written, whatever the device's time zone; a moment in Vietnam's time with its
    year in full."""
    page = await new_page(timezone_id="America/Los_Angeles")
    await page.goto("/")
    await page.wait_for_selector("#username")
    got = await page.evaluate(DAY_MONTH, lang)
    # A moment reads in Vietnam's time (UTC+7), not the device's (here Los Angeles, UTC-8).
    moment = "22:15 04/11/2026" if lang == "vi" else "04/11/2026, 22:15"
    # A moment written as text is a moment too: 23:30 UTC on 1 December is the 2nd in Vietnam.
    assert got == ["30/11", "05/01", "02/12", "", moment, "", "22:15", "01/12"]


PERCENTAGES = (
    """async () => {
  """
    + LOADED_MODULE_JS
    + """
  const i18n = await import(loaded("/static/js/lib/i18n.js"));
  await i18n.setLang("vi");
  return [115 / 128, 0.9, 9 / 10, 0.29, 0.57, 1, 0.999, 0, 1 / 3, 2 / 3, NaN].map((s) => i18n.pct(s))
    .concat([0.575, 0.9, 0.333, 1].map((x) => i18n.targetPct(x)));
}"""
)


async def test_a_share_below_a_target_never_reads_as_the_target(new_page, live_server) -> None:
    """A share is shown rounded down: 115 of 128 stalls (89.8 %) is "89 %", not the "90 %" the
    rule asks for (a manager read a missed target as met); exact shares stay exact (0.29 is
    29 %, not 28 % from float error). The report PDF writes them the same way."""
    from coverage.report_pdf import _pct, _target_pct

    page = await new_page()
    await page.goto("/")
    await page.wait_for_selector("#username")
    got = await page.evaluate(PERCENTAGES)
    assert got[:11] == ["89%", "90%", "90%", "29%", "57%", "100%", "99%", "0%", "33%", "66%", "0%"]
    assert [_pct(x) for x in (115 / 128, 0.9, 0.29, 0.57, 1.0, 0.999)] == [
        "89%", "90%", "29%", "57%", "100%", "99%",
    ]  # fmt: skip
    # A target reads as it was set, to a tenth: 57.5% is not shown as the 57% a market at 57.3%
    # would read.
    assert got[11:] == ["57,5%", "90%", "33,3%", "100%"]
    assert [_target_pct(x) for x in (0.575, 0.9, 0.333, 1.0)] == ["57,5%", "90%", "33,3%", "100%"]


PROGRESS_ROWS = (
    """async () => {
  """
    + LOADED_MODULE_JS
    + """
  const i18n = await import(loaded("/static/js/lib/i18n.js"));
  await i18n.setLang("vi");
  const { progressRows } = await import(loaded("/static/js/lib/widgets.js"));
  const cov = { active_stalls: 10, levels: {
    qr_issued: { count: 9, share: 0.9 }, qr_verified: { count: 5, share: 0.5 },
    transacting: { count: 2, share: 0.2 }, fees_cashless: { count: 0, share: 0 } } };
  const rows = progressRows(cov, { qr_verified: 0.9, transacting: 0.3 });
  return [...rows.querySelectorAll(".progress-row")].map((r) => r.textContent);
}"""
)


async def test_a_markets_progress_shows_its_signs_first_whatever_the_rule(
    new_page, live_server
) -> None:
    """The rule in force may not ask for signs; a market's row still shows them first (a manager
    looked for "Đã in biển" per market and did not find it)."""
    page = await new_page()
    await page.goto("/")
    await page.wait_for_selector("#username")
    got = await page.evaluate(PROGRESS_ROWS)
    assert got == ["Đã in biển90%", "Đã kiểm tra mã50%", "Đang giao dịch20%"], got


PROGRESS_COLOURS = (
    """async () => {
  """
    + LOADED_MODULE_JS
    + """
  const i18n = await import(loaded("/static/js/lib/i18n.js"));
  await i18n.setLang("vi");
  const { progressRows } = await import(loaded("/static/js/lib/widgets.js"));
  const colour = (met) => {
    const cov = { active_stalls: 10, levels: {
      qr_issued: { count: 9, share: 0.9 }, qr_verified: { count: met ? 10 : 5, share: met ? 1 : 0.5 },
      transacting: { count: met ? 1 : 4, share: met ? 0.1 : 0.4 } } };
    const rows = progressRows(cov, { qr_verified: 0.9, transacting: 0.3 });
    document.body.append(rows);
    const out = [...rows.querySelectorAll(".progress-row")].map((r) => [
      getComputedStyle(r.querySelector(".bar-fill")).backgroundColor, r.querySelector(".pct").textContent]);
    rows.remove();
    return out;
  };
  return [colour(true), colour(false)];
}"""
)


async def test_each_level_has_its_colour_in_the_progress_bars_met_or_not(
    new_page, live_server
) -> None:
    """The bars were orange below their target and green at it, so "Đã kiểm tra mã" (green in the
    trend chart and the printed report) showed orange beside a green "Đang giao dịch" (orange
    there): each level keeps its colour, and a target reached is a ✓ beside the share."""
    page = await new_page()
    # A manager page: the bars' level colours are in wide.css, which the volunteer app never loads.
    await page.goto("/dashboard")
    await page.wait_for_selector("#username")
    met, below = await page.evaluate(PROGRESS_COLOURS)
    colours = {"qr_issued": "rgb(29, 78, 216)", "qr_verified": "rgb(10, 125, 59)",
               "transacting": "rgb(179, 89, 0)"}  # fmt: skip
    assert [c for c, _ in met] == [c for c, _ in below] == list(colours.values()), (met, below)
    assert [p for _, p in met] == ["90%", "100% ✓", "10%"], met
    assert [p for _, p in below] == ["90%", "50%", "40% ✓"], below


PLURALS = (
    """async (lang) => {
  """
    + LOADED_MODULE_JS
    + """
  const i18n = await import(loaded("/static/js/lib/i18n.js"));
  await i18n.setLang(lang);
  return [
    i18n.t("today_line", { n: i18n.num(1), m: i18n.num(1) }),
    i18n.t("today_line", { n: i18n.num(2), m: i18n.num(0) }),
    i18n.t("assigned_title", { n: i18n.num(1) }),
    i18n.t("stall_count", { n: i18n.num(1000) }),
  ];
}"""
)


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_one_of_a_thing_is_singular_in_english(new_page, live_server, lang: str) -> None:
    """English says "1 stall", "1 sign" (the string tables choose with {n|stall|stalls});
    Vietnamese has one form."""
    page = await new_page()
    await page.goto("/")
    await page.wait_for_selector("#username")
    got = await page.evaluate(PLURALS, lang)
    if lang == "en":
        assert got == [
            "Today: 1 stall registered, 1 sign delivered",
            "Today: 2 stalls registered, 0 signs delivered",
            "Asked to visit again (1 stall)",
            "1,000 stalls",
        ]
    else:
        assert got[0].startswith("Hôm nay") and "|" not in "".join(got) and "{" not in "".join(got)


PHONES = (
    """async (samples) => {
  """
    + LOADED_MODULE_JS
    + """
  const text = await import(loaded("/static/js/lib/text.js"));
  return samples.map((v) => text.looksLikePhone(v));
}"""
)


async def test_the_device_takes_the_phone_numbers_the_server_takes(new_page, live_server) -> None:
    """The form refuses a phone number at the field by the server's rule: a number the server
    takes ("84905123456", the country code without its "+") was refused on the tablet."""
    from core.types import phone_e164

    samples = [
        "0905 123 456", "+84905123456", "84905123456", "905123456", "0905.123.456",
        "(0236) 3821 111", "842363821111", "+84 236 3821 111", "84845123456", "845123456",
        "8490512345", "090 512 345", "0905 12", "84", "+1 202 555 0143", "0123456789",
        "849051234567", "00849051234", "0084905123456", "0012025550143", "00",
    ]  # fmt: skip
    page = await new_page()
    await page.goto("/")
    await page.wait_for_selector("#username")
    device = await page.evaluate(PHONES, samples)
    server = [phone_e164(v) is not None for v in samples]
    assert dict(zip(samples, device, strict=True)) == dict(zip(samples, server, strict=True))
