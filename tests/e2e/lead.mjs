// Lead capture in the exit offer (#21), end to end on the demo store behind the edge worker
// (`scripts/dev.sh` with its email and SMS providers pointed at this test's capture server:
// scripts/test-sdk.sh sets DEV_VARS; VITRINE_URL, CAPTURE_PORT). A first-time visitor leaves
// through the top of the page: the welcome offer asks for an email and, optionally, a mobile
// number with the SMS consent spelled out. Filled in by keyboard (a mistake announced first),
// it sends a confirmation email and a YES text; the welcome email with the visitor's own code
// comes only once the email's link is followed, and no answer the visitor got before that
// held the code. A second visitor answers the YES text first: the code comes by text.
import assert from "node:assert/strict";
import http from "node:http";
import { once } from "node:events";
import { createHmac } from "node:crypto";
import { check, launch, leaveThroughTop, shownOffer, step, visitor, waitFor, runChecks } from "./lib.mjs";

const base = (process.env.VITRINE_URL || "http://127.0.0.1:8787").replace(/\/$/, "");
const capturePort = Number(process.env.CAPTURE_PORT || 8789);
const DWELL_MS = 5000; // the SDK's default: the demo pages use the plain tag
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const STORE = "Vitrine demo gift shop"; // examples/demo/vitrine.toml [store] name
// A new number each run: a contact gets at most one confirmation a day, whoever asks.
const PHONE = "+447400" + String(Date.now() % 1_000_000).padStart(6, "0");

/** SendGrid's and Twilio's send APIs as the worker calls them: every request recorded. */
async function startCapture(port) {
  const sent = [];
  const server = http.createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    sent.push({ path: req.url, body });
    if (req.url === "/v3/mail/send") {
      res.writeHead(202, { "x-message-id": `sg-${sent.length}` });
      return res.end();
    }
    if (/^\/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/.test(req.url)) {
      res.writeHead(201, { "content-type": "application/json" });
      return res.end(JSON.stringify({ sid: `SM${String(sent.length).padStart(32, "0")}`, status: "queued" }));
    }
    res.writeHead(404);
    res.end();
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  return { sent, close: () => server.close() };
}

/** The emails to `to` (SendGrid's JSON), as `{subject, text}`. */
function emailsTo(sent, to) {
  return sent
    .filter((r) => r.path === "/v3/mail/send")
    .map((r) => JSON.parse(r.body))
    .filter((m) => m.personalizations.some((p) => p.to.some((t) => t.email === to)))
    .map((m) => ({ subject: m.subject, text: m.content.map((c) => c.value).join("\n") }));
}

async function main() {
  const health = await fetch(`${base}/v1/health`).then((r) => r.json());
  assert.ok(health.dev_mode, `the stack at ${base} must run in dev mode (scripts/dev.sh does)`);
  const capture = await startCapture(capturePort);
  const browser = await launch();
  const email = `lead-${Date.now()}@example.com`;
  try {
    const { context, page } = await visitor(browser);
    // Every answer the visitor's browser gets before the confirmation, to scan for the code.
    const answers = [];
    page.on("response", async (r) => {
      if (!r.url().startsWith(base)) return;
      try { answers.push({ url: r.url(), body: await r.body() }); } catch { /* redirects have none */ }
    });

    step("a first-time visitor leaves through the top: the welcome offer asks for an email and a number");
    await page.goto(`${base}/?vitrine_as=new`);
    await page.evaluate(() => window.vitrine.ready);
    await sleep(DWELL_MS + 200);
    await leaveThroughTop(page);
    const offer = await waitFor(() => shownOffer(page), "the exit offer");
    await check("the capturing welcome offer, an accessible dialog with no code in it", async () => {
      assert.equal(offer.scenario, "welcome", offer.text);
      assert.ok(offer.modal === "true" && offer.labelled, "an accessible dialog");
      assert.doesNotMatch(offer.text, /WELCOME-|Code:/, offer.text);
    });
    await waitFor(() => page.$("#vitrine-lead-email"), "the lead form (vitrine-dialog.js, loaded on use)", 10_000);
    await check("the form: labelled fields, focus on the email, the SMS consent spelled out next to an unticked box", async () => {
      const form = await page.evaluate(() => {
        const label = (id) => document.querySelector(`label[for="${id}"]`)?.textContent || "";
        const box = document.getElementById("vitrine-lead-sms");
        return {
          focused: document.activeElement?.id,
          email: label("vitrine-lead-email"),
          phone: label("vitrine-lead-phone"),
          consent: label("vitrine-lead-sms"),
          ticked: box.checked,
          cta: !!document.querySelector(".vitrine-exit .vitrine-offer-cta"),
        };
      });
      assert.equal(form.focused, "vitrine-lead-email");
      assert.ok(form.email && form.phone, "every field has a label");
      assert.equal(form.ticked, false, "the SMS box starts unticked");
      assert.equal(form.cta, false, "the form replaces the call to action");
      for (const words of [STORE, "recurring automated marketing text", "not a condition of purchase", "Reply STOP to cancel", "Msg & data rates may apply"]) {
        assert.ok(form.consent.includes(words), `${words}: ${form.consent}`);
      }
    });

    step("by keyboard: a wrong email is announced, then the email, the number and the box");
    await page.keyboard.type("not-an-email");
    await page.keyboard.press("Enter");
    await check("the mistake is named at the field, announced, and focus stays there", async () => {
      const state = await page.evaluate(() => {
        const input = document.getElementById("vitrine-lead-email");
        return {
          invalid: input.getAttribute("aria-invalid"),
          error: document.getElementById(input.getAttribute("aria-describedby"))?.textContent,
          alert: document.querySelector(".vitrine-lead [role=alert]")?.textContent,
          focused: document.activeElement?.id,
        };
      });
      assert.equal(state.invalid, "true");
      assert.match(state.error || "", /email address/);
      assert.ok(state.alert, "announced");
      assert.equal(state.focused, "vitrine-lead-email");
    });
    await page.keyboard.press("Control+A");
    await page.keyboard.type(email);
    await page.keyboard.press("Tab");
    await page.keyboard.type(PHONE);
    await page.keyboard.press("Tab");
    await page.keyboard.press("Space");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await check("the answer says where the code goes, and takes focus", async () => {
      const done = await waitFor(() => page.evaluate(() => {
        const d = document.querySelector(".vitrine-lead-done");
        return d && { text: d.textContent, role: d.getAttribute("role"), focused: document.activeElement === d };
      }), "the answer");
      assert.match(done.text, /Check your inbox/);
      assert.ok(done.text.includes(email), done.text);
      assert.ok(done.role === "status" && done.focused, JSON.stringify(done));
    });

    step("double opt-in: a confirmation email and a YES text, no code yet");
    const confirmation = await waitFor(() => emailsTo(capture.sent, email).find((m) => /\/v1\/confirm\?vt=/.test(m.text)), "the confirmation email", 20_000);
    const text = await waitFor(() => capture.sent.find((r) => r.path.endsWith("/Messages.json") && new URLSearchParams(r.body).get("To") === PHONE), "the YES text", 20_000);
    await check("the email links to /v1/confirm, the text asks for YES, neither holds a code", async () => {
      assert.match(confirmation.subject, /Confirm/);
      assert.match(new URLSearchParams(text.body).get("Body"), /reply YES/i);
      assert.doesNotMatch(confirmation.text + text.body, /WELCOME-/);
    });
    await check("/v1/exit-offer names the offer for this visitor, without a code", async () => {
      const offer = await page.evaluate(() => fetch("/v1/exit-offer").then((r) => r.json()));
      assert.deepEqual([offer.id, offer.code], ["welcome10", ""], JSON.stringify(offer));
    });
    await sleep(2000);
    await check("no welcome email before the confirmation", async () => {
      assert.equal(emailsTo(capture.sent, email).length, 1, JSON.stringify(emailsTo(capture.sent, email).map((m) => m.subject)));
    });
    const before = answers.slice();

    step("the link followed: the welcome email brings the visitor's own code");
    const link = new URL(/https?:\/\/\S+\/v1\/confirm\?vt=[\w.-]+/.exec(confirmation.text)[0]);
    await page.goto(`${base}${link.pathname}${link.search}`);
    await page.keyboard.press("Tab"); // the page's one button: "Yes, confirm" (it POSTs)
    await page.keyboard.press("Enter");
    await check("the confirmation page says so", async () => {
      await waitFor(async () => /your email is confirmed/.test((await page.textContent("body").catch(() => "")) || ""), "the confirmed page", 10_000);
    });
    const welcome = await waitFor(() => emailsTo(capture.sent, email).find((m) => /WELCOME-[0-9A-Z]{12}/.test(m.text)), "the welcome email", 30_000);
    const code = /WELCOME-[0-9A-Z]{12}/.exec(welcome.text)[0];
    await check("the welcome email carries the visitor's unique code, which no earlier answer held", async () => {
      assert.match(welcome.subject, /10%/);
      const leaked = before.filter((a) => a.body.includes(code) || a.body.includes("WELCOME-"));
      assert.deepEqual(leaked.map((a) => a.url), [], "the code was in an answer before the confirmation");
      assert.ok(before.some((a) => a.url.includes("/v1/slice")), "the slice was among them");
    });

    step("the welcome email's link lands on the store with the same code");
    const click = new URL(/https?:\/\/[^"'\s<>]+\/v1\/click\?vt=[\w.-]+/.exec(welcome.text)[0]);
    const hop = await fetch(`${base}${click.pathname}${click.search}`, { redirect: "manual" });
    const landing = new URL(hop.headers.get("location"), base);
    await page.goto(`${base}${landing.pathname}${landing.search}`);
    await check("the landing's offer shows the code the email gave, no form", async () => {
      const offer = await waitFor(() => shownOffer(page), "the promised offer", 10_000);
      assert.ok(offer.text.includes(code), offer.text);
      assert.equal(await page.$("#vitrine-lead-email"), null, "the confirmed visitor is not asked again");
    });
    await context.close();

    step("another visitor gives a number too and answers YES first: the code comes by text");
    {
      const { context, page } = await visitor(browser);
      const email2 = `lead-yes-${Date.now()}@example.com`;
      const phone2 = "+447400" + String((Date.now() + 1) % 1_000_000).padStart(6, "0");
      await page.goto(`${base}/?vitrine_as=new`);
      await page.evaluate(() => window.vitrine.showExitOffer());
      await waitFor(() => page.$("#vitrine-lead-email"), "the lead form", 10_000);
      await page.fill("#vitrine-lead-email", email2);
      await page.fill("#vitrine-lead-phone", phone2);
      await page.check("#vitrine-lead-sms");
      await page.click(".vitrine-lead-submit");
      await waitFor(() => capture.sent.find((r) => r.path.endsWith("/Messages.json") && new URLSearchParams(r.body).get("To") === phone2), "the YES text", 20_000);
      // Twilio's inbound webhook, signed as Twilio signs (HMAC-SHA1 of the URL and the sorted
      // form with the auth token the stack runs with: scripts/test-sdk.sh's DEV_VARS).
      const url = `${base}/v1/sms/inbound`;
      const form = { From: phone2, To: "+15005550006", Body: "YES", MessageSid: `SM${Date.now()}` };
      const signed = url + Object.keys(form).sort().map((k) => k + form[k]).join("");
      const signature = createHmac("sha1", "test").update(signed).digest("base64");
      const reply = await fetch(url, { method: "POST", body: new URLSearchParams(form), headers: { "x-twilio-signature": signature } });
      await check("the YES is taken", async () => assert.equal(reply.status, 200, await reply.text()));
      const codeText = await waitFor(
        () => capture.sent.find((r) => r.path.endsWith("/Messages.json") && new URLSearchParams(r.body).get("To") === phone2 && /WELCOME-[0-9A-Z]{12}/.test(new URLSearchParams(r.body).get("Body"))),
        "the welcome text with the code", 30_000,
      );
      await check("the welcome text carries a code; the unconfirmed email got only its confirmation", async () => {
        assert.match(new URLSearchParams(codeText.body).get("Body"), /your 10% code is WELCOME-/);
        assert.deepEqual(emailsTo(capture.sent, email2).map((m) => /\/v1\/confirm\?vt=/.test(m.text)), [true]);
      });
      await context.close();
    }
  } finally {
    await browser.close();
    capture.close();
  }
}

runChecks(main, "lead capture e2e");
