// The Mini App's own script (served as /app/app.js, a separate file so a strict CSP needs no
// 'unsafe-inline'). It signs in with the initData Telegram hands the page and keeps the session
// token in memory only: nothing is written to storage a later visitor could read.
(function () {
  "use strict";
  var statusEl = document.getElementById("status");
  var detailEl = document.getElementById("detail");
  var session = null;

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

  var webApp = window.Telegram && window.Telegram.WebApp;
  if (!webApp || !webApp.initData) {
    show("outside", "Open this page from the bot in Telegram.",
      "It signs you in with the data Telegram gives a Mini App; in a normal browser there is none. Send /start to the bot and tap \u201cOpen the app\u201d.");
    return;
  }
  if (typeof webApp.ready === "function") webApp.ready();

  postJson("/auth/telegram/webapp", { initData: webApp.initData })
    .then(function (signedIn) {
      session = { token: signedIn.token, expiresAt: signedIn.expiresAt };
      // Prove the token works the way any API call of this app would use it.
      return postJson("/auth/me", null, session.token);
    })
    .then(function (me) {
      show("signed-in", "Signed in as " + displayName(me.user), "Session valid until " + new Date(session.expiresAt).toLocaleString() + ".");
    })
    .catch(function (err) {
      show("error", "Sign-in failed.", err && err.message ? err.message : String(err));
    });
})();
