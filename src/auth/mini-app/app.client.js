// The Mini App's own script (served as /app/app.js, a separate file so a strict CSP needs no
// 'unsafe-inline'). It signs in with the initData Telegram hands the page. tgwh accepts an
// initData only once (a replay is refused), and Telegram hands a reloaded Mini App the same
// initData again, so the session is kept in sessionStorage: it belongs to this Mini App's
// webview (or tab) alone and goes away when it closes. It is reused only for the same initData
// (a reload); a new opening of the app brings a new initData and signs in afresh.
(function () {
  "use strict";
  var statusEl = document.getElementById("status");
  var detailEl = document.getElementById("detail");
  var SESSION_KEY = "tgwh.session";

  function show(state, text, detail) {
    statusEl.setAttribute("data-state", state);
    statusEl.textContent = text; // textContent: names are user-controlled
    detailEl.textContent = detail || "";
  }

  function displayName(user) {
    var name = [user.firstName, user.lastName].filter(Boolean).join(" ");
    return user.username ? name + " (@" + user.username + ")" : name;
  }

  function postJson(url, body, token) {
    var headers = { "content-type": "application/json" };
    if (token) headers.authorization = "Bearer " + token;
    return fetch(url, { method: body ? "POST" : "GET", headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (data) {
          if (!res.ok) throw new Error(data.error || "the server answered " + res.status);
          return data;
        });
      });
  }

  // Storage can be unavailable (a locked-down webview): then every load signs in again.
  function savedSession(initDataHash) {
    try {
      var s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
      if (s && s.initDataHash === initDataHash && s.token && Date.parse(s.expiresAt) > Date.now()) return s;
    } catch (e) { /* unreadable: sign in again */ }
    return null;
  }
  function saveSession(s) {
    try { sessionStorage.setItem(SESSION_KEY, JSON.stringify(s)); } catch (e) { /* kept in memory only */ }
  }
  function forgetSession() {
    try { sessionStorage.removeItem(SESSION_KEY); } catch (e) { /* nothing kept */ }
  }

  var webApp = window.Telegram && window.Telegram.WebApp;
  if (!webApp || !webApp.initData) {
    show("outside", "Open this page from the bot in Telegram.",
      "It signs you in with the data Telegram gives a Mini App; in a normal browser there is none. Send /start to the bot and tap \u201cOpen the app\u201d.");
    return;
  }
  if (typeof webApp.ready === "function") webApp.ready();

  var initDataHash = new URLSearchParams(webApp.initData).get("hash") || "";

  function signIn() {
    return postJson("/auth/telegram/webapp", { initData: webApp.initData }).then(function (signedIn) {
      var session = { token: signedIn.token, expiresAt: signedIn.expiresAt, initDataHash: initDataHash };
      saveSession(session);
      return session;
    });
  }

  function whoAmI(session) {
    // Proves the token works the way any API call of this app would use it.
    return postJson("/auth/me", null, session.token).then(function (me) { return { session: session, me: me }; });
  }

  var saved = savedSession(initDataHash);
  var signedIn = saved
    ? whoAmI(saved).catch(function () {
        // Expired or revoked: this initData was used already, so only a new opening can help.
        forgetSession();
        return signIn().then(whoAmI);
      })
    : signIn().then(whoAmI);

  signedIn
    .then(function (r) {
      show("signed-in", "Signed in as " + displayName(r.me.user), "Session valid until " + new Date(r.session.expiresAt).toLocaleString() + ".");
    })
    .catch(function (err) {
      show("error", "Sign-in failed.", err && err.message ? err.message : String(err));
    });
})();
