/* The page side of the Vitrine SDK: everything that touches the DOM, storage, cookies, the
 * network or the clock's callbacks. The wasm module decides; this file does what it decides.
 * `vitrinePage(sdk, emit, deadline, css, dialogs)` returns the `Loader` the module's `start()`
 * takes (browser-sdk/src/web/io.rs lists its methods); `sdk` is the module's exports, called
 * back by listeners, timers and fetch; `css` the URL of the dialog's stylesheet
 * (js/dialog.css); `dialogs()` imports the exit offer's dialog (js/dialog.js) and resolves to
 * its `{ show }` (tests pass that object itself). Going through a few coarse methods here, rather than web-sys
 * per DOM call, keeps the glue small: each web-sys method is a shim on both sides.
 * scripts/build-sdk.sh splices this into vitrine.js (strict code); the Chromium wasm tests load
 * it too. Performance marks and `now()` are used unchecked: every browser with the WebAssembly
 * features the module needs has them. */
function vitrinePage(sdk, emit, deadline, css, dialogs) {
  var w = window, d = document, perf = w.performance, loc = w.location, hist = w.history;
  var listen = (target, type, handler, passive) => {
    target.addEventListener(type, handler, { capture: true, passive: passive });
  };
  var storage = (local) => {
    try { return local ? w.localStorage : w.sessionStorage; } catch (e) { return null; }
  };
  var slots = [];

  // --- The exit offer: an accessible modal dialog, its code lives in js/dialog.js
  // (vitrine-dialog.js), off the first download: `dialogs()` imports it the first time an offer
  // shows (tests hand the module's dialog itself in). Its CSS (js/dialog.css) is linked once
  // the slots are filled (`listen`); an offer due before both are there waits for them.
  var styled = !css;
  var waiting = null; // the offer to show once styled and loaded
  var dialog = dialogs && dialogs.show ? dialogs : null;
  var loading = null;
  var linkDialogCss = () => {
    var link = d.createElement("link");
    link.rel = "stylesheet";
    link.href = css;
    link.setAttribute("data-vitrine", "dialog");
    link.onload = link.onerror = () => {
      styled = true;
      if (waiting) showOffer(...waiting);
    };
    var head = d.head || d.documentElement;
    head.insertBefore(link, head.firstChild); // first, so the site's own rules win
  };
  function showOffer(...offer) {
    waiting = null;
    if (styled && dialog) return dialog.show(...offer);
    waiting = offer;
    if (!dialog && !loading) {
      loading = dialogs().then((x) => {
        dialog = x;
        if (styled && waiting) showOffer(...waiting);
      }, (e) => { emit("error", "the offer's dialog did not load: " + e); });
    }
  }

  return {
    emit: emit,

    // Where the visitor is (read on every page view). utcOffset: minutes ahead of UTC
    // (getTimezoneOffset counts those behind); timeZone: the IANA name, as Segment sends it.
    // Temporal's where the browser has it: the first Intl.DateTimeFormat in a page loads ICU's
    // locale data, 10-50 ms of main thread before the first fill (BENCHMARKS.md, Browser SDK).
    here: () => {
      return { path: loc.pathname, url: loc.href, title: d.title, referrer: d.referrer, userAgent: navigator.userAgent, utcOffset: -new Date().getTimezoneOffset(), timeZone: w.Temporal ? Temporal.Now.timeZoneId() : Intl.DateTimeFormat().resolvedOptions().timeZone };
    },
    param: (name) => {
      try { return new URLSearchParams(loc.search).get(name); } catch (e) { return null; }
    },
    // Takes a parameter (the deep link's token) out of the address bar.
    dropParam: (name) => {
      try {
        var url = new URL(loc.href);
        url.searchParams.delete(name);
        hist.replaceState(hist.state, "", url.href);
      } catch (e) { /* an opaque or sandboxed page: leave the address alone */ }
    },
    // The edge rendered an offer into this page already.
    offerOnPage: () => { return !!d.querySelector("[data-vitrine-offer]"); },
    // One history entry to catch a back press, never on top of an earlier one.
    armBack: () => {
      var s = hist.state;
      if (s && s.vitrineSentinel !== undefined) return false;
      try { hist.pushState({ vitrineSentinel: true }, ""); return true; } catch (e) { return false; }
    },

    // Slots neither the edge (data-vitrine-filled) nor we (data-vitrine-state) handled yet.
    // `fill(i, html)` fills the i-th with `html` (or, with none, keeps the page's content);
    // false when the anti-flicker deadline passed, so the original content stays for good.
    slots: () => {
      slots = [].slice.call(d.querySelectorAll("[data-vitrine-slot]:not([data-vitrine-filled]):not([data-vitrine-state])"));
      return slots.map((el) => { return el.getAttribute("data-vitrine-slot") || ""; });
    },
    fill: (i, html) => {
      var el = slots[i], late = html != null && perf.now() > deadline;
      if (!el) return false;
      if (html != null && !late) {
        el.innerHTML = html;
        el.setAttribute("data-vitrine-filled", "browser");
      }
      el.setAttribute("data-vitrine-state", html != null && !late ? "filled" : "original");
      return !late;
    },
    mark: (name) => { perf.mark(name); },

    // Web Storage can be missing or throw (privacy modes, full quota): a failure only means
    // the SDK forgets sooner. An empty value removes the key.
    read: (local, key) => {
      var s = storage(local);
      try { return s ? s.getItem(key) : null; } catch (e) { return null; }
    },
    write: (local, key, value) => {
      var s = storage(local);
      try { if (s) { if (value) s.setItem(key, value); else s.removeItem(key); } } catch (e) { /* forgets sooner */ }
    },
    cookies: () => { return d.cookie; },
    setCookie: (text) => { d.cookie = text + (loc.protocol === "https:" ? "; Secure" : ""); },
    random: (bytes) => { if (w.crypto && w.crypto.getRandomValues) w.crypto.getRandomValues(bytes); },

    after: (timer, ms) => {
      return setTimeout(() => { sdk.wake(timer); }, Math.min(Math.max(ms, 0), 2147483647));
    },
    cancel: (id) => { clearTimeout(id); },
    online: () => { return navigator.onLine !== false; },
    // text/plain keeps it a "simple" request (no CORS preflight); keepalive lets it finish
    // after the page unloads. 2xx: taken; other 4xx: refused for good (the body says why);
    // the rest (network, 5xx, 408, 429): try again later.
    post: (url, body, batch) => {
      fetch(url, { method: "POST", body: body, keepalive: true, credentials: "omit", headers: { "content-type": "text/plain;charset=UTF-8" } })
        .then((r) => {
          var s = r.status;
          if (s >= 200 && s < 300) return sdk.sent(batch, false);
          if (s < 400 || s > 499 || s === 408 || s === 429) return sdk.sent(batch, true);
          return r.text().then((t) => { sdk.sent(batch, false, t); }, () => { sdk.sent(batch, false); });
        }, () => { sdk.sent(batch, true); });
    },
    beacon: (url, body) => {
      try { return navigator.sendBeacon(url, body); } catch (e) { return false; }
    },
    showOffer: showOffer,

    // Page life (flush with sendBeacon when it ends or hides; retry when back online) and the
    // inputs exit intent watches. Called once, by the loader, after start().
    listen: () => {
      if (css) linkDialogCss();
      listen(w, "pagehide", () => { sdk.flush(); }, true);
      listen(d, "visibilitychange", () => { if (d.visibilityState === "hidden") sdk.flush(); }, true);
      listen(w, "online", () => { sdk.resume(); }, true);
      // A link followed inside a slot, the edge's or ours: its placement and the item's SKU.
      listen(d, "click", (e) => {
        var t = e.target, a = t && t.closest && t.closest("a[href]"), slot = a && a.closest("[data-vitrine-slot]"), item = a && a.closest("[data-sku]");
        if (slot) sdk.report(2, slot.getAttribute("data-vitrine-slot"), item && slot.contains(item) && item.getAttribute("data-sku") || "");
      }, true);
      // Leaving the document itself: nothing under the pointer any more.
      listen(d, "mouseout", (e) => { if (!e.relatedTarget) sdk.observe(0, e.clientY); }, true);
      listen(w, "scroll", () => { sdk.observe(1, w.scrollY); }, true);
      ["keydown", "pointerdown", "touchstart"].forEach((t) => {
        listen(d, t, () => { sdk.observe(2, 0); }, true);
      });
      listen(w, "popstate", (e) => {
        if (e.state && e.state.vitrineSentinel !== undefined) return; // forward onto our own entry again
        if (sdk.back()) hist.back(); // no offer was due: leave, as the visitor asked
      }, false);
    },
  };
}
