/*! Vitrine browser SDK: the exit offer's lead form (vitrine-lead.js, imported when a capturing offer shows) */
/* `form(api, endpoint, panel, capture, store)`: the page side (js/page.js) calls it, through the loader
 * (js/core.js), when the exit offer to show has `[[offers]] capture`: 1 asks for an email, 2
 * for an email and, optionally, a mobile number with the SMS consent spelled out next to an
 * unticked box (`store`: the store's name, written into that text). Off the SDK's budgeted
 * download: pages whose visitors never see such an offer never fetch this file.
 *
 * The promise is "we send your code to your inbox": the form shows no code. The contact goes
 * through the SDK's own events (`identify` with the email and phone, then `consent` for email
 * and, if the box is ticked, SMS); the edge keeps them unconfirmed and sends a confirmation
 * email (and asks the number for YES). The welcome journey, carrying the offer's code (the
 * visitor's own unique one if the offer has `[[unique_codes]]`), starts only once the address
 * is confirmed, so no code reaches an address its owner did not confirm.
 *
 * Accessible like the dialog it lives in: every field has a label, errors are tied to their
 * field (aria-invalid, aria-describedby) and announced (role="alert"), focus goes to the first
 * field with a problem, and the answer (role="status") takes focus once sent. */

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

export function form(api, endpoint, panel, capture, store) {
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
  // The dialog focused its panel; the form arrived after: the first field, unless the visitor moved on.
  if (document.activeElement === panel) email.focus();

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
    const done = el("div", { class: "vitrine-lead-done", role: "status", tabindex: "-1" });
    done.append(
      el("p", {}, `Check your inbox: we sent a link to ${address}. Confirm your address and your code is on its way.`),
      ...(texts ? [el("p", {}, `We also texted ${number}: reply YES to get our texts.`)] : []),
    );
    f.replaceWith(done);
    done.focus();
  });
}
