// The measurement report in Chromium: the figures the page SHOWS (its text, as staff read it)
// are those of `model-builder report --json` for the same records: units and orders per arm,
// the lift of each treatment arm with its interval and chance to beat control, the sample
// ratio's p. REPORT_HTML and REPORT_JSON: the two outputs of one run (scripts/test-sdk.sh makes
// them from `model-builder report DIR --simulate N --seed S --arms 2`).
//
// With VITRINE_URL and ADMIN_TOKEN (a running stack, scripts/dev.sh): the page is uploaded
// (PUT /v1/admin/report) and opened at /staff/report, as staff would: refused without the
// password, shown with it (HTTP Basic, any user name), under its strict CSP with nothing
// blocked. The report stored before is put back afterwards. Without them: the file itself.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { cleanup, launch, step } from "./lib.mjs";

const htmlPath = process.env.REPORT_HTML;
const report = JSON.parse(readFileSync(process.env.REPORT_JSON, "utf8"));
const base = (process.env.VITRINE_URL || "").replace(/\/$/, "");
const token = process.env.ADMIN_TOKEN || "";
const staff = Boolean(base && token);
const pct = (v) => `${v >= 0 ? "+" : ""}${(100 * v).toFixed(1)}%`;

async function put(body) {
  const r = await fetch(`${base}/v1/admin/report`, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "text/html; charset=utf-8" }, body });
  assert.equal(r.status, 200, await r.text());
}

let previous = null;
try {
  const browser = await launch();
  let url = pathToFileURL(htmlPath).href;
  let credentials;
  if (staff) {
    step("the report at /staff/report (uploaded with the admin token)");
    const basic = { authorization: "Basic " + Buffer.from(`staff:${token}`).toString("base64") };
    const before = await fetch(`${base}/staff/report`, { headers: basic });
    if (before.status === 200) previous = await before.text();
    await put(readFileSync(htmlPath));
    url = `${base}/staff/report`;
    credentials = { username: "staff", password: token };
    // A browser without the password is asked for it, and shown nothing.
    const refused = await fetch(url);
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get("www-authenticate") || "", /^Basic realm="Vitrine staff"/);
    const wrong = await browser.newContext({ httpCredentials: { username: "staff", password: "not-the-token" } });
    const denied = await (await wrong.newPage()).goto(url);
    assert.equal(denied.status(), 401, "a wrong password is refused");
    await wrong.close();
  } else {
    step(`the report as a file (${htmlPath}); VITRINE_URL and ADMIN_TOKEN would open it at /staff/report`);
  }

  const context = await browser.newContext({ httpCredentials: credentials });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(m.text()); });
  page.on("pageerror", (e) => problems.push(e.message));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  const resp = await page.goto(url);
  if (staff) {
    assert.equal(resp.status(), 200);
    const h = resp.headers();
    assert.equal(h["cache-control"], "no-store");
    assert.match(h["content-security-policy"], /^default-src 'none'; style-src 'unsafe-inline'; img-src data:/);
  }
  assert.deepEqual(requests, [url], "the page loads nothing but itself");
  assert.equal(await page.title(), "Vitrine report");
  // Its inline style applies under the CSP: the headings are styled, the SVG plots drawn.
  assert.equal(await page.$eval("h1", (e) => getComputedStyle(e).fontSize), "21px", "inline CSS applied (1.5em of 14px)");

  assert.ok(report.experiments.length > 0, "the records have an experiment");
  for (const e of report.experiments) {
    step(`experiment ${e.key}: ${e.units} units in ${e.arms.length} arms`);
    // The heading, then "Control: …; N units, M seen in several arms."
    const section = await page.evaluate((key) => {
      const h = [...document.querySelectorAll("h2")].find((h) => h.textContent === `Experiment ${key}`);
      const texts = [];
      let rows = [];
      for (let n = h.nextElementSibling; n && n.tagName !== "H2"; n = n.nextElementSibling) {
        if (n.tagName === "P") texts.push(n.textContent);
        if (n.tagName === "TABLE" && !rows.length) rows = [...n.querySelectorAll("tr")].slice(1).map((r) => [...r.cells].map((c) => c.textContent));
      }
      const lifts = [...document.querySelectorAll(`g[data-metric="lift"][data-experiment="${CSS.escape(key)}"]`)]
        .map((g) => ({ arm: g.dataset.arm, name: g.dataset.name, shown: g.querySelectorAll("text")[1].textContent, visible: g.getBoundingClientRect().width > 0 }));
      return { texts, rows, lifts };
    }, e.key);
    assert.equal(section.texts[0], `Control: ${e.control}; ${e.units} units, ${e.multipleExposureUnits} seen in several arms.`);
    assert.ok(section.texts[1].startsWith(`Sample ratio: p = ${e.srm.pValue.toFixed(4)}`), `${section.texts[1]} vs p ${e.srm.pValue}`);
    console.log(`  SRM p = ${e.srm.pValue.toFixed(4)} shown`);
    assert.equal(section.rows.length, e.arms.length);
    e.arms.forEach((a, i) => {
      const [arm, units, exposures, clicks, orders, revenue, , conversion] = section.rows[i];
      assert.deepEqual([arm, units, exposures, clicks, orders, revenue], [a.arm, `${a.units}`, `${a.exposures}`, `${a.clicks}`, `${a.orders}`, a.revenue.toFixed(2)], `arm ${a.arm}`);
      assert.equal(conversion, `${(100 * a.metrics.conversion.value).toFixed(2)}%`, `arm ${a.arm} conversion`);
    });
    let shown = 0;
    for (const a of e.arms.slice(1)) {
      for (const [name, m] of Object.entries(a.metrics)) {
        if (!m.lift) continue;
        const l = m.lift;
        const g = section.lifts.find((g) => g.arm === a.arm && g.name === name);
        assert.ok(g && g.visible, `the ${name} lift of ${a.arm} is drawn`);
        assert.equal(g.shown, `${pct(l.relative)} [${pct(l.ciLow)}, ${pct(l.ciHigh)}] P(beat) ${(100 * l.chanceToBeatControl).toFixed(0)}%`, `${a.arm} ${name}`);
        console.log(`  ${a.arm} ${name}: ${g.shown}`);
        shown++;
      }
    }
    assert.equal(section.lifts.length, shown, "every lift drawn is one of the report's");
  }
  assert.deepEqual(problems, [], "no console error, no CSP violation");
  console.log("report: ok");
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  if (previous !== null) await put(previous).catch((e) => console.error("putting the previous report back:", e.message));
  await cleanup();
}
