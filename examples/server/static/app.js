"use strict";

// The demo page: starts an OAuth flow with POST /v1/oauth-connect and runs it in a popup,
// hears the popup's "connect:result" message, connects API keys with POST
// /v1/projects/{project}/connections, lists the project's connections, each with a button
// that calls its API through the backend (POST /demo/connections/{id}/call), and shows the
// fingerprint of the new connection's token.
(function () {
  const apiKey = document.body.dataset.apiKey;
  const project = document.body.dataset.project;
  // Tall enough for the consent page, which is laid out to fit 520x560.
  const popupFeatures = "popup,width=520,height=600";
  // How long to wait, once the popup is seen closed, for its message to arrive: the end
  // page posts its result and closes at once, and the two may be seen in either order.
  const closeGraceMs = 400;

  const providerSelect = document.getElementById("provider");
  const connectButton = document.getElementById("connect");
  const keyForm = document.getElementById("key-form");
  const keyInput = document.getElementById("api-key");
  const keyProvider = document.getElementById("key-provider");
  const saveKeyButton = document.getElementById("save-key");
  const noticeBox = document.getElementById("notice");
  const errorBox = document.getElementById("error");
  const list = document.getElementById("connections");
  const noConnections = document.getElementById("no-connections");
  const tokenBox = document.getElementById("token");

  // What each of connecthttp's callback failure codes means; the popup's page says more.
  const failures = {
    access_denied: "access was denied",
    invalid_state: "the answer did not match a flow of this browser",
    expired: "the flow expired",
    exchange_failed: "the provider did not give tokens",
    store_unavailable: "a store is unavailable",
    invalid_request: "the provider's answer was malformed",
    server_error: "something went wrong on the server",
  };

  let popup = null;
  let watch = 0;
  let settled = true; // whether the flow in the popup has told its result

  function show(box, text) {
    box.textContent = text;
    box.hidden = false;
  }

  function clearMessages() {
    for (const box of [noticeBox, errorBox]) {
      box.textContent = "";
      box.hidden = true;
    }
  }

  function busy(on) {
    connectButton.disabled = on;
    connectButton.textContent = on ? "Connecting…" : "Connect";
  }

  // problemText turns an RFC 9457 problem (or any failed response) into one line.
  async function problemText(res) {
    let text = res.status + " " + res.statusText;
    try {
      const p = await res.json();
      text = p.detail || p.title || text;
      if (Array.isArray(p.errors) && p.errors.length > 0) {
        text += ": " + p.errors.map((e) => e.field + " " + e.message).join("; ");
      }
    } catch (_) {
      // Not JSON: keep the status line.
    }
    return text;
  }

  async function api(path, options) {
    const opts = Object.assign({ credentials: "same-origin" }, options || {});
    opts.headers = Object.assign({ "X-Api-Key": apiKey }, opts.headers || {});
    const res = await fetch(path, opts);
    if (!res.ok) {
      throw new Error(await problemText(res));
    }
    return res.status === 204 ? null : res.json();
  }

  async function connect() {
    clearMessages();
    // Open the popup now, in the click's user activation, so that no popup blocker stops
    // it; it is pointed at the provider once the backend answers.
    popup = window.open("", "connect", popupFeatures);
    if (!popup) {
      show(errorBox, "The popup was blocked: allow popups for this page and try again.");
      return;
    }
    busy(true);
    settled = false;
    let url;
    try {
      url = await api("/v1/oauth-connect", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          projectId: project,
          provider: providerSelect.value,
          groupRef: "demo-group",
          consumerRef: "demo-user",
          // Binds the flow to this browser with the __Host-connect-binding cookie (HttpOnly,
          // Secure, SameSite=Lax) set on this response. Chromium treats http://127.0.0.1 as a
          // secure context and keeps Secure cookies from it, so this works on loopback.
          enableCSRFProtection: true,
        }),
      });
    } catch (err) {
      settled = true;
      popup.close();
      popup = null;
      busy(false);
      show(errorBox, "Could not start the connection: " + err.message);
      return;
    }
    window.open(url, "connect", popupFeatures);
    // If the user closes the popup without finishing, say so and give the button back.
    clearInterval(watch);
    watch = setInterval(() => {
      if (popup && !popup.closed) {
        return;
      }
      clearInterval(watch);
      popup = null;
      setTimeout(() => {
        if (settled) {
          return;
        }
        settled = true;
        busy(false);
        show(noticeBox, "The window was closed before the connection finished, so nothing was connected. Click Connect to try again.");
      }, closeGraceMs);
    }, 250);
  }

  async function onMessage(event) {
    if (event.origin !== location.origin) {
      return;
    }
    const data = event.data;
    if (!data || data.type !== "connect:result" || settled) {
      return;
    }
    settled = true;
    clearInterval(watch);
    popup = null;
    busy(false);
    if (!data.ok) {
      const why = failures[data.error] || "an unknown error";
      show(errorBox, "The connection failed (" + data.error + "): " + why + ".");
      return;
    }
    try {
      await refreshConnections(data.connectionId);
      await showToken(data.connectionId);
    } catch (err) {
      show(errorBox, err.message);
    }
  }

  async function saveKey(event) {
    event.preventDefault();
    clearMessages();
    saveKeyButton.disabled = true;
    try {
      const conn = await api("/v1/projects/" + encodeURIComponent(project) + "/connections", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          provider: keyProvider.value,
          groupRef: "demo-group",
          consumerRef: "demo-user",
          apiKey: keyInput.value,
          // The provider's verification request is made first: a key it refuses is not
          // stored.
          verify: true,
        }),
      });
      keyInput.value = "";
      show(noticeBox, "Connected " + conn.provider + " with the API key.");
      await refreshConnections(conn.id);
    } catch (err) {
      show(errorBox, "Could not connect the API key: " + err.message);
    } finally {
      saveKeyButton.disabled = false;
    }
  }

  async function refreshConnections(newId) {
    const conns = await api("/v1/projects/" + encodeURIComponent(project) + "/connections");
    list.replaceChildren(
      ...conns.map((c) => {
        const li = document.createElement("li");
        li.dataset.id = c.id;
        li.dataset.provider = c.provider;
        li.dataset.status = c.status;
        if (c.id === newId) {
          li.classList.add("new");
        }
        const provider = document.createElement("span");
        provider.className = "provider";
        provider.textContent = c.provider;
        const status = document.createElement("span");
        status.className = "status";
        status.textContent = c.status;
        const id = document.createElement("code");
        id.className = "id";
        id.textContent = c.id;
        const call = document.createElement("button");
        call.type = "button";
        call.className = "call";
        call.textContent = "Call API";
        const answer = document.createElement("pre");
        answer.className = "answer";
        answer.hidden = true;
        call.addEventListener("click", () => callAPI(c.id, call, answer));
        li.append(provider, status, id, call, answer);
        return li;
      }),
    );
    noConnections.hidden = conns.length > 0;
  }

  // callAPI has the backend call the connection's API with its credential, and shows the
  // answer's status and body.
  async function callAPI(id, button, answer) {
    button.disabled = true;
    answer.hidden = false;
    answer.classList.remove("failed");
    answer.textContent = "Calling…";
    try {
      const v = await api("/demo/connections/" + encodeURIComponent(id) + "/call", { method: "POST" });
      const body = v.body !== undefined ? JSON.stringify(v.body, null, 2) : v.text || "";
      answer.textContent = v.method + " " + v.url + "\n" + v.status + "\n" + body;
      answer.dataset.status = String(v.status);
      if (v.status >= 400) {
        answer.classList.add("failed");
      }
    } catch (err) {
      answer.textContent = "The call failed: " + err.message;
      answer.dataset.status = "";
      answer.classList.add("failed");
    } finally {
      button.disabled = false;
    }
  }

  async function showToken(id) {
    const res = await fetch("/demo/token/" + encodeURIComponent(id), { credentials: "same-origin" });
    if (!res.ok) {
      throw new Error("Could not get a token: " + (await problemText(res)));
    }
    const t = await res.json();
    let text = t.tokenType + " token " + t.fingerprint;
    if (t.expiry) {
      text += ", expires " + new Date(t.expiry).toLocaleTimeString();
    }
    tokenBox.textContent = text;
    tokenBox.classList.add("shown");
  }

  connectButton.addEventListener("click", connect);
  keyForm.addEventListener("submit", saveKey);
  window.addEventListener("message", onMessage);
  refreshConnections("").catch((err) => show(errorBox, err.message));
})();
