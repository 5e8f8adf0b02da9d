// Web push from the browser SDK in Chromium, on the fixture store's static pages (python's
// http.server) with the stand-in endpoint (lib.mjs startCollector, serving a fixed VAPID key at
// /v1/push/key and recording /v1/push/report): `vitrine.push.subscribe()` loads its module only
// on use, registers the SDK's service worker, asks for permission, fetches the key and hands the
// subscription to the endpoint as the SDK's own consent and identify events; the service worker
// shows a pushed message and reports it displayed and clicked; unsubscribe, denial, no support.
//
// The browser's own push service is out of reach offline (Chromium's subscribe() would register
// with Google's servers): only `PushManager.prototype.subscribe`, and `getSubscription` that
// returns what it made, are stubbed in the page, with a subscription whose endpoint is a test URL
// and whose keys are test values. Everything else is the browser's own.
//
// Needs SDK_DIR, FIXTURE_BUNDLE and FIXTURE_SITE as static-only.mjs (scripts/test-sdk.sh).
import assert from "node:assert/strict";
import { copyFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createECDH, randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { check, launch, open, runChecks, serveStatic, startCollector, step, stubPushService, testSubscription, visitor, waitFor } from "./lib.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const sdkDir = process.env.SDK_DIR || path.join(root, "dist/sdk");
const bundle = process.env.FIXTURE_BUNDLE;
const pagesDir = process.env.FIXTURE_SITE;
assert.ok(bundle && pagesDir, "FIXTURE_BUNDLE and FIXTURE_SITE must be set (scripts/test-sdk.sh)");

/** A store's VAPID public key: a fresh P-256 point, base64url, as the edge will serve it. */
const vapidPublic = createECDH("prime256v1");
vapidPublic.generateKeys();
const VAPID_KEY = vapidPublic.getPublicKey().toString("base64url");

function buildSite(endpoint) {
  const site = mkdtempSync(path.join(tmpdir(), "vitrine-push-"));
  cpSync(pagesDir, site, { recursive: true });
  cpSync(sdkDir, path.join(site, "sdk"), { recursive: true });
  copyFileSync(bundle, path.join(site, "bundle.bin"));
  const home = path.join(site, "index.html");
  writeFileSync(home, readFileSync(home, "utf8").replace('data-endpoint="http://127.0.0.1:8787"', `data-endpoint="${endpoint}"`));
  return site;
}

const sdkRequests = (page) => {
  const seen = [];
  page.on("request", (r) => { if (/vitrine-(push|sw)\.js/.test(r.url())) seen.push(new URL(r.url()).pathname); });
  return seen;
};

async function main() {
  const collector = await startCollector({ pushKey: VAPID_KEY });
  const base = await serveStatic(buildSite(collector.url));
  const browser = await launch();
  const subscription = testSubscription();

  step("subscribe: loaded on use, service worker, permission, key, subscription to the endpoint");
  const { context, page } = await visitor(browser);
  await context.addInitScript(stubPushService, subscription);
  await context.grantPermissions(["notifications"], { origin: base });
  const loaded = sdkRequests(page);
  await open(page, `${base}/`);
  const anonymousId = (await page.evaluate(() => document.cookie)).match(/vt_vid=([^;]+)/)[1];
  const mine = (e) => e.anonymousId === anonymousId;
  let result;
  await check("nothing of push on a page that does not ask for it", async () => {
    assert.deepEqual(loaded, [], "no push module or worker in the first page load");
    assert.equal(await page.evaluate(() => navigator.serviceWorker.getRegistrations().then((r) => r.length)), 0, "no worker registered");
    assert.equal(collector.keyRequests(), 0, "the key is not fetched");
  });
  await check("subscribe() resolves { subscribed: true }", async () => {
    result = await page.evaluate(() => window.vitrine.push.subscribe());
    assert.deepEqual(result, { subscribed: true });
  });
  await check("the module came on use, the worker is the SDK's, registered with the endpoint", async () => {
    assert.deepEqual(loaded, ["/sdk/vitrine-push.js"]);
    const worker = await page.evaluate(() => navigator.serviceWorker.getRegistration("/sdk/vitrine-sw.js").then((r) => r && r.active && r.active.scriptURL));
    assert.ok(worker, "an active worker");
    const url = new URL(worker);
    assert.equal(url.pathname, "/sdk/vitrine-sw.js");
    assert.equal(url.searchParams.get("endpoint"), collector.url, "reports go to the SDK's endpoint");
  });
  await check("the store's key, fetched from <endpoint>/v1/push/key, is the one subscribed with", async () => {
    assert.equal(collector.keyRequests(), 1);
    const keys = await page.evaluate(() => window.__pushStub.keys);
    assert.deepEqual(keys, [Array.from(Buffer.from(VAPID_KEY, "base64url"))]);
  });
  await check("consent { push: true } and identify { push_token } reach /v1/events", async () => {
    const consent = await waitFor(() => collector.named("consent").find((e) => mine(e) && e.channels && e.channels.push === true), "the push consent", 10_000);
    assert.deepEqual(consent.channels, { push: true });
    const identify = await waitFor(() => collector.named("identify").find((e) => mine(e) && e.traits && e.traits.push_token), "the identify with push_token", 10_000);
    assert.deepEqual(JSON.parse(identify.traits.push_token), { endpoint: subscription.endpoint, expirationTime: null, keys: subscription.keys });
    assert.equal(identify.userId, undefined, "an anonymous visitor stays anonymous");
  });
  await check("state(): subscribed, permission granted", async () => {
    assert.deepEqual(await page.evaluate(() => window.vitrine.push.state()), { subscribed: true, permission: "granted" });
  });
  await check("a second subscribe() reuses the subscription (same key)", async () => {
    assert.deepEqual(await page.evaluate(() => window.vitrine.push.subscribe()), { subscribed: true });
    assert.equal((await page.evaluate(() => window.__pushStub.keys)).length, 1, "subscribe() not called again");
  });

  step("the service worker: a push is shown and reported displayed, a click reported clicked");
  const message = {
    title: "Your basket misses you", body: "The candles are still there", link: `${base}/cart/?vt=token`, image: `${base}/img/C1.jpg`,
    data: { journey: "cart", step: 1, vitrine_key: "k-" + randomBytes(4).toString("hex") },
  };
  await check("a delivered push shows the notification and reports displayed", async () => {
    // What the push service hands the browser after decrypting the edge's message.
    await deliverPush(context, page, base, JSON.stringify(message));
    const shown = await waitFor(() => collector.pushReports.find((r) => r.body.event === "displayed"), "the displayed report", 10_000);
    assert.deepEqual(shown.body, { key: message.data.vitrine_key, event: "displayed" });
    assert.match(shown.contentType, /^text\/plain\b/, "a simple request: no preflight");
    const notes = await page.evaluate(() => navigator.serviceWorker.getRegistration("/sdk/vitrine-sw.js")
      .then((r) => r.getNotifications()).then((n) => n.map((x) => [x.title, x.body, x.image, x.data.link])));
    assert.deepEqual(notes, [[message.title, message.body, message.image, message.link]]);
  });
  await check("a click on it reports clicked and closes it", async () => {
    // Nothing drives a click on a notification: the worker gets a notificationclick event made
    // from the notification it showed. An untrusted event cannot open a window or take
    // waitUntil, so this checks the report and the close, not the tab.
    const worker = await waitFor(() => context.serviceWorkers().find((w) => w.url().includes("/sdk/vitrine-sw.js")), "the worker");
    await worker.evaluate(async () => {
      const [notification] = await self.registration.getNotifications();
      try { self.dispatchEvent(new NotificationEvent("notificationclick", { notification })); } catch (e) { /* waitUntil */ }
    });
    const clicked = await waitFor(() => collector.pushReports.find((r) => r.body.event === "clicked"), "the clicked report", 10_000);
    assert.deepEqual(clicked.body, { key: message.data.vitrine_key, event: "clicked" });
    const left = await page.evaluate(() => navigator.serviceWorker.getRegistration("/sdk/vitrine-sw.js").then((r) => r.getNotifications()).then((n) => n.length));
    assert.equal(left, 0, "closed");
  });
  await check("a push that is not ours shows nothing and reports nothing", async () => {
    const before = collector.pushReports.length;
    await deliverPush(context, page, base, "not json");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(collector.pushReports.length, before);
  });

  step("unsubscribe: the subscription dropped, consent { push: false } sent");
  await check("unsubscribe() resolves { subscribed: false } and withdraws consent", async () => {
    assert.deepEqual(await page.evaluate(() => window.vitrine.push.unsubscribe()), { subscribed: false });
    assert.equal(await page.evaluate(() => window.__pushStub.unsubscribed), 1);
    await waitFor(() => collector.named("consent").find((e) => mine(e) && e.channels && e.channels.push === false), "the push consent withdrawn", 10_000);
    assert.deepEqual(await page.evaluate(() => window.vitrine.push.state()), { subscribed: false, permission: "granted" });
  });
  await context.close();

  step("refusals resolve, never throw: denied, unsupported");
  await check("denied permission: { subscribed: false, reason: 'denied' }, nothing sent", async () => {
    const { context, page } = await visitor(browser);
    await context.addInitScript(stubPushService, subscription);
    const cdp = await context.newCDPSession(page);
    await cdp.send("Browser.setPermission", { permission: { name: "notifications" }, setting: "denied", origin: base });
    await open(page, `${base}/`);
    const keys = collector.keyRequests();
    assert.deepEqual(await page.evaluate(() => window.vitrine.push.subscribe()), { subscribed: false, reason: "denied" });
    assert.equal(collector.keyRequests(), keys, "no key fetched");
    assert.equal(await page.evaluate(() => window.__pushStub.keys.length), 0, "no subscription");
    await context.close();
  });
  await check("a key that is no P-256 point: { subscribed: false, reason: 'failed' } naming the URL", async () => {
    const { context, page } = await visitor(browser);
    await context.addInitScript(stubPushService, subscription);
    await context.grantPermissions(["notifications"], { origin: base });
    // The endpoint answers with a 32-byte key (an Ed25519-sized one, say).
    await page.route(`${collector.url}/v1/push/key`, (route) => route.fulfill({
      contentType: "application/json", headers: { "access-control-allow-origin": "*" },
      body: JSON.stringify({ publicKey: randomBytes(32).toString("base64url") }),
    }));
    await open(page, `${base}/`);
    const result = await page.evaluate(() => window.vitrine.push.subscribe());
    assert.equal(result.reason, "failed");
    assert.equal(result.error, `${collector.url}/v1/push/key: publicKey is not a base64url P-256 key`);
    assert.equal(await page.evaluate(() => window.__pushStub.keys.length), 0, "no subscription");
    await context.close();
  });
  await check("a browser without push: { subscribed: false, reason: 'unsupported' }", async () => {
    const { context, page } = await visitor(browser);
    await context.addInitScript(() => { delete window.PushManager; });
    await open(page, `${base}/`);
    assert.deepEqual(await page.evaluate(() => window.vitrine.push.subscribe()), { subscribed: false, reason: "unsupported" });
    assert.deepEqual(await page.evaluate(() => window.vitrine.push.state()), { subscribed: false, permission: "unsupported" });
    await context.close();
  });
}

/** Delivers `data` to the SDK's push worker as a push message (CDP). */
async function deliverPush(context, page, base, data) {
  const cdp = await context.newCDPSession(page);
  const registrations = [];
  cdp.on("ServiceWorker.workerRegistrationUpdated", (e) => registrations.push(...e.registrations));
  await cdp.send("ServiceWorker.enable");
  const reg = await waitFor(() => registrations.find((r) => r.scopeURL === `${base}/sdk/` && !r.isDeleted), "the worker's registration");
  await cdp.send("ServiceWorker.deliverPushMessage", { origin: base, registrationId: reg.registrationId, data });
}

runChecks(main, "push");
