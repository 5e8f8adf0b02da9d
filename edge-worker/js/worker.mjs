// The worker's entry, the JavaScript half of the runtime layer (ARCHITECTURE.md, "edge-worker").
// It owns the HTTP: a store page's origin request (the one place it is made) and the response.
// A store page is any path the worker does not own (`Edge.ownPrefixes`, `Edge.ownPaths`:
// routes.rs) but the demo picker's (`?vitrine_as=`, `DEMO_PICKER=1` only: `Edge.picks`). Its
// origin request goes out first, before any other call into wasm (the settings are read once per
// isolate), so that the origin's time runs while Rust reads the request. A GET or HEAD then
// takes the hot path: Rust is called synchronously with plain values: `Edge.hot` (the request's
// facts: is the hot path possible), for a browser's page load `HotPage.early` while the origin
// answers (the bundle, the visitor, every slot decided), and `HotPage.answer` (what the origin
// said: one plan). The rules stay in Rust; this carries them out. Any other store page (another
// method, a bypass, a KV read due: a bundle check or a profile refresh, an origin that sends the
// identity header) is answered by Rust asynchronously, given the origin's answer
// (`Edge.pageWithOrigin`); the worker's own paths, the demo picker and, with no `ORIGIN_URL`,
// every page by `Edge.fetch` (edge-worker/src/entry.rs). A store page either returns is streamed
// here too. The rewriter's slot handler is a lookup, never a call into wasm, and the page is
// never buffered. Why: BENCHMARKS.md, "Edge worker".
// scripts/build-worker.sh copies this file next to worker-build's output (`./index.js`).
import Rust, { Edge, VisitorDo } from "./index.js";

export { VisitorDo };

const ATTRIBUTE = Edge.slotAttribute();
const SELECTOR = Edge.slotSelector();
const HTML = { html: true };
// Read once per isolate, from Rust: the request headers the page's context reads (in the order
// `Edge.hot` takes them), the origin's response headers the page rules read (in the order
// `HotPage.answer` takes them), the origin's identity header, when a page view's exposures are
// sent. (`set-cookie` below is HTTP's own name, not a rule.)
const [COOKIE, USER_AGENT, REFERER, DEBUG_COUNTRY, BYPASS] = Edge.requestHeaders();
const [CONTENT_TYPE, CONTENT_DISPOSITION, LOCATION, VARY] = Edge.originHeaders();
const IDENTITY = Edge.originIdentityHeader();
const [ACCEPT, FETCH_DEST] = Edge.pageLoadHeaders();
const SEND_AFTER_MS = Edge.sendAfterMs();

const OWN_PREFIXES = Edge.ownPrefixes();
const OWN_PATHS = Edge.ownPaths();
// `ORIGIN_URL` and `DEMO_PICKER` as Rust's settings read them: once per isolate (they take `env`).
let originUrl, demoPicker;

export default class Worker extends Rust {
  async fetch(request) {
    const u = new URL(request.url);
    const path = u.pathname;
    const method = request.method;
    const get = method === "GET" || method === "HEAD";
    if (originUrl === undefined) [originUrl, demoPicker] = [Edge.originUrl(this.env), Edge.demoPicker(this.env)];
    if (originUrl === "" || OWN_PATHS.includes(path) || OWN_PREFIXES.some((prefix) => path.startsWith(prefix)) || (get && demoPicker && u.search !== "" && Edge.picks(u.search))) {
      const answer = await Edge.fetch(request, this.env, this.ctx);
      return answer instanceof Response ? answer : stream(answer);
    }
    const answered = askOrigin(request, u, get);
    // The runtime sends the request when this code yields: now, so that the origin's time runs
    // while Rust reads the request (and, for a page load, decides it).
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (get) {
      const h = request.headers;
      const hot = Edge.hot(this.env, Date.now(), method, path, u.search, u.origin, request.cf?.country ?? null, h.get(COOKIE), h.get(USER_AGENT),
        h.get(REFERER), h.get(DEBUG_COUNTRY), h.get(BYPASS), h.get(ACCEPT), h.get(FETCH_DEST));
      if (hot !== undefined) return hotPage(request, hot, this.env, this.ctx, answered);
    }
    return asyncPage(request, this.env, this.ctx, answered);
  }
}

/**
 * A store page's origin request: the visitor's, at the same path and query on `ORIGIN_URL` (so
 * with the origin's own `Host`), the worker's host and scheme told in `X-Forwarded-Host` and
 * `X-Forwarded-Proto`, its redirects returned as they are; its body unless a `GET` or `HEAD`
 * (`get`), which cannot have one. Its answer, a promise.
 */
function askOrigin(request, u, get) {
  const headers = new Headers(request.headers);
  headers.delete("host");
  headers.set("x-forwarded-host", u.hostname);
  headers.set("x-forwarded-proto", u.protocol === "https:" ? "https" : "http");
  const body = get ? null : request.body;
  const answered = fetch(originUrl + u.pathname + u.search, { method: request.method, headers, body, redirect: "manual" });
  answered.catch(() => {}); // awaited later, after calls into Rust: not an unhandled rejection meanwhile
  return answered;
}

/**
 * A store page on the hot path: the origin's answer, one plan from Rust. (A function, not a
 * method: a method of the entrypoint would be callable over RPC.)
 */
async function hotPage(request, hot, env, ctx, answered) {
  let slots;
  if (hot.pageLoad) {
    // A browser's page load is decided while the origin answers, not after the answer came.
    if (!hot.early(Date.now())) {
      hot.free();
      return asyncPage(request, env, ctx, answered);
    }
    slots = slotsOf(hot);
  }
  let origin;
  try {
    origin = await answered;
  } catch (e) {
    const failed = hot.unreachable(String(e));
    hot.free();
    return failed;
  }
  const oh = origin.headers;
  const answer = hot.answer(Date.now(), origin.status, oh.get(CONTENT_TYPE), oh.get(CONTENT_DISPOSITION), oh.get(LOCATION), oh.get(VARY),
    oh.has(IDENTITY));
  // Signs someone in or out, or a KV read is due: the async path, with this response.
  if (answer === undefined) {
    hot.free();
    return asyncPage(request, env, ctx, answered);
  }
  const plan = JSON.parse(answer);
  if (plan.cookies === undefined) {
    hot.free();
    if (plan.location !== undefined) {
      const h = new Headers(oh);
      h.set(LOCATION, plan.location);
      return new Response(origin.body, { status: origin.status, statusText: origin.statusText, headers: h });
    }
    if (plan.rewrite) return rewrite(origin, new Map(), null);
    return origin;
  }
  slots ??= slotsOf(hot);
  let filled = null;
  let ended;
  if (plan.records) {
    // The page view's exposures: the slots it really had, sent a little after the document's end.
    filled = [];
    const end = new Promise((resolve) => (ended = resolve));
    ctx.waitUntil(end.then(() => new Promise((resolve) => setTimeout(resolve, SEND_AFTER_MS))).then(() => hot.record(filled)));
  } else {
    hot.free();
  }
  // The rewriter's own response is a copy whose headers may change: edited there, not copied
  // again. (Without a body it is the origin's own, whose headers may not.)
  let response = rewrite(origin, slots, filled, ended);
  if (response === origin) response = new Response(null, { status: origin.status, statusText: origin.statusText, headers: oh });
  const h = response.headers;
  for (const name of plan.remove) h.delete(name);
  for (const [name, value] of plan.set) h.set(name, value);
  for (const cookie of plan.cookies) h.append("set-cookie", cookie);
  return response;
}

/** A store page off the hot path: Rust, asynchronously, given the origin's answer (never asked again). */
async function asyncPage(request, env, ctx, answered) {
  const page = await Edge.pageWithOrigin(request, env, ctx, answered);
  return page instanceof Response ? page : stream(page);
}

/** A store page from the async path through the rewriter. */
function stream(page) {
  const slots = slotsOf(page);
  const response = page.response;
  if (!page.records) {
    page.free();
    return rewrite(response, slots, null);
  }
  const filled = [];
  return rewrite(response, slots, filled, () => page.streamed(filled));
}

/**
 * What each slot gets, by placement, from a page's `slots` (`[[placement, marks, fills], …]`) and
 * then its `html` (the inner HTML of those that fill, in order; apart from the JSON:
 * `PageDecisions::for_entry` in edge/src/pages.rs says why).
 */
function slotsOf(page) {
  const entries = JSON.parse(page.slots);
  const html = page.html;
  let next = 0;
  return new Map(entries.map(([placement, marks, fills]) => [placement, { marks, html: fills ? html[next++] : undefined }]));
}

/**
 * `response` through the rewriter: each slot gets its decided content and marks. `filled`
 * (unless null) collects the placements filled, in document order, and `end` runs once the
 * document went by.
 */
function rewrite(response, slots, filled, end) {
  const rewriter = new HTMLRewriter().on(SELECTOR, {
    element(el) {
      const placement = el.getAttribute(ATTRIBUTE).trim();
      const slot = slots.get(placement);
      if (slot === undefined) return; // not a placement of the bundle: left alone
      if (slot.html !== undefined) el.setInnerContent(slot.html, HTML);
      for (const [name, value] of slot.marks) el.setAttribute(name, value);
      filled?.push(placement);
    },
  });
  return (end ? rewriter.onDocument({ end }) : rewriter).transform(response);
}
