/*! Vitrine browser SDK: the exit offer's dialog (vitrine-dialog.js, imported when an offer first shows) */
/* `dialog(sdk, api)` returns `{ show(html, id, scenario, capture, store) }`, what the page side
 * (js/page.js) calls to show an exit offer: `sdk` is the module's exports (`report`), `api` the
 * public `vitrine` API (the lead form's events). Off the SDK's budgeted download: the loader
 * (js/core.js) imports this file the first time an offer shows; its CSS (js/dialog.css,
 * vitrine.css) is linked once the slots are filled.
 *
 * An accessible modal dialog (role=dialog, aria-modal, labelled by the offer's headline, focus
 * kept inside, Esc and the backdrop close it, focus returns to where it was), styled by the
 * site through CSS custom properties, each with a default (browser-sdk/README.md).
 *
 * Lead capture (`capture`: 1 asks for an email, 2 for an email and, optionally, a mobile number
 * with the SMS consent spelled out next to an unticked box; `store`: the store's name, written
 * into that text). The promise is "we send your code to your inbox": the form shows no code
 * (the edge issues none for such an offer). The contact goes through the SDK's own events
 * (`identify` with the email and phone, then `consent` for email and, if the box is ticked,
 * SMS); the edge keeps them unconfirmed and sends a confirmation email (and asks the number
 * for YES). The welcome journey, carrying the visitor's own code (`[[unique_codes]]`), starts
 * only once the address is confirmed, so no code reaches an address its owner did not confirm.
 * Every field has a label, errors are tied to their field (aria-invalid, aria-describedby) and
 * announced (role="alert"), focus goes to the first field with a problem, and the answer
 * (role="status") takes focus once sent. */

const FOCUSABLE = "a[href],button:not([disabled]),input:not([disabled]),select:not([disabled]),textarea:not([disabled]),[tabindex]:not([tabindex='-1'])";

export function dialog(sdk, api) {
  const d = document;
  // Capturing, as the page side listens: a page's own handler cannot swallow Esc or Tab first.
  const listen = (type, handler, passive) => d.addEventListener(type, handler, { capture: true, passive });
  let open = null; // the open one: { root, panel, back (focus to return) }

  const close = (reason) => {
    const o = open;
    if (!o) return;
    open = null;
    o.root.remove();
    if (o.back && o.back.focus) o.back.focus();
    sdk.report(1, reason, "");
  };

  // Tab and Shift+Tab cycle through the dialog's focusable elements only.
  const trapTab = (e) => {
    const panel = open.panel, items = panel.querySelectorAll(FOCUSABLE), active = d.activeElement;
    const first = items[0], last = items[items.length - 1];
    if (!first) { e.preventDefault(); panel.focus(); }
    else if (e.shiftKey && (active === first || active === panel)) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && active === last) { e.preventDefault(); first.focus(); }
  };

  listen("keydown", (e) => {
    if (!open) return;
    if (e.key === "Escape" || e.key === "Esc") { e.preventDefault(); close("escape"); }
    else if (e.key === "Tab") trapTab(e);
  }, false);
  // Focus that escapes anyway (a click elsewhere, assistive tech) is brought back.
  listen("focusin", (e) => {
    if (open && !open.root.contains(e.target)) open.panel.focus();
  }, true);
  // The close button and the backdrop close; the call to action reports, then navigates (the
  // lead form reports once it sends).
  listen("click", (e) => {
    const t = e.target;
    if (!open || !t || !t.closest || !open.root.contains(t)) return;
    if (t.closest("[data-vitrine-close]")) close("dismissed");
    else if (t.closest(".vitrine-offer-cta")) sdk.report(0, "", "");
  }, true);

  const show = (html, id, scenario, capture, store) => {
    if (open || !d.body) return;
    const root = d.createElement("div");
    root.className = "vitrine-exit";
    root.setAttribute("data-vitrine-offer", id);
    root.setAttribute("data-vitrine-scenario", scenario);
    root.innerHTML = '<div class="vitrine-exit-backdrop" data-vitrine-close></div>' +
      '<div class="vitrine-exit-dialog" role="dialog" aria-modal="true" tabindex="-1">' +
      '<button type="button" class="vitrine-exit-close" aria-label="Close" data-vitrine-close>&times;</button>' + html + "</div>";
    const panel = root.querySelector(".vitrine-exit-dialog");
    const label = (selector, labelId, aria) => {
      const el = panel.querySelector(selector);
      if (el) { el.id = labelId; panel.setAttribute(aria, labelId); }
    };
    label(".vitrine-offer-headline", "vitrine-exit-title", "aria-labelledby");
    label(".vitrine-offer-body", "vitrine-exit-body", "aria-describedby");
    if (!panel.hasAttribute("aria-labelledby")) panel.setAttribute("aria-label", "Special offer");
    // The form's sending is the offer's call to action: `Promotion Clicked`.
    const first = capture ? leadForm(api, panel, capture, store, () => sdk.report(0, "", "")) : panel;
    open = { root, panel, back: d.activeElement };
    d.body.appendChild(root);
    first.focus();
  };
  return { show };
}

/** The SMS consent text (TCPA / CTIA style: what, how often, not a condition, how to stop). */
const smsConsent = (store) =>
  `Text me offers: by ticking this box, I agree to receive recurring automated marketing text messages from ${store} at the number provided. ` +
  "Consent is not a condition of purchase. Msg frequency varies. Reply STOP to cancel, HELP for help. Msg & data rates may apply.";

const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]{2,}$/;
/** A number as people type it (digits, spaces, dashes, dots, brackets, a leading +); the edge
 *  reads it into E.164 and drops one that is not a number. */
const PHONE = /^\+?[\d\s().-]{6,24}$/;

/** `<tag class=…>` with the given attributes and text (text, never HTML: `store` is data). */
const el = (tag, attrs, text) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
};

/** A labelled field with its error line; `[wrapper, input, error]`. */
const field = (id, label, attrs) => {
  const wrap = el("div", { class: "vitrine-lead-field" });
  const input = el("input", { id, "aria-describedby": id + "-error", ...attrs });
  const error = el("p", { id: id + "-error", class: "vitrine-lead-error", hidden: "" });
  wrap.append(el("label", { for: id }, label), input, error);
  return [wrap, input, error];
};

function leadForm(api, panel, capture, store, sent) {
  const sms = Number(capture) === 2;
  store = String(store || "").trim() || location.hostname;
  // The call to action gives way to the form (and a code line, were there one: the edge
  // issues a capturing offer's codes by email only).
  for (const old of panel.querySelectorAll(".vitrine-offer-code, .vitrine-offer-cta")) old.remove();

  const f = el("form", { class: "vitrine-lead", novalidate: "" });
  f.append(el("p", { class: "vitrine-lead-promise" }, "Enter your email and we'll send your code to your inbox as soon as you confirm your address."));
  const [emailField, email, emailError] = field("vitrine-lead-email", "Email", { type: "email", name: "email", autocomplete: "email", required: "", maxlength: "254" });
  f.append(emailField);
  let phone, phoneError, tick;
  if (sms) {
    const [phoneField, p, pe] = field("vitrine-lead-phone", "Mobile number (optional)", { type: "tel", name: "phone", autocomplete: "tel", maxlength: "32" });
    [phone, phoneError] = [p, pe];
    const consent = el("div", { class: "vitrine-lead-consent" });
    tick = el("input", { type: "checkbox", id: "vitrine-lead-sms", name: "sms" });
    consent.append(tick, el("label", { for: "vitrine-lead-sms" }, smsConsent(store)));
    f.append(phoneField, consent);
  }
  const alert = el("p", { class: "vitrine-lead-alert", role: "alert" });
  f.append(el("button", { type: "submit", class: "vitrine-lead-submit" }, "Send me my code"), alert);
  panel.append(f);

  const problem = (input, line, text) => {
    input.setAttribute("aria-invalid", "true");
    line.textContent = text;
    line.hidden = false;
    return input;
  };
  const clear = (input, line) => {
    if (!input) return;
    input.removeAttribute("aria-invalid");
    line.textContent = "";
    line.hidden = true;
  };

  f.addEventListener("submit", (e) => {
    e.preventDefault();
    clear(email, emailError);
    clear(phone, phoneError);
    const address = email.value.trim();
    const number = phone ? phone.value.trim() : "";
    const texts = !!(tick && tick.checked);
    const wrong = [];
    if (!address) wrong.push(problem(email, emailError, "Enter your email address."));
    else if (address.length > 254 || !EMAIL.test(address)) wrong.push(problem(email, emailError, "Enter an email address like name@example.com."));
    if (phone && texts && !number) wrong.push(problem(phone, phoneError, "Enter your mobile number to get texts, or untick the box."));
    else if (phone && number && !PHONE.test(number)) wrong.push(problem(phone, phoneError, "Enter a mobile number (digits, and + for the country code)."));
    else if (phone && number && !texts) wrong.push(problem(phone, phoneError, "Tick the box to get texts at this number, or leave it empty."));
    if (wrong.length) {
      alert.textContent = wrong.length === 1 ? "One field needs your attention." : `${wrong.length} fields need your attention.`;
      wrong[0].focus();
      return;
    }
    // Identify first, then consent: the edge reads the consent with the address it is for.
    api.identify(undefined, texts ? { email: address, phone: number } : { email: address });
    api.consent(texts ? { email: true, sms: true } : { email: true });
    api.flush();
    sent();
    const done = el("div", { class: "vitrine-lead-done", role: "status", tabindex: "-1" });
    done.append(
      el("p", {}, `Check your inbox: we sent a link to ${address}. Confirm your address and your code is on its way.`),
      ...(texts ? [el("p", {}, `We also texted ${number}: reply YES to get our texts.`)] : []),
    );
    f.replaceWith(done);
    done.focus();
  });
  return email; // the dialog focuses it
}
