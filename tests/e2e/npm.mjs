// The npm package end to end: the packed tarball (scripts/build-sdk.sh, NPM_TARBALL) installed
// into a tiny app with npm, bundled with esbuild (the wasm through its file loader), served on
// its own origin, and run in Chromium against the edge worker (VITRINE_URL, dev mode:
// scripts/dev.sh). The app's slots are made by its own script, so the SDK fills them, not the
// edge. Then the Segment-compatible surface: page(category, name, { product_id }), the
// context's time zone, identify(null), anonymousId(), user(), reset(), and the reuse of
// Segment's ajs_anonymous_id.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { check, launch, serveStatic, step, visitor, waitFor, runChecks } from "./lib.mjs";

const base = (process.env.VITRINE_URL || "http://127.0.0.1:8787").replace(/\/$/, "");
const tarball = process.env.NPM_TARBALL;
const esbuild = process.env.ESBUILD_BIN || "esbuild";

/** The app: package.json and index.js importing the package, installed and bundled into
 * dist/ with an index.html (returned: the folder to serve). */
function buildApp(dir) {
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({
    name: "vitrine-npm-e2e-app", private: true, type: "module",
    dependencies: { "@vitrine/browser": `file:${tarball}` },
  }, null, 2));
  writeFileSync(path.join(dir, "index.js"), `
import { load } from "@vitrine/browser";
import wasm from "@vitrine/browser/vitrine.wasm";
import css from "@vitrine/browser/vitrine.css";

// A single-page app renders its own slots, after the HTML arrived.
const main = document.createElement("main");
main.innerHTML = '<section data-vitrine-slot="home-for-you"><p>Our favourites</p></section>';
document.body.append(main);

const query = new URLSearchParams(location.search);
window.vitrine = load({ endpoint: query.get("endpoint"), wasm, css, ajsAnonymousId: query.has("ajs") });
`);
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"], { cwd: dir, stdio: "inherit" });
  // The file loader copies the wasm and the dialog's CSS next to the bundle and imports their
  // paths, relative to it.
  execFileSync(esbuild, ["index.js", "--bundle", "--format=esm", "--minify", "--loader:.wasm=file", "--loader:.css=file", "--outdir=dist", "--log-level=warning"], { cwd: dir, stdio: "inherit" });
  writeFileSync(path.join(dir, "dist", "index.html"), `<!doctype html><html><head><meta charset="utf-8"><title>npm app</title></head>
<body><script type="module" src="index.js"></script></body></html>
`);
  return path.join(dir, "dist");
}

/** Every /v1/events batch the page posts, parsed, and the endpoint's answers. */
function recordEvents(page) {
  const sent = { events: [], answers: [] };
  page.on("request", (r) => {
    if (r.method() !== "POST" || r.url() !== `${base}/v1/events`) return;
    try { sent.events.push(...JSON.parse(r.postData()).batch); } catch { /* a beacon whose body Chromium does not show */ }
  });
  page.on("response", async (r) => {
    if (r.request().method() === "POST" && r.url() === `${base}/v1/events`) sent.answers.push({ status: r.status(), body: await r.json().catch(() => null) });
  });
  return sent;
}

async function main() {
  assert.ok(tarball, "NPM_TARBALL: the packed @vitrine/browser (scripts/build-sdk.sh writes it)");
  const health = await fetch(`${base}/v1/health`).then((r) => r.json());
  assert.ok(health.dev_mode, `the stack at ${base} must run in dev mode (scripts/dev.sh does)`);
  const dir = mkdtempSync(path.join(tmpdir(), "vitrine-npm-app-"));
  try {
    step("the tarball installs into an app with npm and bundles with esbuild");
    const app = await serveStatic(buildApp(dir));
    await check("the package ships web push's module and service worker", async () => {
      const pkg = path.join(dir, "node_modules/@vitrine/browser");
      assert.deepEqual(["vitrine-push.js", "vitrine-sw.js"].filter((f) => !existsSync(path.join(pkg, f))), []);
    });
    // At "/": the demo config's home page, where "home-for-you" is targeted.
    const url = (extra = "") => `${app}/?endpoint=${encodeURIComponent(base)}${extra}`;
    const browser = await launch();

    step("in Chromium: the SDK fills the app's slot, its events reach /v1/events");
    const { context, page } = await visitor(browser, { timezoneId: "America/New_York" });
    const sent = recordEvents(page);
    await page.goto(url());
    await page.evaluate(() => window.vitrine.ready);
    await check("vitrine.push reaches the push module through the bundle", async () => {
      assert.deepEqual(await page.evaluate(() => window.vitrine.push.state()), { subscribed: false, permission: "default" });
    });
    await check("the slot is filled with products by the SDK", async () => {
      const slot = await page.$eval('[data-vitrine-slot="home-for-you"]', (el) => ({ state: el.dataset.vitrineState, by: el.dataset.vitrineFilled, skus: el.querySelectorAll("[data-sku]").length }));
      assert.deepEqual([slot.state, slot.by], ["filled", "browser"], JSON.stringify(slot));
      assert.ok(slot.skus > 0, "items shown");
    });
    const anonymousId = await page.evaluate(() => window.vitrine.anonymousId());
    await check("the page view reaches /v1/events and is accepted, with the IANA time zone", async () => {
      const pageView = await waitFor(() => sent.events.find((e) => e.type === "page"), "a page event posted");
      assert.equal(pageView.anonymousId, anonymousId);
      assert.equal(pageView.context.timezone, "America/New_York");
      await waitFor(() => sent.answers.length, "the endpoint's answer");
      assert.equal(sent.answers[0].status, 200, JSON.stringify(sent.answers[0].body));
      assert.ok(sent.answers[0].body.accepted >= 1, JSON.stringify(sent.answers[0].body));
    });

    step("page(category, name, { product_id }): a product page without a URL pattern");
    const sku = await page.$eval('[data-vitrine-slot="home-for-you"] [data-sku]', (el) => el.dataset.sku);
    await page.evaluate((sku) => window.vitrine.page("Shop", "Product detail", { product_id: sku, layout: "spa" }), sku);
    await check("the page event carries Segment's name, category and properties in its properties", async () => {
      const p = await waitFor(() => sent.events.find((e) => e.type === "page" && e.properties.name === "Product detail"), "the named page event");
      assert.equal(p.name, "product", "the page type: this page is the product's");
      assert.deepEqual([p.properties.product_id, p.properties.layout, p.properties.name, p.properties.category], [sku, "spa", "Product detail", "Shop"]);
      assert.equal(p.properties.path, "/", "the page's own properties stay");
    });
    await check("the session saw the product, as on its own product page", async () => {
      const viewed = await waitFor(() => sent.events.find((e) => e.event === "Product Viewed" && e.properties.product_id === sku), "Product Viewed for it");
      assert.ok(viewed.properties.name, "with the catalog's name");
      const session = await page.evaluate(() => sessionStorage.getItem("vitrine:session"));
      assert.ok(session.split("\n").some((l) => l.startsWith("p ") && l.endsWith(" " + sku)), session);
    });

    step("identify, user(), identify(null), anonymousId(id), reset()");
    await check("identify then user() reads the customer; identify(null) forgets them", async () => {
      const known = await page.evaluate(() => {
        window.vitrine.identify("cust-npm-1", { first_name: "Ada" });
        const u = window.vitrine.user();
        return [u.id(), u.anonymousId(), u.traits().first_name];
      });
      assert.deepEqual(known, ["cust-npm-1", anonymousId, "Ada"]);
      const forgotten = await page.evaluate(() => {
        window.vitrine.identify(null);
        const u = window.vitrine.user();
        return [u.id(), u.anonymousId(), u.traits()];
      });
      assert.deepEqual(forgotten, [null, anonymousId, {}]);
    });
    await check("anonymousId(id) sets the id, for the edge too", async () => {
      const set = await page.evaluate(() => [window.vitrine.anonymousId("npm-visitor-0001"), document.cookie]);
      assert.equal(set[0], "npm-visitor-0001");
      assert.match(set[1], /(^|; )vt_vid=npm-visitor-0001(;|$)/);
    });
    await check("reset(): a new anonymous id, no user, no session, cart and interests cookies gone", async () => {
      await page.evaluate(() => window.vitrine.track("Product Added", { product_id: document.querySelector("[data-sku]").dataset.sku }));
      assert.match(await page.evaluate(() => document.cookie), /vt_cart=/);
      const after = await page.evaluate(() => {
        window.vitrine.reset();
        return { id: window.vitrine.anonymousId(), user: window.vitrine.user().id(), cookie: document.cookie, session: sessionStorage.getItem("vitrine:session") };
      });
      assert.ok(after.id && after.id !== "npm-visitor-0001" && after.id !== anonymousId, after.id);
      assert.equal(after.user, null);
      assert.match(after.cookie, new RegExp(`(^|; )vt_vid=${after.id}(;|$)`));
      assert.doesNotMatch(after.cookie, /vt_cart=|vt_int=/);
      assert.ok(!after.session.split("\n").some((l) => l.startsWith("p ") || l.startsWith("c ")), after.session);
      // Later events are the new visitor's.
      await page.evaluate(() => window.vitrine.track("Products Searched", { query: "after reset" }));
      const searched = await waitFor(() => sent.events.find((e) => e.event === "Products Searched"), "the search posted");
      assert.equal(searched.anonymousId, after.id);
    });
    await page.evaluate(() => window.vitrine.flush());

    step("every event posted was stored by the edge once");
    await check("the visitor's object holds the events sent under the first id", async () => {
      const mine = () => sent.events.filter((e) => e.anonymousId === anonymousId && !e.userId);
      await waitFor(async () => {
        const state = await fetch(`${base}/v1/visitors/a:${anonymousId}/messages`).then((r) => r.json());
        return state.state && state.state.seen.length >= mine().length;
      }, "the events stored", 10_000);
    });
    await context.close();

    step("Segment's ajs_anonymous_id, when asked for, is the visitor's id");
    {
      const { context, page } = await visitor(browser);
      await context.addCookies([{ name: "ajs_anonymous_id", value: "%22seg-anon-1234-abcd%22", url: app }]);
      await page.goto(url("&ajs"));
      await page.evaluate(() => window.vitrine.ready);
      await check("anonymousId() is Segment's, and vt_vid carries it to the edge", async () => {
        const [id, cookie] = await page.evaluate(() => [window.vitrine.anonymousId(), document.cookie]);
        assert.equal(id, "seg-anon-1234-abcd");
        assert.match(cookie, /(^|; )vt_vid=seg-anon-1234-abcd(;|$)/);
      });
      await check("the exit offer shows as a styled modal (its CSS linked after the fill)", async () => {
        assert.equal(await page.evaluate(() => window.vitrine.showExitOffer()), true, "a new visitor's welcome offer");
        const shown = await waitFor(() => page.evaluate(() => {
          const root = document.querySelector(".vitrine-exit");
          return root && { position: getComputedStyle(root).position, linked: !!document.querySelector('link[data-vitrine="dialog"]') };
        }), "the dialog");
        assert.deepEqual(shown, { position: "fixed", linked: true });
      });
      await context.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runChecks(main, "npm e2e");
