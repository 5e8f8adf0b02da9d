/*! Vitrine browser SDK: web push (vitrine-push.js, imported by `vitrine.push.*` on first use) */
/* `vitrine.push.subscribe(options)`, `unsubscribe(options)` and `state(options)` (the loader,
 * js/core.js, calls these with its API and endpoint). Off the SDK's budgeted download: a page
 * that never asks for push never fetches this file. Options: `serviceWorker` (the worker's URL,
 * default vitrine-sw.js next to this file; it must be on the page's own origin) and `scope`
 * (its registration's scope, default the browser's: the worker's folder; push needs no control
 * of pages). The subscription reaches the edge through the SDK's own events: a `consent` with
 * `push: true`, then an `identify` whose trait `push_token` is the subscription's JSON
 * (engine/src/journey/event.rs). A normal refusal resolves `{ subscribed: false, reason }`. */

/** `{ subscribed: false, reason }`, with what went wrong for "failed". */
const no = (reason, error) => ({ subscribed: false, reason, ...(error && { error: String(error.message || error) }) });

/** The worker's URL, with the endpoint its reports go to (js/sw.js reads it back). */
const workerUrl = (endpoint, options) => {
  const url = new URL((options && options.serviceWorker) || "vitrine-sw.js", import.meta.url);
  url.searchParams.set("endpoint", endpoint);
  return url;
};

const supported = () => "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

/** The registration subscribe() made (or undefined), found by its scope or the worker's URL (inside the default scope). */
const registration = (endpoint, options) => navigator.serviceWorker.getRegistration((options && options.scope) || workerUrl(endpoint, options).href);

/** The registration once it has an active worker: `pushManager.subscribe` needs one. Not
 *  `navigator.serviceWorker.ready`, which waits for a worker controlling this page. */
const activated = (reg) => reg.active ? reg : new Promise((resolve, reject) => {
  const worker = reg.installing || reg.waiting;
  worker.addEventListener("statechange", () => {
    if (worker.state === "activated") resolve(reg);
    if (worker.state === "redundant") reject(new Error("the service worker failed to install"));
  });
});

/** The store's VAPID public key (`GET <endpoint>/v1/push/key`: `{"publicKey": "<base64url>"}`),
 *  as the 65-byte uncompressed P-256 point `pushManager.subscribe` takes. */
const vapidKey = async (endpoint) => {
  const url = endpoint + "/v1/push/key";
  const r = await fetch(url);
  if (!r.ok) throw new Error(url + ": HTTP " + r.status);
  const body = await r.text();
  // The answer is ~110 bytes: anything much larger is not it (and is not parsed).
  if (body.length > 1024) throw new Error(url + ": the answer is over 1024 bytes");
  let text;
  try {
    text = (JSON.parse(body) || {}).publicKey;
  } catch (e) {
    throw new Error(url + ": the answer is not JSON");
  }
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]{86,88}={0,2}$/.test(text)) throw new Error(url + ": publicKey is not a base64url P-256 key");
  const key = Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "")), (c) => c.charCodeAt(0));
  if (key.length !== 65 || key[0] !== 4) throw new Error(url + ": publicKey is not an uncompressed P-256 point (65 bytes)");
  return key;
};

const sameBytes = (a, b) => !!a && a.byteLength === b.length && new Uint8Array(a).every((x, i) => x === b[i]);

export async function subscribe(api, endpoint, options) {
  if (!supported()) return no("unsupported");
  // Asked only from here, i.e. when the site calls subscribe(), and first: Safari grants the
  // prompt only while the user's gesture is recent.
  const permission = await Notification.requestPermission();
  if (permission !== "granted") return no(permission === "denied" ? "denied" : "dismissed");
  let subscription;
  try {
    const scope = options && options.scope;
    const [key, reg] = await Promise.all([
      vapidKey(endpoint),
      navigator.serviceWorker.register(workerUrl(endpoint, options), scope ? { scope } : {}).then(activated),
    ]);
    subscription = await reg.pushManager.getSubscription();
    // One made for another key (the store rotated it) cannot be used: replace it.
    if (subscription && !sameBytes(subscription.options.applicationServerKey, key)) {
      await subscription.unsubscribe();
      subscription = null;
    }
    subscription = subscription || await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  } catch (e) {
    return no("failed", e);
  }
  api.consent({ push: true });
  api.identify(undefined, { push_token: JSON.stringify(subscription) });
  return { subscribed: true };
}

export async function unsubscribe(api, endpoint, options) {
  const reg = supported() && await registration(endpoint, options);
  const subscription = reg && await reg.pushManager.getSubscription();
  if (subscription) await subscription.unsubscribe();
  // Whatever this browser held: the visitor said no, journeys stop pushing.
  api.consent({ push: false });
  return { subscribed: false };
}

/** `{ subscribed, permission }`: whether this browser holds a subscription, and the
 *  notification permission ("granted" | "denied" | "default" | "unsupported"). */
export async function state(api, endpoint, options) {
  if (!supported()) return { subscribed: false, permission: "unsupported" };
  const reg = await registration(endpoint, options);
  return { subscribed: !!(reg && await reg.pushManager.getSubscription()), permission: Notification.permission };
}
