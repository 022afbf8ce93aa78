"use strict";

// The page the popup ends on: it posts the flow's result to the demo page that opened it,
// then closes on success; on failure it stays, to say what happened.
(function () {
  const d = document.body.dataset;
  const ok = d.ok === "true";
  const result = { type: "connect:result", ok: ok };
  if (ok) {
    result.connectionId = d.connectionId;
    result.provider = d.provider;
  } else {
    result.error = d.error;
  }
  // Only to a page of this origin: the demo page, never a page the popup was navigated from.
  if (window.opener) {
    window.opener.postMessage(result, location.origin);
  }
  document.getElementById("close").addEventListener("click", () => window.close());
  if (ok) {
    window.close();
  }
})();
