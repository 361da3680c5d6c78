// The /docs page: renders /openapi.json with Redoc (vendored from npm,
// web/third_party/redoc), with no request to any other host.
(function () {
  "use strict";
  var el = document.getElementById("api-reference");
  window.__suishenDocs = { violations: [] };
  document.addEventListener("securitypolicyviolation", function (e) {
    window.__suishenDocs.violations.push(e.violatedDirective + " " + e.blockedURI);
  });
  if (!window.Redoc) {
    el.textContent = "The API reference renderer did not load; the document itself is at /openapi.json.";
    return;
  }
  window.Redoc.init(el.getAttribute("data-spec"), {
    nonce: el.getAttribute("data-nonce"),
    hideDownloadButton: false,
    expandResponses: "200,201",
    jsonSampleExpandLevel: 3,
    disableSearch: false,
    theme: { typography: { fontFamily: "system-ui, -apple-system, 'Noto Sans CJK SC', sans-serif", headings: { fontFamily: "system-ui, -apple-system, 'Noto Sans CJK SC', sans-serif" }, code: { fontFamily: "ui-monospace, monospace" } } }
  }, el, function (err) {
    window.__suishenDocs.done = true;
    if (err) {
      window.__suishenDocs.error = String(err);
    }
  });
})();
