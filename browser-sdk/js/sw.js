/*! Vitrine web push service worker (vitrine-sw.js, registered by vitrine.push.subscribe()) */
/* Shows the edge's push messages and reports them. A message is the JSON of
 * edge/src/webpush.rs `payload`: {"title", "body", "image"?, "link", "data": {"journey", "step",
 * "vitrine_key", …}}. On display and on click it POSTs {"key": data.vitrine_key, "event":
 * "displayed" | "clicked"} (exactly these two fields) to <endpoint>/v1/push/report (a text/plain body:
 * no CORS preflight), where the endpoint is the `endpoint` query parameter this worker was
 * registered with (js/push.js), else its own origin. A click opens `link` (http(s) only), or
 * focuses a tab already there. Controls no pages: push needs none. */
"use strict";

/** An http(s) URL as the parser writes it, else null. */
const web = (text, base) => {
  try {
    const url = new URL(text, base);
    return /^https?:$/.test(url.protocol) ? url : null;
  } catch (e) {
    return null;
  }
};

const given = web(new URL(location.href).searchParams.get("endpoint") || location.origin);
const endpoint = (given ? given.origin + given.pathname : location.origin).replace(/\/+$/, "");

/** Tells the edge what happened to a message; a failed report never blocks the notification. */
const report = (data, event) => data && typeof data.vitrine_key === "string"
  ? fetch(endpoint + "/v1/push/report", { method: "POST", body: JSON.stringify({ key: data.vitrine_key, event }), keepalive: true })
    .catch(() => {})
  : Promise.resolve();

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("push", (event) => {
  let message = null;
  try {
    message = event.data && event.data.json();
  } catch (e) { /* not JSON: not ours */ }
  // Not a message of ours: the browser shows its own "updated in the background" notice.
  if (!message || typeof message.title !== "string") return;
  const data = message.data === Object(message.data) ? message.data : {};
  event.waitUntil(self.registration.showNotification(message.title, {
    body: String(message.body || ""),
    image: (web(message.image) || {}).href,
    // What the click needs: the link and the message's data.
    data: { link: message.link, data },
  }).then(() => report(data, "displayed")));
});

self.addEventListener("notificationclick", (event) => {
  const notification = event.notification;
  notification.close();
  const { link, data } = notification.data || {};
  const url = web(link);
  event.waitUntil(Promise.all([
    report(data, "clicked"),
    url && self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((tabs) => {
      const open = tabs.find((tab) => tab.url === url.href);
      return open ? open.focus() : self.clients.openWindow(url.href);
    }),
  ]));
});
