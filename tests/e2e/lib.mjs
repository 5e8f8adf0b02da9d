// Helpers for the SDK's end-to-end tests: a static file server (python's http.server, as a
// plain static host would be), a stand-in sync endpoint that records events, and Chromium
// through playwright-core. Every process started here is stopped by `cleanup()`.
import { spawn } from "node:child_process";
import http from "node:http";
import { once } from "node:events";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { createECDH, randomBytes } from "node:crypto";

const stops = [];
export async function cleanup() {
  while (stops.length) {
    try { await stops.pop()(); } catch (e) { console.error("cleanup:", e.message); }
  }
}
process.on("exit", () => { for (const s of stops) try { s(); } catch {} });

export const DESKTOP_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

/** Serves `dir` with `python3 -m http.server` on a free port; resolves to its base URL. */
export async function serveStatic(dir) {
  const child = spawn("python3", ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "-d", dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  stops.push(() => child.kill("SIGTERM"));
  let out = "";
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("http.server did not start: " + out)), 10_000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.on("exit", (code) => reject(new Error(`http.server exited (${code}): ${out}`)));
  });
  child.stderr.resume(); // request log: not needed
  return `http://127.0.0.1:${port}`;
}

/**
 * A sync endpoint stand-in: `POST /v1/events` with Segment batches, answered like the worker
 * (200, CORS for pages on other origins). Records every request and event. With `pushKey`
 * (base64url), web push's two routes too: `GET /v1/push/key` answers `{"publicKey": pushKey}`,
 * `POST /v1/push/report` is recorded in `pushReports` (`{body, contentType}`).
 */
export async function startCollector({ pushKey } = {}) {
  const requests = [];
  const events = [];
  const pushReports = [];
  let keyRequests = 0;
  let failNext = 0;
  const server = http.createServer(async (req, res) => {
    res.setHeader("access-control-allow-origin", "*");
    if (req.method === "OPTIONS") { res.writeHead(204, { "access-control-allow-headers": "content-type" }); return res.end(); }
    if (pushKey && req.method === "GET" && req.url === "/v1/push/key") {
      keyRequests++;
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ publicKey: pushKey }));
    }
    if (pushKey && req.method === "POST" && req.url === "/v1/push/report") {
      let body = "";
      for await (const chunk of req) body += chunk;
      pushReports.push({ body: JSON.parse(body), contentType: req.headers["content-type"] });
      res.writeHead(204);
      return res.end();
    }
    if (req.method !== "POST" || req.url !== "/v1/events") { res.writeHead(404); return res.end(); }
    let body = "";
    for await (const chunk of req) body += chunk;
    requests.push({ at: Date.now(), body, contentType: req.headers["content-type"] });
    if (failNext > 0) { failNext--; res.writeHead(503); return res.end("try again"); }
    const batch = JSON.parse(body).batch;
    events.push(...batch);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ accepted: batch.length }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  stops.push(() => new Promise((r) => server.close(r)));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    events,
    pushReports,
    keyRequests: () => keyRequests,
    /** The next `n` requests get a 503 (the SDK must retry them). */
    failNext(n) { failNext = n; },
    named(name) { return events.filter((e) => (e.event || e.type) === name); },
  };
}

export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  stops.push(() => browser.close());
  return browser;
}

/** A fresh visitor: own cookies and storage, a desktop browser (headless counts as a bot). */
export async function visitor(browser, options = {}) {
  const context = await browser.newContext({ userAgent: DESKTOP_UA, viewport: { width: 1200, height: 800 }, ...options });
  const page = await context.newPage();
  page.on("console", (m) => {
    // The fixture's product images do not exist: their 404s are noise.
    if (/\.(jpg|png|svg)$/.test(m.location().url || "")) return;
    if (m.type() === "error" || m.type() === "warning") console.log(`  [page ${m.type()}] ${m.text()}`);
  });
  page.on("pageerror", (e) => console.log("  [page error]", e.message));
  return { context, page };
}

/** Loads `url` and waits until the SDK has decided the page's slots. */
export async function open(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => window.vitrine && window.vitrine.ready && document.querySelectorAll("[data-vitrine-slot]:not([data-vitrine-state])").length === 0, null, { timeout: 10_000 });
  await page.evaluate(() => window.vitrine.ready);
}

/** Moves the pointer out through the top edge of the viewport, as a visitor heading for the tabs. */
export async function leaveThroughTop(page) {
  await page.mouse.move(600, 300);
  await page.mouse.move(600, 5, { steps: 5 });
  await page.mouse.move(600, -20, { steps: 2 });
}

export async function waitFor(check, what, timeout = 5000) {
  const until = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The open exit-offer dialog's scenario and text, or null. */
export async function shownOffer(page) {
  return page.evaluate(() => {
    const root = document.querySelector("[data-vitrine-offer]");
    if (!root) return null;
    const dialog = root.querySelector("[role=dialog]");
    return {
      id: root.getAttribute("data-vitrine-offer"),
      scenario: root.getAttribute("data-vitrine-scenario"),
      text: dialog.textContent,
      modal: dialog.getAttribute("aria-modal"),
      labelled: !!document.getElementById(dialog.getAttribute("aria-labelledby") || "-"),
      focusInside: dialog.contains(document.activeElement),
    };
  });
}

/** Every event's messageId seen exactly once. */
export function assertEachOnce(events) {
  const seen = new Map();
  for (const e of events) seen.set(e.messageId, (seen.get(e.messageId) || 0) + 1);
  const dupes = [...seen].filter(([, n]) => n > 1);
  assert.deepEqual(dupes, [], "no event delivered twice");
  assert.ok(events.every((e) => typeof e.messageId === "string" && e.messageId.length >= 16), "each event has a messageId");
}

export function step(name) {
  console.log(`- ${name}`);
}

const failures = [];
/** Runs one check; a failure is reported and the run goes on, so one gap hides no other. */
export async function check(name, fn) {
  try { await fn(); } catch (e) { failures.push(name); console.log(`  FAILED: ${name}\n    ${String(e.message).split("\n")[0]}`); }
}

/** Runs a suite of `check`s: `name: all passed`, or the run fails naming every failed check. */
export function runChecks(main, name) {
  return main()
    .then(() => {
      if (failures.length) throw new Error(`${failures.length} check(s) failed: ${failures.join("; ")}`);
      console.log(`${name}: all passed`);
    })
    .catch((e) => { console.error(e); process.exitCode = 1; })
    .finally(cleanup);
}

/** The stub of the browser's push service, out of reach offline (Google's, Mozilla's servers): only
 *  `PushManager.prototype.subscribe` and `getSubscription`. Runs in the page before its scripts.
 *  Records the applicationServerKey each subscribe() was given. */
export function stubPushService(subscription) {
  const made = { keys: [], unsubscribed: 0, current: null };
  window.__pushStub = made;
  const fake = (options) => ({
    endpoint: subscription.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: options.userVisibleOnly, applicationServerKey: new Uint8Array(options.applicationServerKey).buffer },
    toJSON: () => ({ endpoint: subscription.endpoint, expirationTime: null, keys: subscription.keys }),
    unsubscribe: async () => { made.unsubscribed++; made.current = null; return true; },
  });
  PushManager.prototype.subscribe = async function (options) {
    made.keys.push(Array.from(new Uint8Array(options.applicationServerKey)));
    if (!options.userVisibleOnly) throw new DOMException("userVisibleOnly is required", "NotAllowedError");
    return (made.current = fake(options));
  };
  PushManager.prototype.getSubscription = async function () { return made.current; };
}

/** A subscription as the browser would make it: the user agent's P-256 key and auth secret. */
export function testSubscription() {
  const ua = createECDH("prime256v1");
  ua.generateKeys();
  return {
    endpoint: "https://push.test/send/" + randomBytes(8).toString("hex"),
    keys: { p256dh: ua.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") },
  };
}
