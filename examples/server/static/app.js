"use strict";

// The demo page: starts a flow with POST /v1/oauth-connect, runs it in a popup, hears the
// popup's "connect:result" message, then lists the project's connections and shows a preview
// of the new connection's token.
(function () {
  const apiKey = document.body.dataset.apiKey;
  const project = document.body.dataset.project;
  const popupFeatures = "popup,width=520,height=640";

  const providerSelect = document.getElementById("provider");
  const connectButton = document.getElementById("connect");
  const errorBox = document.getElementById("error");
  const list = document.getElementById("connections");
  const noConnections = document.getElementById("no-connections");
  const tokenBox = document.getElementById("token");

  let popup = null;
  let watch = 0;

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.textContent = "";
    errorBox.hidden = true;
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
    clearError();
    // Open the popup now, in the click's user activation, so that no popup blocker stops
    // it; it is pointed at the provider once the backend answers.
    popup = window.open("", "connect", popupFeatures);
    if (!popup) {
      showError("The popup was blocked: allow popups for this page and try again.");
      return;
    }
    busy(true);
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
      popup.close();
      popup = null;
      busy(false);
      showError("Could not start the connection: " + err.message);
      return;
    }
    window.open(url, "connect", popupFeatures);
    // If the user closes the popup without finishing, give the button back.
    clearInterval(watch);
    watch = setInterval(() => {
      if (!popup || popup.closed) {
        clearInterval(watch);
        popup = null;
        busy(false);
      }
    }, 500);
  }

  async function onMessage(event) {
    if (event.origin !== location.origin) {
      return;
    }
    const data = event.data;
    if (!data || data.type !== "connect:result") {
      return;
    }
    clearInterval(watch);
    popup = null;
    busy(false);
    if (!data.ok) {
      showError("The connection failed: " + data.error);
      return;
    }
    try {
      await refreshConnections(data.connectionId);
      await showToken(data.connectionId);
    } catch (err) {
      showError(err.message);
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
        li.append(provider, status, id);
        return li;
      }),
    );
    noConnections.hidden = conns.length > 0;
  }

  async function showToken(id) {
    const res = await fetch("/demo/token/" + encodeURIComponent(id), { credentials: "same-origin" });
    if (!res.ok) {
      throw new Error("Could not get a token: " + (await problemText(res)));
    }
    const t = await res.json();
    let text = t.tokenType + " " + t.accessTokenPreview;
    if (t.expiry) {
      text += " (expires " + new Date(t.expiry).toLocaleTimeString() + ")";
    }
    tokenBox.textContent = text;
    tokenBox.classList.add("shown");
  }

  connectButton.addEventListener("click", connect);
  window.addEventListener("message", onMessage);
  refreshConnections("").catch((err) => showError(err.message));
})();
