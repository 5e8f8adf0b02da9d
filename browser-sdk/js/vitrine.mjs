/*! Vitrine browser SDK, as an ES module (npm: @vitrine/browser) */
/* `load(options)` starts the SDK (js/core.js, spliced in by scripts/build-sdk.sh) and returns
 * the `vitrine` API; once per page: later calls, or a page that has the script tag too, get
 * the same API. Options (vitrine.d.ts, `LoadOptions`): the script tag's data attributes in
 * camelCase (endpoint, bundle, requireConsent, timeout, exitDwellMs, exitIdleMs, backIntent,
 * autoTrack, profileCookie, anonymousId, ajsAnonymousId), and `wasm` and `css`: where the
 * module and the dialog's stylesheet are, by default the files next to this one (bundlers that
 * follow `new URL(…, import.meta.url)` copy them; with others, import
 * "@vitrine/browser/vitrine.wasm" and "@vitrine/browser/vitrine.css" as files and pass their
 * URLs). `vitrine.push` imports ./vitrine-push.js on first use, the first exit offer
 * ./vitrine-dialog.js. */
/*__VITRINE_CORE__*/

var loaded;

export function load(options) {
  var w = window;
  if (loaded) return loaded;
  if (w.vitrine && w.vitrine.version) return (loaded = w.vitrine);
  var o = Object.assign({}, options);
  o.wasm = String(o.wasm || new URL("__VITRINE_WASM__", import.meta.url));
  o.css = String(o.css || new URL("vitrine.css", import.meta.url));
  // A literal specifier: bundlers split the push module into a chunk of its own.
  o.lazy = (name) => name === "push" ? import("./vitrine-push.js") : import("./vitrine-dialog.js");
  return (loaded = vitrineLoad(o, []));
}
