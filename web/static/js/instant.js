// The worklist at once, on a device signed in: the page the service worker keeps runs this small
// classic script while it is parsed, before any module has loaded (views/worklist.js keepSnapshot
// wrote what it shows). On a slow tablet the app's modules take most of a second to load and run;
// meanwhile the volunteer already sees the list as the app last drew it today (with the time its
// data is from), can scroll it, type in the search box and tap a stall, and the app takes over where
// they are (app.js route, worklistView). Nothing is shown unless everything the app would show
// first is the same: the person signed in, the app's version, the language, the market, no filter
// or search of this tab, and the same day in Vietnam (a list from yesterday waits for the app).
(function () {
  try {
    var raw = localStorage.getItem("choso.snapshot");
    if (!raw || !localStorage.getItem("choso.token")) return;
    var shot = JSON.parse(raw);
    var me = JSON.parse(localStorage.getItem("choso.me") || "null");
    var body = document.body;
    var lang = localStorage.getItem("choso.lang") === "en" ? "en" : "vi";
    var hash = window.location.hash;
    var dayVN = new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 10); // lib/i18n.js today()
    if (!me || shot.user !== me.username || shot.version !== body.getAttribute("data-version")) return;
    if (shot.lang !== lang || shot.day !== dayVN) return;
    if (String(shot.market) !== localStorage.getItem("choso.market." + me.username)) return;
    if (hash && hash !== "#/" && hash !== "#/m/" + shot.market) return;
    if (sessionStorage.getItem("choso.worklist." + shot.market)) return;
    // Our own elements as the app built them (text never became markup: the browser escaped it when
    // worklist.js read the HTML back), and the page's CSP runs no inline script or handler.
    document.getElementById("main").innerHTML = shot.main;
    document.getElementById("topbar").innerHTML = shot.topbar;
    body.setAttribute("data-snapshot", "");
  } catch (err) {
    // No snapshot, or one this page cannot read: the app draws the list itself.
  }
})();
