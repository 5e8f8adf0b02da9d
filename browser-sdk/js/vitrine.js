/*! Vitrine browser SDK: <script src=".../vitrine.js" data-endpoint="..." async> */
/* The script tag's loader: reads the options from the tag's data attributes
 * (browser-sdk/README.md): endpoint, bundle (URL override), require-consent, timeout (ms),
 * exit-dwell (ms), exit-idle (ms), exit-back ("off"), auto-track ("all" | "page" | "off"),
 * profile-cookie (name), ajs-anonymous-id; starts the SDK (js/core.js, spliced in by
 * scripts/build-sdk.sh) and sets `window.vitrine`. */
(function () {
  "use strict";
  var w = window;
  if (w.vitrine && w.vitrine.version) return; // included twice
  /*__VITRINE_CORE__*/
  var script = document.currentScript || document.querySelector("script[src*='vitrine'][data-endpoint]");
  var attr = (name, fallback) => {
    var v = script && script.getAttribute("data-" + name);
    return v == null || v === "" ? fallback : v;
  };
  var number = (name) => {
    var v = parseFloat(attr(name, ""));
    return isFinite(v) ? v : undefined;
  };
  var back = attr("exit-back", "on");
  var here = (script && script.src) || location.href;
  var beside = (file) => new URL(file, here);
  w.vitrine = vitrineLoad({
    endpoint: attr("endpoint"),
    bundle: attr("bundle"),
    // The versioned module and the dialog's CSS sit next to this loader (scripts/build-sdk.sh).
    wasm: beside("__VITRINE_WASM__").href,
    css: beside("vitrine.css").href,
    // The modules loaded on use: web push ("push"), the exit offer's dialog ("dialog").
    lazy: (name) => import(beside("vitrine-" + name + ".js")),
    timeout: number("timeout"),
    requireConsent: script ? script.hasAttribute("data-require-consent") && attr("require-consent", "true") !== "false" : false,
    exitDwellMs: number("exit-dwell"),
    exitIdleMs: number("exit-idle"),
    backIntent: back !== "off" && back !== "false",
    autoTrack: attr("auto-track", "all"),
    profileCookie: attr("profile-cookie"),
    ajsAnonymousId: !!script && script.hasAttribute("data-ajs-anonymous-id"),
  }, Array.isArray(w.vitrine) ? w.vitrine : []);
})();
