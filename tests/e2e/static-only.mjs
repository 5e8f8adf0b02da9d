// End to end on a plain static site (python's http.server, no worker in front) whose pages
// carry only the script tag: slots, in-session learning, exposures and clicks, exit intent in the four scenarios,
// deep links, consent, offline and retries, and every event reaching the endpoint once.
//
// Needs: dist/sdk (scripts/build-sdk.sh), the fixture bundle and its store's pages
// (FIXTURE_BUNDLE=path, FIXTURE_SITE=dir, written by `cargo run -p vitrine-browser-sdk
// --example fixture-bundle -- BUNDLE --site DIR`). scripts/test-sdk.sh does all three.
// EVENTS_ENDPOINT=http://127.0.0.1:8787 sends events to a running worker instead of the
// built-in stand-in (then the once-each check reads the stand-in's view only when it is used).
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createHmac } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  assertEachOnce, cleanup, launch, leaveThroughTop, open, serveStatic, shownOffer, startCollector, step, visitor, waitFor,
} from "./lib.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const sdkDir = process.env.SDK_DIR || path.join(root, "dist/sdk");
const bundle = process.env.FIXTURE_BUNDLE;
assert.ok(bundle, "FIXTURE_BUNDLE must name the fixture bundle (scripts/test-sdk.sh builds it)");
const pagesDir = process.env.FIXTURE_SITE;
assert.ok(pagesDir, "FIXTURE_SITE must name the fixture store's pages (fixture-bundle --site, scripts/test-sdk.sh)");
const DWELL_MS = 1000;
const IDLE_MS = 2000;
const PHONE = {
  userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
  viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
};

/** The site: the fixture store's pages (written by the fixture-bundle example), the SDK files
 *  next to them, the bundle, our endpoint in the tag. */
function buildSite(endpoint) {
  const site = mkdtempSync(path.join(tmpdir(), "vitrine-static-"));
  cpSync(pagesDir, site, { recursive: true });
  cpSync(sdkDir, path.join(site, "sdk"), { recursive: true });
  copyFileSync(bundle, path.join(site, "bundle.bin"));
  const pages = [];
  const walk = (dir) => readdirSync(dir).forEach((f) => {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) walk(p); else if (f.endsWith(".html")) pages.push(p);
  });
  walk(site);
  for (const p of pages) {
    const html = readFileSync(p, "utf8").replace('data-endpoint="http://127.0.0.1:8787"', `data-endpoint="${endpoint}" data-exit-dwell="${DWELL_MS}" data-exit-idle="${IDLE_MS}"`);
    writeFileSync(p, html);
  }
  // The same home page for a site that must ask for consent first.
  const home = readFileSync(path.join(site, "index.html"), "utf8");
  cpSync(path.join(site, "index.html"), path.join(site, "consent.html"));
  writeFileSync(path.join(site, "consent.html"), home.replace("<script src=", "<script data-require-consent src="));
  // One product page as the edge serves it after filling a slot itself (edge/src/rewrite.rs).
  const c4 = path.join(site, "products/C4/index.html");
  const edgeSlot = '<div data-vitrine-slot="hero" class="hero" data-vitrine-filled="edge" data-vitrine-state="filled"><ul><li data-sku="K1"><a href="/products/K1/">Edge pick</a></li></ul></div>';
  writeFileSync(c4, readFileSync(c4, "utf8").replace("<main>", `<main>\n${edgeSlot}`));
  return site;
}

const slotSkus = (page, slot) => page.$$eval(`[data-vitrine-slot="${slot}"] [data-sku]`, (els) => els.map((e) => e.dataset.sku));
const track = (page, event, props) => page.evaluate(([e, p]) => window.vitrine.track(e, p), [event, props]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Follows the link `selector` to `url` and waits for the SDK there, as `open` does. */
const follow = async (page, selector, url) => {
  await Promise.all([page.waitForURL(url), page.click(selector)]);
  await page.waitForFunction(() => window.vitrine && window.vitrine.ready, null, { timeout: 10_000 });
  await page.evaluate(() => window.vitrine.ready);
};

/** A deep-link token as the journeys sign them, with a key the browser cannot know. */
function deepLinkToken(payload) {
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `${body}.${createHmac("sha256", "any-secret").update(JSON.stringify(payload)).digest("base64url")}`;
}

async function main() {
  const collector = await startCollector();
  const endpoint = process.env.EVENTS_ENDPOINT || collector.url;
  const site = buildSite(endpoint);
  const base = await serveStatic(site);
  const browser = await launch();
  let pageViews = 0;
  let clicker = null; // the visitor of the exposures step (its clicks view products too)

  step("a visitor views three candles, returns home: Just for You and the hero reflect it");
  {
    const { context, page } = await visitor(browser);
    await open(page, `${base}/`); pageViews++;
    const first = await slotSkus(page, "home-for-you");
    assert.ok(first.length > 0, "home-for-you filled for a new visitor");
    assert.equal(await page.getAttribute('[data-vitrine-slot="home-for-you"]', "data-vitrine-filled"), "browser");
    for (const sku of ["C1", "C2", "C3"]) {
      await open(page, `${base}/products/${sku}/`); pageViews++;
      assert.ok((await slotSkus(page, "pdp-pair-with")).length > 0, `pair-with filled on ${sku}`);
    }
    await open(page, `${base}/`); pageViews++;
    const after = await slotSkus(page, "home-for-you");
    assert.ok(after.slice(0, 3).every((s) => s.startsWith("C")), `Just for You leads with candles: ${after}`);
    assert.match(await page.textContent('[data-vitrine-slot="hero"]'), /Light up the evenings/);
    // The same answer from the public API, with no new bundle download.
    const bundleRequests = [];
    page.on("request", (r) => { if (r.url().endsWith("/bundle.bin")) bundleRequests.push(r.url()); });
    await track(page, "Product Viewed", { product_id: "K1" });
    const decided = await page.evaluate(() => window.vitrine.decide("home-for-you"));
    assert.equal(decided.status, "filled");
    assert.deepEqual(bundleRequests, [], "decide() never downloads the bundle again");
    await context.close();
  }

  step("exposures: a page view's slots and a click on one of their products reach /v1/events");
  {
    const { context, page } = await visitor(browser);
    // C4's page: the edge filled its hero, the SDK fills Pair With It.
    await open(page, `${base}/products/C4/`); pageViews++;
    assert.equal(await page.getAttribute('[data-vitrine-slot="hero"]', "data-vitrine-filled"), "edge");
    const skus = await slotSkus(page, "pdp-pair-with");
    assert.ok(skus.length > 0);
    const anonymousId = (await page.evaluate(() => document.cookie)).match(/vt_vid=([^;]+)/)[1];
    const here = (e) => e.anonymousId === anonymousId;
    clicker = anonymousId;
    const listed = await waitFor(() => collector.named("Product List Viewed").find(here), "Product List Viewed", 8000);
    assert.equal(listed.properties.placement, "pdp-pair-with");
    assert.deepEqual(listed.properties.items, skus, "the SKUs the slot shows, in order");
    const pageView = listed.properties.page;
    assert.match(pageView, /^[0-9a-f-]{36}$/, "a page view id");
    // The hero was the edge's: the edge records it, the browser does not.
    await sleep(300);
    const fromHere = collector.events.filter((e) => e.properties && e.properties.page === pageView);
    assert.deepEqual(fromHere.map((e) => [e.event, e.properties.placement]), [["Product List Viewed", "pdp-pair-with"]], "once, and only the slot the SDK filled");
    // A product of our slot: Product Clicked, then the product page.
    await follow(page, '[data-vitrine-slot="pdp-pair-with"] a', `**/products/${skus[0]}/`); pageViews++;
    const clicked = await waitFor(() => collector.named("Product Clicked").find(here), "Product Clicked", 8000);
    assert.deepEqual([clicked.properties.placement, clicked.properties.product_id, clicked.properties.page], ["pdp-pair-with", skus[0], pageView]);
    // A product of the edge's slot is the edge's exposure but the browser's click.
    await open(page, `${base}/products/C4/`); pageViews++;
    await follow(page, '[data-vitrine-slot="hero"] a', "**/products/K1/"); pageViews++;
    const edgeClick = await waitFor(() => collector.named("Product Clicked").find((e) => here(e) && e.properties.placement === "hero"), "Product Clicked in the edge's slot", 8000);
    assert.equal(edgeClick.properties.product_id, "K1");
    await context.close();
  }

  const scenarios = [
    { name: "first-time visitor", expect: "welcome", setup: async () => {} },
    {
      name: "returning customer with a small cart", expect: "free_shipping", text: /£23\.00/,
      setup: async (page) => {
        await page.evaluate(() => window.vitrine.identify("cust-sam", { segment: "Promising", frequency: 2, first_name: "Sam" }));
        await track(page, "Product Added", { product_id: "C2", quantity: 1 });
        await track(page, "Product Added", { product_id: "K3", quantity: 2 });
      },
    },
    {
      name: "high-value cart", expect: "priority_support",
      setup: async (page) => {
        await track(page, "Product Added", { product_id: "C4", quantity: 2 });
        await track(page, "Product Added", { product_id: "G3", quantity: 1 });
      },
    },
    {
      name: "loyal customer", expect: "early_access", text: /Early access, Jane/,
      setup: async (page) => {
        await page.evaluate(() => window.vitrine.identify("cust-jane", { segment: "Loyal", frequency: 6, first_name: "Jane" }));
      },
    },
  ];
  for (const s of scenarios) {
    step(`exit intent, ${s.name}: fires once with the ${s.expect} offer`);
    const { context, page } = await visitor(browser);
    await open(page, `${base}/`); pageViews++;
    await s.setup(page);
    await open(page, `${base}/cart/`); pageViews++;
    await leaveThroughTop(page);
    assert.equal(await shownOffer(page), null, "nothing before the minimum dwell");
    await sleep(DWELL_MS + 100);
    await leaveThroughTop(page);
    const offer = await waitFor(() => shownOffer(page), "the exit offer");
    assert.equal(offer.scenario, s.expect);
    if (s.text) assert.match(offer.text, s.text);
    assert.equal(offer.modal, "true");
    assert.ok(offer.labelled && offer.focusInside, "labelled dialog with the focus inside");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    assert.ok(await page.evaluate(() => document.querySelector("[role=dialog]").contains(document.activeElement)), "Tab stays in the dialog");
    await page.keyboard.press("Escape");
    assert.equal(await shownOffer(page), null, "Esc closes it");
    const anonymousId = (await page.evaluate(() => document.cookie)).match(/vt_vid=([^;]+)/)[1];
    const viewed = await waitFor(() => collector.named("Promotion Viewed").find((e) => e.anonymousId === anonymousId && e.properties.offer), "Promotion Viewed", 8000);
    const closed = await waitFor(() => collector.named("Promotion Closed").find((e) => e.anonymousId === anonymousId), "Promotion Closed", 8000);
    assert.deepEqual(closed.properties, viewed.properties, "the offer it closed");
    assert.match(viewed.properties.page, /^[0-9a-f-]{36}$/);
    await leaveThroughTop(page);
    await sleep(200);
    assert.equal(await shownOffer(page), null, "not twice on a page");
    await open(page, `${base}/`); pageViews++;
    await sleep(DWELL_MS + 100);
    await leaveThroughTop(page);
    await sleep(300);
    assert.equal(await shownOffer(page), null, "not twice in a session");
    await context.close();
  }

  step("exit intent on a phone: the back button after the dwell shows the offer and keeps the visitor");
  {
    const { context, page } = await visitor(browser, PHONE);
    await open(page, `${base}/`); pageViews++;
    await open(page, `${base}/products/C1/`); pageViews++;
    await sleep(DWELL_MS + 100);
    await page.goBack();
    const offer = await waitFor(() => shownOffer(page), "the exit offer on back");
    assert.equal(offer.scenario, "welcome");
    assert.ok(new URL(page.url()).pathname.startsWith("/products/C1"), `still on the product page: ${page.url()}`);
    await page.keyboard.press("Escape");
    const views = () => page.evaluate(() => Number(/\npv (\d+)/.exec(sessionStorage.getItem("vitrine:session") || "")?.[1] || 0));
    const before = await views();
    await page.goBack(); // the second press leaves, as asked
    await waitFor(async () => new URL(page.url()).pathname === "/", "back on the home page");
    await sleep(500);
    pageViews += (await views()) - before; // a fresh page view, unless restored from the back/forward cache
    await context.close();
  }

  step("exit intent on a phone: idleness shows the offer");
  {
    const { context, page } = await visitor(browser, PHONE);
    await open(page, `${base}/`); pageViews++;
    await open(page, `${base}/cart/`); pageViews++;
    assert.equal(await shownOffer(page), null);
    const offer = await waitFor(() => shownOffer(page), "the idle offer", IDLE_MS + DWELL_MS + 3000);
    assert.equal(offer.scenario, "welcome");
    await context.close();
  }

  step("exit intent right after a purchase: no offer");
  {
    const { context, page } = await visitor(browser);
    await open(page, `${base}/`); pageViews++;
    await track(page, "Product Added", { product_id: "K1", quantity: 1 });
    await track(page, "Order Completed", { order_id: "o-1", total: 16.95, products: [{ product_id: "K1", quantity: 1 }] });
    await open(page, `${base}/`); pageViews++;
    await sleep(DWELL_MS + 100);
    await leaveThroughTop(page);
    await sleep(300);
    assert.equal(await shownOffer(page), null);
    await context.close();
  }

  step("a deep link nobody checked shows no offer; the offer the edge checked does");
  {
    // No edge in front of this site: nothing can check the token's signature, so it promises
    // nothing (a forged one would look the same to the browser).
    const { context, page } = await visitor(browser);
    await open(page, `${base}/?vt=${deepLinkToken({ offer: "early-access", cid: "cust-jane" })}&utm_source=email`); pageViews++;
    await sleep(500);
    assert.equal(await shownOffer(page), null, "no offer from an unchecked token");
    assert.ok(!page.url().includes("vt="), `the token leaves the address bar: ${page.url()}`);
    assert.ok(page.url().includes("utm_source=email"), "other parameters stay");
    await context.close();
  }
  {
    // What the edge hands over once it checked a link: the offer in the vt_offer cookie.
    const { context, page } = await visitor(browser);
    await context.addCookies([{ name: "vt_offer", value: "early-access", url: base }]);
    await open(page, `${base}/?vt=checked-by-the-edge&utm_source=email`); pageViews++;
    const offer = await waitFor(() => shownOffer(page), "the promised offer");
    assert.equal(offer.id, "early-access");
    assert.ok(!(await context.cookies(base)).some((c) => c.name === "vt_offer"), "shown once: the cookie is cleared");
    await context.close();
  }

  step("offline: events wait in localStorage, then go when the browser is back online");
  {
    const { context, page } = await visitor(browser);
    await open(page, `${base}/`); pageViews++;
    await context.setOffline(true);
    await track(page, "Products Searched", { query: "offline candle" });
    await sleep(1500);
    const stored = await page.evaluate(() => localStorage.getItem("vitrine:outbox") || "");
    assert.match(stored, /offline candle/, "kept while offline");
    await context.setOffline(false);
    await waitFor(() => collector.events.some((e) => e.properties && e.properties.query === "offline candle"), "the offline event", 8000);
    await context.close();
  }

  step("the endpoint fails once: the batch is retried, not lost, not doubled");
  {
    const { context, page } = await visitor(browser);
    await open(page, `${base}/`); pageViews++;
    await sleep(1200); // the page event goes out alone
    collector.failNext(1);
    await track(page, "Products Searched", { query: "retry me" });
    await waitFor(() => collector.events.some((e) => e.properties && e.properties.query === "retry me"), "the retried event", 8000);
    await context.close();
  }

  step("consent required: nothing sent or stored before consent, then everything once");
  {
    const { context, page } = await visitor(browser);
    await sleep(300);
    const before = collector.requests.length;
    await open(page, `${base}/consent.html`); pageViews++;
    await track(page, "Products Searched", { query: "before consent" });
    await sleep(1500);
    assert.equal(collector.requests.length, before, "no request before consent");
    assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("vitrine"))), [], "nothing in localStorage");
    assert.ok(!(await page.evaluate(() => document.cookie)).includes("vt_vid"), "no id cookie before consent");
    // Per purpose: texts need their own yes; the edge learns the answer from vt_consent.
    await page.evaluate(() => window.vitrine.consent({ personalization: true, email: true, sms: false }));
    await waitFor(() => collector.events.some((e) => e.properties && e.properties.query === "before consent"), "events after consent", 8000);
    await waitFor(() => collector.events.some((e) => e.type === "consent" && e.channels && e.channels.email === true && e.channels.sms === false), "the purposes as given", 8000);
    assert.ok((await page.evaluate(() => document.cookie)).includes("vt_consent=1"), "the edge is told");
    await page.evaluate(() => window.vitrine.consent(false));
    assert.ok((await page.evaluate(() => document.cookie)).includes("vt_consent=0"), "and told of a no");
    await context.close();
  }

  step("every event reached the endpoint once");
  if (endpoint === collector.url) {
    let n = -1;
    while (n !== collector.requests.length) { n = collector.requests.length; await sleep(1500); }
    assertEachOnce(collector.events);
    const pages = collector.events.filter((e) => e.type === "page");
    assert.equal(pages.length, pageViews, "one page event per page view");
    for (const name of ["Product Viewed", "Product Added", "Order Completed", "Promotion Viewed", "Products Searched"]) {
      assert.ok(collector.named(name).length > 0, `${name} arrived`);
    }
    // Automatic on product pages: C1, C2, C3 by the first visitor, C1 again on the phone.
    assert.equal(collector.named("Product Viewed").filter((e) => e.anonymousId !== clicker && ["C1", "C2", "C3"].includes(e.properties.product_id)).length, 4);
    assert.ok(collector.events.some((e) => e.type === "identify" && e.userId === "cust-jane"));
    assert.ok(collector.requests.every((r) => /^text\/plain/.test(r.contentType || "")), "simple requests: no CORS preflight");
    console.log(`  ${collector.events.length} events in ${collector.requests.length} requests, each once`);
  }
}

main()
  .then(() => console.log("static-only e2e: all passed"))
  .catch((e) => { console.error(e); process.exitCode = 1; })
  .finally(cleanup);
