/* The loader's body, shared by the script tag (js/vitrine.js) and the npm module
 * (js/vitrine.mjs): `vitrineLoad(o, early)` starts the SDK and returns the `vitrine` API at once
 * (calls made before it runs wait for it). The logic lives in WebAssembly; this starts it.
 * `o` is the module's `start()` options (endpoint, requireConsent, exitDwellMs, exitIdleMs,
 * backIntent, autoTrack, profileCookie, anonymousId; browser-sdk/src/web/mod.rs) plus the
 * loader's own: `timeout` (ms), `bundle` (URL), `wasm` (the module's URL), `css` (the dialog's
 * stylesheet's URL, js/dialog.css), `ajsAnonymousId` (Segment's id, if any, as `anonymousId`),
 * `lazy(name)` (a function importing a module loaded on first use, off the budgeted download:
 * "push", js/push.js, web push; "dialog", js/dialog.js, the exit offer's dialog and lead form).
 * `early`: calls queued before the script loaded (`window.vitrine = [["track", …], …]`). */
// Strict: spliced into the script tag's strict function, or a module. The User Timing and
// High Resolution Time APIs are older than the WebAssembly this needs: used unchecked.
function vitrineLoad(o, early) {
  var w = window, d = document, perf = w.performance;
  perf.mark("vitrine:start");
  var endpoint = o.endpoint = (o.endpoint || location.origin).replace(/\/+$/, "");
  var fetchOk = (url) => {
    return fetch(url).then((r) => {
      if (!r.ok) throw new Error(url + ": HTTP " + r.status);
      return r;
    });
  };
  // The downloads first (the longest wait of a first visit), the module's first: the two run
  // in parallel, and the wasm compiles while it streams, then is instantiated at once (`m`,
  // wasm-bindgen's glue below, gives the imports; the callback runs after the glue is
  // defined). A server that does not say application/wasm: from the bytes. Then the bundle
  // cut for this visitor and page (cookies go along on the store's own origin).
  var wasm = fetchOk(o.wasm).then((r) => m((imports) => /^application\/wasm\b/.test(r.headers.get("Content-Type")) ?
    WebAssembly.instantiateStreaming(r, imports) : r.arrayBuffer().then((b) => WebAssembly.instantiate(b, imports))));
  // When the bundle's answer comes, while its body and the module are still on their way, the
  // page's first cookie and storage reads: each is a synchronous round trip to the browser
  // process, after which the renderer keeps a copy, so start() reads them without the wait.
  var bundle = fetchOk(o.bundle || endpoint + "/v1/slice?path=" + encodeURIComponent(location.pathname)).then((r) => {
    try { d.cookie; localStorage.length; sessionStorage.length; } catch (e) { /* blocked: start() copes */ }
    return r.arrayBuffer();
  });
  // Segment's anonymous id, when asked for: analytics.js keeps it in a cookie (plain, or
  // quoted as %22…%22 by older versions), else in localStorage (JSON-quoted).
  if (o.ajsAnonymousId) {
    try { o.anonymousId = ((/(?:^|; )ajs_anonymous_id=([^;]+)/.exec(d.cookie) || [])[1] || localStorage.getItem("ajs_anonymous_id") || "").replace(/%22|"/g, "") || o.anonymousId; } catch (e) { /* storage blocked */ }
  }
  var timeout = o.timeout == null ? 1000 : o.timeout;
  var deadline = perf.now() + timeout;

  // No flicker: unfilled slots keep their size but stay hidden until the SDK decides them,
  // or until the timeout shows the page's own content (the SDK then leaves them alone).
  var style = d.createElement("style");
  style.setAttribute("data-vitrine", "anti-flicker");
  style.textContent = "[data-vitrine-slot]:not([data-vitrine-filled]):not([data-vitrine-state]){visibility:hidden}";
  (d.head || d.documentElement).appendChild(style);
  var reveal = () => { if (style.parentNode) style.parentNode.removeChild(style); };
  setTimeout(reveal, timeout);

  var listeners = {};
  var emit = (name, payload) => {
    if (name === "error") console.warn("[vitrine]", payload);
    (listeners[name] || []).slice().forEach((f) => {
      try { f(payload); } catch (e) { console.error(e); }
    });
  };

  var sdk = null;
  var pending = [];
  var call = (name, args) => {
    if (sdk) return sdk[name](...args);
    pending.push([name, args]);
  };
  // `[userId, anonymousId, traits]` now (nothing before the SDK runs).
  var who = (i) => sdk ? sdk.who()[i] : null;
  var user = {
    id: () => who(0),
    anonymousId: () => who(1),
    traits: () => who(2) || {},
  };
  // `vitrine.push.*`: the push module's function of that name, given the API and the endpoint.
  var viaPush = (name) => (options) => o.lazy("push").then((p) => p[name](api, endpoint, options));
  var resolveReady, rejectReady;
  var ready = new Promise((res, rej) => { resolveReady = res; rejectReady = rej; });
  ready.catch(() => {}); // reported through "error"; callers may still catch it

  var api = {
    version: "__VITRINE_VERSION__",
    ready: ready,
    track: (event, properties) => { call("track", [String(event), properties || {}]); },
    // Segment's forms: page(), page(name), page(category, name), page(properties),
    // page(name, properties), page(category, name, properties); name and category go into
    // the properties too, as analytics.js puts them.
    page: (...a) => {
      var last = a[a.length - 1], p = Object.assign({}, last === Object(last) && a.pop());
      var name = a[a.length - 1], category = a[1] !== undefined ? a[0] : null;
      if (name != null) p.name = String(name);
      if (category != null) p.category = String(category);
      call("page", [p]);
    },
    // null forgets the user (""), undefined keeps them (traits only).
    identify: (userId, traits, options) => {
      call("identify", [userId === null ? "" : userId === undefined ? userId : String(userId), traits || {}, String((options && options.token) || "")]);
    },
    reset: () => { call("reset", []); },
    anonymousId: (id) => {
      if (id != null) call("who", [String(id)]);
      return who(1);
    },
    user: () => user,
    consent: (c) => {
      var purposes = c === Object(c);
      call("consent", [purposes ? c.personalization : !!c, purposes ? JSON.stringify(c) : ""]);
    },
    decide: (placement) => {
      return ready.then(() => { return sdk.decide(String(placement)); });
    },
    showExitOffer: () => {
      return ready.then(() => { return sdk.showExitOffer(); });
    },
    flush: () => { call("flush", []); },
    // "Notify me" (back in stock, cheaper): journeys' back_in_stock and price_drop hear it.
    notify: (sku) => { api.track("Product Alert Requested", { sku: "" + sku }); },
    push: { subscribe: viaPush("subscribe"), unsubscribe: viaPush("unsubscribe"), state: viaPush("state") },
    on: (name, handler) => {
      (listeners[name] = listeners[name] || []).push(handler);
      return () => {
        listeners[name] = (listeners[name] || []).filter((f) => { return f !== handler; });
      };
    },
  };

  // wasm-bindgen's glue (`--target no-modules`), spliced in here by scripts/build-sdk.sh: it is
  // ready with this script, where a module import waited in line behind the page's own work
  // (cold loads: the module instantiated at 62 ms median, inlined at 46-52 ms). It defines
  // `wasm_bindgen`, local to this function.
  /*__VITRINE_GLUE__*/

  var m = wasm_bindgen;

  // The page side (browser-sdk/js/page.js, spliced in here by scripts/build-sdk.sh): the DOM,
  // storage, cookies, listeners, timers and fetch, for the module to drive.
  /*__VITRINE_PAGE__*/
  var loader = vitrinePage(m, emit, deadline, o.css, () => o.lazy("dialog").then((x) => x.dialog(m, api)));

  Promise.all([wasm, bundle])
    .then((r) => {
      // Queued subscriptions first, so they hear about this page's slots and events too.
      early = early.filter((c) => {
        if (Array.isArray(c) && c[0] === "on") { api.on(c[1], c[2]); return false; }
        return true;
      });
      var filled = m.start(o, new Uint8Array(r[1]), loader);
      loader.listen();
      sdk = m;
      reveal();
      perf.measure("vitrine:fill", "vitrine:start", "vitrine:filled");
      pending.forEach((c) => { m[c[0]](...c[1]); });
      pending = [];
      // The queue snippet's format: window.vitrine = [["track", "Product Added", {...}], ...]
      early.forEach((c) => {
        if (Array.isArray(c) && typeof api[c[0]] === "function") api[c[0]](...c.slice(1));
      });
      resolveReady(api);
      emit("ready", { filled: filled });
    })
    .catch((e) => {
      reveal(); // the page's own content, as if Vitrine were not there
      emit("error", "could not start: " + (e && e.message ? e.message : e));
      rejectReady(e);
    });
  return api;
}
