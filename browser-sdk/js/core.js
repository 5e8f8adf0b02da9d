/*! Vitrine browser SDK: <script src=".../vitrine.js" data-endpoint="..." async> */
/* The loader. The logic lives in WebAssembly; this file starts it. Options are data attributes
 * (browser-sdk/README.md): endpoint, bundle (URL override), require-consent, timeout (ms),
 * exit-dwell (ms), exit-idle (ms), exit-back ("off"), auto-track ("all" | "page" | "off"),
 * profile-cookie (name). */
(function () {
  "use strict";
  var w = window, d = document, perf = w.performance;
  if (w.vitrine && w.vitrine.version) return; // included twice
  if (perf && perf.mark) perf.mark("vitrine:start");

  var script = d.currentScript || d.querySelector("script[src*='vitrine'][data-endpoint]");
  var attr = function (name, fallback) {
    var v = script && script.getAttribute("data-" + name);
    return v == null || v === "" ? fallback : v;
  };
  var number = function (name) {
    var v = parseFloat(attr(name, ""));
    return isFinite(v) ? v : undefined;
  };
  // The versioned module sits next to this loader (named by scripts/build-sdk.sh).
  var base = new URL(".", (script && script.src) || location.href);
  var endpoint = attr("endpoint", location.origin).replace(/\/+$/, "");
  var timeout = number("timeout");
  if (timeout === undefined) timeout = 1000;
  var deadline = (perf ? perf.now() : 0) + timeout;

  // No flicker: unfilled slots keep their size but stay hidden until the SDK decides them,
  // or until the timeout shows the page's own content (the SDK then leaves them alone).
  var style = d.createElement("style");
  style.setAttribute("data-vitrine", "anti-flicker");
  style.textContent = "[data-vitrine-slot]:not([data-vitrine-filled]):not([data-vitrine-state]){visibility:hidden}";
  (d.head || d.documentElement).appendChild(style);
  var reveal = function () { if (style.parentNode) style.parentNode.removeChild(style); };
  setTimeout(reveal, timeout);

  var listeners = {};
  var emit = function (name, payload) {
    if (name === "error") console.warn("[vitrine]", payload);
    (listeners[name] || []).slice().forEach(function (f) {
      try { f(payload); } catch (e) { console.error(e); }
    });
  };

  var sdk = null;
  var early = Array.isArray(w.vitrine) ? w.vitrine : []; // calls queued before this loaded
  var pending = [];
  var call = function (name, args) {
    if (sdk) return sdk[name].apply(null, args);
    pending.push([name, args]);
  };
  var resolveReady, rejectReady;
  var ready = new Promise(function (res, rej) { resolveReady = res; rejectReady = rej; });
  ready.catch(function () {}); // reported through "error"; callers may still catch it

  var api = {
    version: "__VITRINE_VERSION__",
    ready: ready,
    track: function (event, properties) { call("track", [String(event), properties || {}]); },
    page: function () { call("page", []); },
    identify: function (userId, traits, options) {
      call("identify", [userId == null ? undefined : String(userId), traits || {}, String((options && options.token) || "")]);
    },
    consent: function (c) {
      var o = c === Object(c);
      call("consent", [o ? c.personalization : !!c, o ? JSON.stringify(c) : ""]);
    },
    decide: function (placement) {
      return ready.then(function () { return sdk.decide(String(placement)); });
    },
    showExitOffer: function () {
      return ready.then(function () { return sdk.showExitOffer(); });
    },
    flush: function () { call("flush", []); },
    on: function (name, handler) {
      (listeners[name] = listeners[name] || []).push(handler);
      return function () {
        listeners[name] = (listeners[name] || []).filter(function (f) { return f !== handler; });
      };
    },
  };
  w.vitrine = api;

  var fetchOk = function (url) {
    return fetch(url).then(function (r) {
      if (!r.ok) throw new Error(url + ": HTTP " + r.status);
      return r;
    });
  };
  // The two downloads run in parallel, and the wasm compiles while it streams.
  // The bundle cut for this visitor and page (cookies go along on the store's own origin).
  var bundle = fetchOk(attr("bundle", endpoint + "/v1/slice?path=" + encodeURIComponent(location.pathname))).then(function (r) { return r.arrayBuffer(); });
  var wasm = fetchOk(new URL("__VITRINE_WASM__", base).href).then(function (r) {
    var streams = WebAssembly.compileStreaming && /^application\/wasm\b/.test(r.headers.get("Content-Type") || "");
    return streams ? WebAssembly.compileStreaming(r) : r.arrayBuffer().then(function (b) { return WebAssembly.compile(b); });
  });
  // wasm-bindgen's glue (`--target no-modules`), spliced in here by scripts/build-sdk.sh: it is
  // ready with this script, where a module import waited in line behind the page's own work
  // (cold loads: the module instantiated at 62 ms median, inlined at 46-52 ms). It defines
  // `wasm_bindgen`, local to this function.
  /*__VITRINE_GLUE__*/

  var m = wasm_bindgen;

  // The page side (browser-sdk/js/page.js, spliced in here by scripts/build-sdk.sh): the DOM,
  // storage, cookies, listeners, timers and fetch, for the module to drive.
  /*__VITRINE_PAGE__*/
  var loader = vitrinePage(m, emit, deadline);

  Promise.resolve()
    .then(function () {
      return Promise.all([m({ module_or_path: wasm }), bundle]).then(function (r) {
        var back = attr("exit-back", "on");
        // Queued subscriptions first, so they hear about this page's slots and events too.
        early = early.filter(function (c) {
          if (Array.isArray(c) && c[0] === "on") { api.on(c[1], c[2]); return false; }
          return true;
        });
        var filled = m.start({
          endpoint: endpoint,
          requireConsent: script ? script.hasAttribute("data-require-consent") && attr("require-consent", "true") !== "false" : false,
          exitDwellMs: number("exit-dwell"),
          exitIdleMs: number("exit-idle"),
          backIntent: back !== "off" && back !== "false",
          autoTrack: attr("auto-track", "all"),
          profileCookie: attr("profile-cookie"),
        }, new Uint8Array(r[1]), loader);
        loader.listen();
        sdk = m;
        reveal();
        if (perf && perf.measure) perf.measure("vitrine:fill", "vitrine:start", "vitrine:filled");
        pending.forEach(function (c) { m[c[0]].apply(null, c[1]); });
        pending = [];
        // The queue snippet's format: window.vitrine = [["track", "Product Added", {...}], ...]
        early.forEach(function (c) {
          if (Array.isArray(c) && typeof api[c[0]] === "function") api[c[0]].apply(null, c.slice(1));
        });
        resolveReady(api);
        emit("ready", { filled: filled });
      });
    })
    .catch(function (e) {
      reveal(); // the page's own content, as if Vitrine were not there
      emit("error", "could not start: " + (e && e.message ? e.message : e));
      rejectReady(e);
    });
})();
