/*! Vitrine browser SDK loader. The logic lives in WebAssembly; this file starts it.
 *  <script src=".../vitrine.js" data-endpoint="https://edge.example" async></script>
 *  Options (data attributes): endpoint, bundle (URL override), require-consent, timeout (ms),
 *  exit-dwell (ms), exit-idle (ms), exit-back ("off"), auto-track ("all" | "page" | "off"),
 *  profile-cookie (name). */
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
    identify: function (userId, traits) {
      call("identify", [userId == null ? undefined : String(userId), traits || {}]);
    },
    consent: function (granted) { call("consent", [!!granted]); },
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
    return fetch(url, { credentials: "omit" }).then(function (r) {
      if (!r.ok) throw new Error(url + ": HTTP " + r.status);
      return r;
    });
  };
  // The two downloads run in parallel, and the wasm compiles while it streams.
  var bundle = fetchOk(attr("bundle", endpoint + "/v1/bundle")).then(function (r) { return r.arrayBuffer(); });
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

  // The loader's side of the page (`Loader` in src/web/mod.rs): whatever hands the browser a
  // callback lives here and calls the module's exports back. (Each Rust closure handed to
  // JavaScript would cost its own glue in the download.)
  var loader = {
    emit: emit,
    after: function (timer, ms) {
      return setTimeout(function () { m.wake(timer); }, Math.min(Math.max(ms, 0), 2147483647));
    },
    cancel: function (id) { clearTimeout(id); },
    // text/plain keeps it a "simple" request (no CORS preflight); keepalive lets it finish
    // after the page unloads. 2xx: taken; other 4xx: refused for good (the body says why);
    // the rest (network, 5xx, 408, 429): try again later.
    post: function (url, body, batch) {
      fetch(url, { method: "POST", body: body, keepalive: true, credentials: "omit", headers: { "content-type": "text/plain;charset=UTF-8" } })
        .then(function (r) {
          var s = r.status;
          if (s >= 200 && s < 300) return m.sent(batch, false);
          if (s < 400 || s > 499 || s === 408 || s === 429) return m.sent(batch, true);
          return r.text().then(function (t) { m.sent(batch, false, t); }, function () { m.sent(batch, false); });
        }, function () { m.sent(batch, true); });
    },
    showOffer: showOffer,
  };

  var listen = function (target, type, handler, passive) {
    target.addEventListener(type, handler, { capture: true, passive: passive });
  };
  // Page life (flush with sendBeacon when it ends or hides; retry when back online) and the
  // inputs exit intent watches.
  var wire = function () {
    listen(w, "pagehide", function () { m.flush(); }, true);
    listen(d, "visibilitychange", function () { if (d.visibilityState === "hidden") m.flush(); }, true);
    listen(w, "online", function () { m.resume(); }, true);
    // Leaving the document itself: nothing under the pointer any more.
    listen(d, "mouseout", function (e) { if (!e.relatedTarget) m.observe(0, e.clientY); }, true);
    listen(w, "scroll", function () { m.observe(1, w.scrollY); }, true);
    ["keydown", "pointerdown", "touchstart"].forEach(function (t) {
      listen(d, t, function () { m.observe(2, 0); }, true);
    });
    listen(w, "popstate", function (e) {
      if (e.state && e.state.vitrineSentinel !== undefined) return; // forward onto our own entry again
      if (m.back()) history.back(); // no offer was due: leave, as the visitor asked
    }, false);
  };

  // The exit offer: an accessible modal dialog (role=dialog, aria-modal, labelled by the
  // offer's headline, focus kept inside, Esc and the backdrop close it, focus returns to where
  // it was), styled by the site through CSS custom properties, each with a default.
  var CSS = ".vitrine-exit{position:fixed;inset:0;z-index:var(--vitrine-z,2147483000);display:flex;align-items:center;justify-content:center;font:var(--vitrine-font,inherit)}" +
    ".vitrine-exit-backdrop{position:absolute;inset:0;background:var(--vitrine-backdrop,rgba(0,0,0,.5))}" +
    ".vitrine-exit-dialog{position:relative;box-sizing:border-box;width:min(var(--vitrine-dialog-width,28rem),calc(100vw - 2rem));max-height:calc(100vh - 2rem);overflow:auto;padding:var(--vitrine-dialog-padding,1.5rem);background:var(--vitrine-dialog-bg,#fff);color:var(--vitrine-dialog-fg,#111);border-radius:var(--vitrine-radius,12px);box-shadow:var(--vitrine-shadow,0 10px 40px rgba(0,0,0,.3))}" +
    ".vitrine-exit-close{position:absolute;top:.5rem;right:.5rem;border:0;background:none;color:inherit;font-size:1.5rem;line-height:1;padding:.25rem .5rem;cursor:pointer}" +
    ".vitrine-offer-headline{margin:0 2rem .5rem 0;font-size:var(--vitrine-headline-size,1.4rem)}" +
    ".vitrine-offer-code strong{letter-spacing:.05em}" +
    ".vitrine-offer-cta{display:inline-block;margin-top:1rem;padding:.75rem 1.25rem;border-radius:var(--vitrine-radius,12px);background:var(--vitrine-accent,#111);color:var(--vitrine-accent-fg,#fff);text-decoration:none}" +
    ".vitrine-exit :focus-visible{outline:2px solid var(--vitrine-focus,#2563eb);outline-offset:2px}" +
    "@media (prefers-reduced-motion:no-preference){.vitrine-exit-dialog{animation:vitrine-in .2s ease-out}}" +
    "@keyframes vitrine-in{from{opacity:0;transform:translateY(8px)}}";
  var FOCUSABLE = "a[href],button:not([disabled]),input:not([disabled]),select:not([disabled]),textarea:not([disabled]),[tabindex]:not([tabindex='-1'])";
  var dialog = null; // the open one: { root, panel, back (focus to return) }
  var dialogReady = false;
  function showOffer(html, id, scenario) {
    if (dialog || !d.body) return;
    if (!dialogReady) installDialog();
    var root = d.createElement("div");
    root.className = "vitrine-exit";
    root.setAttribute("data-vitrine-offer", id);
    root.setAttribute("data-vitrine-scenario", scenario);
    root.innerHTML = '<div class="vitrine-exit-backdrop" data-vitrine-close></div>' +
      '<div class="vitrine-exit-dialog" role="dialog" aria-modal="true" tabindex="-1">' +
      '<button type="button" class="vitrine-exit-close" aria-label="Close" data-vitrine-close>&times;</button>' + html + "</div>";
    var panel = root.querySelector(".vitrine-exit-dialog");
    var label = function (selector, labelId, aria) {
      var el = panel.querySelector(selector);
      if (el) { el.id = labelId; panel.setAttribute(aria, labelId); }
    };
    label(".vitrine-offer-headline", "vitrine-exit-title", "aria-labelledby");
    label(".vitrine-offer-body", "vitrine-exit-body", "aria-describedby");
    if (!panel.hasAttribute("aria-labelledby")) panel.setAttribute("aria-label", "Special offer");
    dialog = { root: root, panel: panel, back: d.activeElement };
    d.body.appendChild(root);
    panel.focus();
  }
  function closeOffer(reason) {
    var open = dialog;
    if (!open) return;
    dialog = null;
    if (open.root.parentNode) open.root.parentNode.removeChild(open.root);
    if (open.back && open.back.focus) open.back.focus();
    m.offerClosed(reason);
  }
  function installDialog() {
    dialogReady = true;
    var style = d.createElement("style");
    style.setAttribute("data-vitrine", "dialog");
    style.textContent = CSS;
    var head = d.head || d.documentElement;
    head.insertBefore(style, head.firstChild); // first, so the site's own rules win
    listen(d, "keydown", function (e) {
      if (!dialog) return;
      if (e.key === "Escape" || e.key === "Esc") { e.preventDefault(); closeOffer("escape"); }
      else if (e.key === "Tab") trapTab(e);
    }, false);
    // Focus that escapes anyway (a click elsewhere, assistive tech) is brought back.
    listen(d, "focusin", function (e) {
      if (dialog && !dialog.root.contains(e.target)) dialog.panel.focus();
    }, true);
    // The close button and the backdrop close; the call to action reports, then navigates.
    listen(d, "click", function (e) {
      var t = e.target;
      if (!dialog || !t || !t.closest || !dialog.root.contains(t)) return;
      if (t.closest("[data-vitrine-close]")) closeOffer("dismissed");
      else if (t.closest(".vitrine-offer-cta")) m.offerClicked();
    }, true);
  }
  // Tab and Shift+Tab cycle through the dialog's focusable elements only.
  function trapTab(e) {
    var panel = dialog.panel, items = panel.querySelectorAll(FOCUSABLE), active = d.activeElement;
    var first = items[0], last = items[items.length - 1];
    if (!first) { e.preventDefault(); panel.focus(); }
    else if (e.shiftKey && (active === first || active === panel)) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && active === last) { e.preventDefault(); first.focus(); }
  }

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
          slotDeadline: deadline,
          autoTrack: attr("auto-track", "all"),
          profileCookie: attr("profile-cookie", "vt_profile"),
        }, new Uint8Array(r[1]), loader);
        wire();
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
