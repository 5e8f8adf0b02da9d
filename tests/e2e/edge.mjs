// End to end behind the edge worker: the demo store on local workerd (`scripts/dev.sh`, or any
// running stack: VITRINE_URL, default http://127.0.0.1:8787). The pages carry only the script
// tag; the edge fills slots first, the SDK does the rest: in-session learning, exit intent in
// the four scenarios, events to /v1/events once each, and the same decisions as the edge.
import assert from "node:assert/strict";
import { check, launch, leaveThroughTop, shownOffer, step, stubPushService, testSubscription, visitor, waitFor, runChecks } from "./lib.mjs";

const base = (process.env.VITRINE_URL || "http://127.0.0.1:8787").replace(/\/$/, "");
const DWELL_MS = 5000; // the SDK's default: the demo pages use the plain tag
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Loads a page and waits for the SDK (the edge has filled what it could already). */
async function open(page, path) {
  await page.goto(base + path);
  await page.waitForFunction(() => window.vitrine && document.querySelectorAll("[data-vitrine-slot]:not([data-vitrine-state])").length === 0, null, { timeout: 15_000 });
  await page.evaluate(() => window.vitrine.ready);
}

const links = (page, selector) => page.$$eval(selector, (as) => [...new Set(as.map((a) => new URL(a.href).pathname))]);
const slotSkus = (page, slot) => page.$$eval(`[data-vitrine-slot="${slot}"] [data-sku]`, (els) => els.map((e) => e.dataset.sku));

/** A visitor whose queued events the page counts (in sessionStorage, across its pages). */
async function countingVisitor(browser) {
  const v = await visitor(browser);
  await v.context.addInitScript(() => {
    window.vitrine = [["on", "event", () => sessionStorage.setItem("e2e:events", String(Number(sessionStorage.getItem("e2e:events") || 0) + 1))]];
  });
  return v;
}

/** After the visitor left: every event the SDK queued is in the visitor's Durable Object. */
async function eventsArrived(page, visitors) {
  const queued = Number(await page.evaluate(() => sessionStorage.getItem("e2e:events") || 0));
  const id = await page.evaluate(() => (localStorage.getItem("vitrine:profile") || "").split("\n").find((l) => l.startsWith("id "))?.slice(3));
  assert.ok(id && queued > 0, "the SDK has an id and queued events");
  await page.goto("about:blank"); // pagehide: the last events go by sendBeacon
  visitors.push({ id, queued });
}

async function main() {
  const health = await fetch(`${base}/v1/health`).then((r) => r.json());
  assert.ok(health.dev_mode, `the stack at ${base} must run in dev mode (scripts/dev.sh does)`);
  const browser = await launch();
  const visitors = [];

  step("a visitor views three products of one category, returns home: Just for You reflects it");
  const { context, page } = await countingVisitor(browser);
  await open(page, "/?vitrine_as=new");
  const categories = await links(page, "header nav a[href*='/category/']");
  assert.ok(categories.length > 0, "the demo store has category pages");
  await open(page, categories[0]);
  const inCategory = await page.$$eval("main [data-sku], main a[href*='/products/']", (els) => els.map((e) => e.dataset.sku || new URL(e.href).pathname.split("/").pop()));
  const products = (await links(page, "main a[href*='/products/']")).slice(0, 3);
  assert.equal(products.length, 3, "three products to look at");
  for (const p of products) await open(page, p);
  await open(page, "/");
  await check("Just for You (filled by the edge) reflects the viewed category", async () => {
    const forYou = await slotSkus(page, "home-for-you");
    const matching = forYou.filter((s) => inCategory.includes(decodeURIComponent(s)));
    assert.ok(forYou.length > 0 && matching.length >= Math.min(3, forYou.length), `${matching.length} of ${forYou} in the category`);
  });
  await check("vitrine.decide('home-for-you') in the browser reflects it", async () => {
    const d = await page.evaluate(() => window.vitrine.decide("home-for-you"));
    const matching = d.items.filter((i) => inCategory.includes(i.sku));
    assert.ok(matching.length >= 3, `${matching.length} of ${d.items.map((i) => i.sku)} in the category`);
  });

  step("the SDK decides as the edge for the same visitor");
  for (const placement of ["hero", "greeting", "home-for-you"]) {
    await check(`${placement}: same decision in the browser and at the edge`, async () => {
      const sdk = await page.evaluate((p) => window.vitrine.decide(p), placement);
      const edge = await page.evaluate((p) => fetch(`/v1/decide?placement=${p}&path=/`, { credentials: "include" }).then((r) => r.json()), placement);
      assert.equal(sdk.status, edge.status, "status");
      assert.deepEqual(sdk.items.map((i) => i.sku), (edge.items || []).map((i) => i.sku), "items");
      assert.equal(sdk.html, edge.html || "", "html");
    });
  }
  await eventsArrived(page, visitors);
  await context.close();

  step("recently viewed: product pages, then the next page's slot shows them, also after a reload and in a new tab");
  {
    const { context, page } = await visitor(browser);
    await open(page, "/?vitrine_as=new");
    const [first, second, third] = (await links(page, "main a[href*='/products/']")).slice(0, 3);
    const sku = (path) => decodeURIComponent(path.split("/").pop());
    await open(page, first);
    await open(page, second);
    await open(page, third);
    await check("on a product page: the pages viewed before, most recent first, never the page's own product", async () => {
      assert.deepEqual((await slotSkus(page, "recently-viewed")).map(decodeURIComponent), [sku(second), sku(first)]);
    });
    await open(page, "/");
    const want = [sku(third), sku(second), sku(first)];
    await check("at home: the edge filled the slot from the SDK's vt_seen cookie", async () => {
      assert.deepEqual((await slotSkus(page, "recently-viewed")).map(decodeURIComponent), want);
    });
    // Only the edge decides it (a server-only recommender): the slice the SDK loaded carries
    // the edge's decision, so the browser shows the same (its items' source reads `decided`).
    const sdkDecision = (p) => p.evaluate(() => window.vitrine.decide("recently-viewed"));
    const edgeDecision = (p) => p.evaluate(() => fetch("/v1/decide?placement=recently-viewed&path=/&explain=1", { credentials: "include" }).then((r) => r.json()));
    await check("the browser shows the edge's decision, and the edge's explain names the recommender", async () => {
      const [sdk, edge] = [await sdkDecision(page), await edgeDecision(page)];
      assert.deepEqual(edge.items.map((i) => i.sku), want);
      assert.ok(edge.items.every((i) => i.source === "recently_viewed"), JSON.stringify(edge.items));
      assert.deepEqual(sdk.items.map((i) => i.sku), want);
      assert.ok(sdk.items.every((i) => i.source === "decided"), JSON.stringify(sdk.items));
      assert.equal(sdk.html, edge.html);
    });
    await check("a slot the page adds itself (as a single-page app does) gets the edge's decision from the SDK", async () => {
      await page.evaluate(() => {
        const slot = document.createElement("section");
        slot.id = "app-slot";
        slot.setAttribute("data-vitrine-slot", "recently-viewed");
        document.body.append(slot);
        window.vitrine.page();
      });
      await page.waitForFunction(() => document.getElementById("app-slot").hasAttribute("data-vitrine-state"), null, { timeout: 10_000 });
      assert.equal(await page.getAttribute("#app-slot", "data-vitrine-filled"), "browser");
      const skus = await page.$$eval("#app-slot [data-sku]", (els) => els.map((e) => e.getAttribute("data-sku")));
      assert.deepEqual(skus.map(decodeURIComponent), want);
    });
    await page.reload();
    await page.waitForFunction(() => window.vitrine && document.querySelectorAll("[data-vitrine-slot]:not([data-vitrine-state])").length === 0, null, { timeout: 15_000 });
    await page.evaluate(() => window.vitrine.ready);
    await check("after a reload: still there", async () => {
      assert.deepEqual((await slotSkus(page, "recently-viewed")).map(decodeURIComponent), want);
    });
    // A new tab starts a new session storage: the SDK's list comes from local storage.
    const tab = await context.newPage();
    await open(tab, "/");
    await check("in a new tab: the SDK's list from local storage, the edge's slot from the cookie", async () => {
      const stored = await tab.evaluate(() => (localStorage.getItem("vitrine:profile") || "").split("\n").find((l) => l.startsWith("v ")));
      assert.equal(stored, `v ${want.map(encodeURIComponent).join(",")}`);
      assert.deepEqual((await sdkDecision(tab)).items.map((i) => i.sku), want);
      assert.deepEqual((await slotSkus(tab, "recently-viewed")).map(decodeURIComponent), want);
    });
    await context.close();
  }

  step("signing in on the store's own login page: the edge greets the customer by name");
  {
    const { context, page } = await visitor(browser);
    await page.goto(base + "/account/login");
    const button = page.locator("form[action='/account/login'] button").first();
    const label = await button.textContent();
    const first = label.replace("Sign in as ", "").split(" ")[0];
    assert.ok(first && first !== "Sign", `a demo account with a name: ${label}`);
    await Promise.all([page.waitForURL(base + "/"), button.click()]);
    await check("the home page greets the signed-in customer by the export's first name", async () => {
      const greeting = await page.textContent('[data-vitrine-slot="greeting"]');
      assert.equal(greeting.trim(), `Welcome back, ${first}`);
    });
    await check("the identity token never reaches the browser, the profile cookie is signed", async () => {
      const cookies = await context.cookies(base);
      assert.ok(cookies.some((c) => c.name === "vt_profile" && c.value.length > 20), "vt_profile set");
    });
    await page.goto(base + "/account/login");
    await Promise.all([page.waitForURL(base + "/"), page.locator("form[action='/account/logout'] button").click()]);
    await check("signing out forgets the customer", async () => {
      const greeting = (await page.textContent('[data-vitrine-slot="greeting"]')) || "";
      assert.ok(!greeting.includes(first), `still greeted: ${greeting}`);
    });
    await context.close();
  }

  const scenarios = [
    { name: "first-time visitor", as: "new", expect: "welcome", setup: async () => {} },
    {
      name: "returning customer, small cart", as: "promising", expect: "free_shipping", text: /£\d+\.\d\d/,
      setup: async (page) => page.evaluate(() => window.vitrine.track("Product Added", { sku: document.querySelector("[data-add-sku]")?.dataset.addSku, quantity: 1 })),
    },
    {
      name: "high-value cart", as: "new", expect: "priority_support",
      setup: async (page) => page.evaluate(() => window.vitrine.track("Product Added", { sku: document.querySelector("[data-add-sku]")?.dataset.addSku, quantity: 200 })),
    },
    { name: "loyal customer", as: "loyal", expect: "early_access", setup: async () => {} },
  ];
  for (const s of scenarios) {
    step(`exit intent, ${s.name}: fires once with the ${s.expect} offer`);
    const { context, page } = await countingVisitor(browser);
    await open(page, `/?vitrine_as=${s.as}`);
    const product = (await links(page, "main a[href*='/products/']"))[0];
    await open(page, product);
    await s.setup(page);
    await open(page, "/");
    await sleep(DWELL_MS + 200);
    await leaveThroughTop(page);
    await check(`${s.name}: the ${s.expect} offer, once`, async () => {
      const offer = await waitFor(() => shownOffer(page), "the exit offer");
      assert.equal(offer.scenario, s.expect, offer.text);
      if (s.text) assert.match(offer.text, s.text);
      assert.ok(offer.modal === "true" && offer.labelled && offer.focusInside, "an accessible dialog");
      await page.keyboard.press("Escape");
      await leaveThroughTop(page);
      await sleep(300);
      assert.equal(await shownOffer(page), null, "once per session");
    });
    await eventsArrived(page, visitors);
    await context.close();
  }

  step("web push's files from the edge: the module imports, the service worker registers");
  {
    const { context, page } = await visitor(browser);
    await open(page, "/");
    await check("vitrine.push.state() imports /vitrine/sdk/vitrine-push.js", async () => {
      assert.deepEqual(await page.evaluate(() => window.vitrine.push.state()), { subscribed: false, permission: "default" });
    });
    await check("/vitrine/sdk/vitrine-sw.js registers and activates (served as JavaScript)", async () => {
      const state = await page.evaluate(async () => {
        const reg = await navigator.serviceWorker.register("/vitrine/sdk/vitrine-sw.js");
        const worker = reg.installing || reg.waiting || reg.active;
        if (worker.state !== "activated") {
          await new Promise((resolve, reject) => worker.addEventListener("statechange", () => {
            if (worker.state === "activated") resolve();
            if (worker.state === "redundant") reject(new Error("the worker failed to install"));
          }));
        }
        return [reg.scope, worker.state];
      });
      assert.deepEqual(state, [`${base}/vitrine/sdk/`, "activated"]);
    });
    await context.close();
  }

  step("web push against the edge: subscribe() with the edge's VAPID key, the subscription stored as the visitor's push address");
  {
    const { context, page } = await visitor(browser);
    const subscription = testSubscription();
    await context.addInitScript(stubPushService, subscription);
    await context.grantPermissions(["notifications"], { origin: base });
    await open(page, "/");
    const id = (await page.evaluate(() => document.cookie)).match(/vt_vid=([^;]+)/)[1];
    await check("subscribe() resolves { subscribed: true } with the key of /v1/push/key", async () => {
      assert.deepEqual(await page.evaluate(() => window.vitrine.push.subscribe()), { subscribed: true });
      const { publicKey } = await fetch(`${base}/v1/push/key`).then((r) => r.json());
      const used = await page.evaluate(() => window.__pushStub.keys);
      assert.deepEqual(used, [Array.from(Buffer.from(publicKey, "base64url"))]);
    });
    await check("the edge took the subscription as the visitor's push address", async () => {
      await page.evaluate(() => window.vitrine.flush());
      const stored = await waitFor(async () => {
        const state = await fetch(`${base}/v1/visitors/a:${id}/messages`).then((r) => r.json());
        return state.state?.profile?.push_token || null;
      }, "the stored push address");
      assert.deepEqual(JSON.parse(stored), { endpoint: subscription.endpoint, expirationTime: null, keys: subscription.keys });
    });
    await context.close();
  }

  step("every event the SDK queued reached /v1/events and was stored once");
  await sleep(2000);
  for (const v of visitors) {
    await check(`events of visitor ${v.id}`, async () => {
      const state = await fetch(`${base}/v1/visitors/a:${v.id}/messages`).then((r) => r.json());
      // `seen` holds each stored event's messageId (hashed) once: duplicates are dropped there.
      assert.equal(state.state.seen.length, v.queued, `stored ${state.state.seen.length} of ${v.queued} queued`);
    });
  }
  console.log(`  ${visitors.reduce((a, v) => a + v.queued, 0)} events from ${visitors.length} visitors`);
}

runChecks(main, "edge e2e");
