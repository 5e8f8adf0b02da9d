// Types for Vitrine's browser SDK: `window.vitrine`, set by the vitrine.js script tag, and the
// npm package @vitrine/browser, whose `load()` returns the same API.

/**
 * The Segment e-commerce spec v2 events (and Vitrine's `Promotion Closed`, Segment's
 * `Experiment Viewed`): the engine's event table (engine/src/events.rs), which says which ones
 * the session learns from, journeys read or measurement counts; the others are stored and
 * counted. Any other name is sent as given, and the edge's /v1/events refuses it. A test
 * compares this list with the table.
 */
export type EcommerceEvent =
  | "Product Viewed"
  | "Product Clicked"
  | "Product Added"
  | "Product Removed"
  | "Product List Viewed"
  | "Cart Viewed"
  | "Checkout Started"
  | "Order Completed"
  | "Promotion Viewed"
  | "Promotion Clicked"
  | "Promotion Closed"
  | "Experiment Viewed"
  | "Products Searched"
  | "Product List Filtered"
  | "Checkout Step Viewed"
  | "Checkout Step Completed"
  | "Payment Info Entered"
  | "Order Updated"
  | "Order Refunded"
  | "Order Cancelled"
  | "Coupon Entered"
  | "Coupon Applied"
  | "Coupon Denied"
  | "Coupon Removed"
  | "Product Added to Wishlist"
  | "Product Removed from Wishlist"
  | "Wishlist Product Added to Cart"
  | "Product Alert Requested"
  | "Product Shared"
  | "Cart Shared"
  | "Product Reviewed";

export interface ConsentPurposes {
  personalization?: boolean;
  email?: boolean;
  sms?: boolean;
  push?: boolean;
  whatsapp?: boolean;
}

export interface ProductProperties {
  product_id?: string | number;
  sku?: string;
  category?: string;
  name?: string;
  brand?: string;
  price?: number;
  quantity?: number;
  url?: string;
  image_url?: string;
  [key: string]: unknown;
}

export interface CartProperties {
  cart_id?: string;
  order_id?: string;
  total?: number;
  revenue?: number;
  currency?: string;
  /** Cart Viewed / Checkout Started with products replace the session's cart. */
  products?: ProductProperties[];
  [key: string]: unknown;
}

export type EventProperties = ProductProperties | CartProperties | Record<string, unknown>;

/** Traits of a known customer; conditions see them as `traits.*`. */
export interface Traits {
  segment?: string;
  first_name?: string;
  frequency?: number;
  monetary?: number;
  recency_days?: number;
  top_categories?: string[];
  [key: string]: unknown;
}

export type DecisionStatus = "filled" | "not_targeted" | "holdout" | "empty";

export interface DecidedItem {
  sku: string;
  title: string;
  url: string;
  image: string;
  price: number;
  /** The recommender that contributed most to this item. */
  source: string;
  score: number;
}

export interface Explain {
  /** The rule that decided, e.g. `placements.home-for-you.sources`. */
  rule: string;
  segment: string;
  segments: string[];
  experiment: { key: string; arm: string } | null;
  sources: { recommender: string; weight: number; candidates: number }[];
  /**
   * What each `[[merchandising]]` rule did to which product, in config order: the product's
   * score once the rule acted (removed: 0) and its final position, 1-based (0: not shown).
   * Always empty from `vitrine.decide()` (the download's budget); `/v1/decide?explain=1` fills it.
   */
  merchandising: { rule: string; action: "pin" | "boost" | "bury" | "exclude"; sku: string; score: number; position: number }[];
}

/**
 * Decisions and offers have one JSON shape: `vitrine.decide()`, `on("offer")`, and the edge's
 * `/v1/decide` and `/v1/exit-offer` (engine/src/decide.rs, `FIELDS`; a test compares).
 */
export interface Decision {
  placement: string;
  status: DecisionStatus;
  title: string;
  variant: string | null;
  items: DecidedItem[];
  /**
   * Inner HTML for the slot (escaped by the engine); empty unless `status` is "filled". A slot
   * is filled only when `status` is "filled" and `html` is not empty; otherwise it keeps the
   * page's own content (the edge follows the same rule).
   */
  html: string;
  explain: Explain;
}

export type ExitTrigger = "top_edge" | "fast_scroll_up" | "back_navigation" | "idle" | "deep_link" | "api";

export interface Offer {
  id: string;
  /** "welcome", "free_shipping", "priority_support", "early_access", or a custom scenario. */
  scenario: string;
  kind: string;
  value: number;
  code: string;
  headline: string;
  body: string;
  ctaText: string;
  ctaUrl: string;
  html: string;
  /** What showed the offer (the SDK's own field; `/v1/exit-offer` has no trigger). */
  trigger: ExitTrigger;
  explain: Explain;
}

/** What `vitrine.on(name, handler)` handlers receive. */
export interface Notifications {
  /** The SDK started; `filled` slots were filled by it. */
  ready: { filled: number };
  /** A slot was decided on this page. */
  decision: Decision;
  /** An exit-intent or deep-link offer is shown. */
  offer: Offer;
  offer_closed: { id: string; reason: "dismissed" | "escape" };
  /** An event was queued (its name). */
  event: string;
  /** A batch request finished: true when the endpoint took it. */
  sent: boolean;
  consent: boolean;
  /** Something was refused or failed, with the reason (also logged with console.warn). */
  error: string;
}

export interface Vitrine {
  readonly version: string;
  /** Resolves once the SDK runs; rejects if it could not start (the page keeps its content). */
  readonly ready: Promise<Vitrine>;
  track(event: EcommerceEvent | (string & {}), properties?: EventProperties): void;
  /**
   * Records a page view (single-page apps, after a route change): reads the URL again, fills
   * new slots. Segment's forms: `page()`, `page(name)`, `page(category, name)`,
   * `page(properties)`, `page(name, properties)`, `page(category, name, properties)`; name and
   * category go into the properties, which override the page's own (path, url, title,
   * referrer, type). `{ product_id }` (or `{ sku }`) of a catalog product makes this page
   * that product's page, with no URL pattern.
   */
  page(properties?: PageProperties): void;
  page(name: string | null, properties?: PageProperties): void;
  page(category: string | null, name: string | null, properties?: PageProperties): void;
  /**
   * Names the customer. `token`: the identity token your backend signed for them (HS256 JWT,
   * see README "Going to production"); without it the edge refuses events naming a customer
   * unless the visitor's signed profile cookie already says who they are. `undefined` keeps
   * the current user (traits only); `null` forgets them, their traits and token (what is
   * queued is sent first).
   */
  identify(userId: string | null | undefined, traits?: Traits, options?: { token?: string }): void;
  /**
   * Someone new from here (signing out on a shared device): sends what is queued, then forgets
   * the user, their traits, the session (cart, interests) and the anonymous id, which is new
   * (in `vt_vid` too); the cart and interests cookies are deleted. Consent stays.
   */
  reset(): void;
  /**
   * The anonymous id (null before `ready`); with `id` (8 to 64 letters, digits, `-`, `_`),
   * sets it first, for the edge too (`vt_vid`).
   */
  anonymousId(id?: string): string | null;
  /** The visitor as analytics.js's `user()`: each getter reads now (null before `ready`). */
  user(): User;
  /**
   * The visitor's consent. `true`/`false`: personalization and every channel but SMS and
   * WhatsApp (each needs its own `sms: true` / `whatsapp: true`). Per purpose, each key given
   * changes only that purpose: `personalization` lets the site remember the visitor (cookies,
   * storage, events; with `data-require-consent` nothing is sent or stored before it), `email`,
   * `sms`, `whatsapp` and `push` let
   * journeys message them there. Channel answers travel as an event, so they reach the store
   * only once personalization is allowed.
   */
  consent(granted: boolean | ConsentPurposes): void;
  /** The decision for a placement for this visitor now, with this session's interests. */
  decide(placement: string): Promise<Decision>;
  /**
   * Shows the exit offer now; false if already shown this session, after a purchase, or none
   * fits. The dialog is `vitrine-dialog.js` (next to the SDK), imported the first time an offer
   * shows. An offer with `capture` (`[[offers]]`) asks for an email (and, with
   * `"email_and_sms"`, an optional mobile number with the SMS consent spelled out) instead of
   * showing a code: the visitor's code arrives in the welcome email once they confirm.
   */
  showExitOffer(): Promise<boolean>;
  /** Sends queued events now (sendBeacon). */
  flush(): void;
  /**
   * "Notify me" on a product (back in stock, or cheaper): a `Product Alert Requested` track
   * event with `{ sku }`, through the same queue as `track()`. The visitor's `back_in_stock`
   * and `price_drop` journeys message them when it happens (with their consent).
   */
  notify(sku: string): void;
  /**
   * Web push. Each call imports `vitrine-push.js` (next to the SDK) the first time: pages that
   * never ask pay nothing. Call `subscribe()` from a click of the visitor's (it asks for the
   * notification permission).
   */
  readonly push: Push;
  /** Subscribes to a notification; returns the unsubscribe function. */
  on<K extends keyof Notifications>(name: K, handler: (payload: Notifications[K]) => void): () => void;
}

/** `vitrine.push.*`'s options. */
export interface PushOptions {
  /**
   * The service worker's URL (default: `vitrine-sw.js` next to the SDK). It must be on the
   * page's own origin: serve the package's `vitrine-sw.js` there when the SDK comes from
   * elsewhere (or from a bundle).
   */
  serviceWorker?: string | URL;
  /** Its registration's scope (default: the worker's folder; push controls no pages). */
  scope?: string;
}

export type PushResult =
  | { subscribed: true }
  | {
      subscribed: false;
      /**
       * "unsupported": no service worker, Push API or Notification API here; "denied": the
       * visitor (or the browser) refused notifications; "dismissed": the prompt was closed
       * unanswered; "failed": the worker, the key (`<endpoint>/v1/push/key`) or the push
       * service failed, `error` says how.
       */
      reason: "unsupported" | "denied" | "dismissed" | "failed";
      error?: string;
    };

export interface Push {
  /**
   * Asks for the notification permission, registers the service worker, subscribes with the
   * store's VAPID key and hands the subscription to the endpoint (`consent({ push: true })`,
   * then `identify(undefined, { push_token })`). A refusal resolves `{ subscribed: false,
   * reason }`; rejects only if `vitrine-push.js` cannot be loaded.
   */
  subscribe(options?: PushOptions): Promise<PushResult>;
  /** Drops this browser's subscription, if any, and sends `consent({ push: false })`. */
  unsubscribe(options?: PushOptions): Promise<{ subscribed: false }>;
  /** Whether this browser holds a subscription, and the notification permission. */
  state(options?: PushOptions): Promise<{ subscribed: boolean; permission: NotificationPermission | "unsupported" }>;
}

/** Traits of a known customer and their ids, read now. */
export interface User {
  id(): string | null;
  anonymousId(): string | null;
  traits(): Traits;
}

export interface PageProperties {
  /** A catalog product: this page is its product page (single-page apps). */
  product_id?: string | number;
  sku?: string;
  name?: string;
  category?: string;
  [key: string]: unknown;
}

/** `load(options)`'s options: the script tag's data attributes in camelCase. */
export interface LoadOptions {
  /** Where `/v1/slice` and `/v1/events` are (default: the page's origin). */
  endpoint?: string;
  /** The bundle URL (default: `<endpoint>/v1/slice?path=<this page>`). */
  bundle?: string;
  /** The WebAssembly module's URL (default: the package's wasm next to the module). */
  wasm?: string | URL;
  /** The exit-offer dialog's stylesheet's URL (default: `vitrine.css` next to the module). */
  css?: string | URL;
  /** The visitor's id, when valid (8 to 64 letters, digits, `-`, `_`): wins over `vt_vid` and the stored one. */
  anonymousId?: string;
  /** Nothing sent or stored before consent. */
  requireConsent?: boolean;
  /** ms before unfilled slots show their own content (default 1000). */
  timeout?: number;
  exitDwellMs?: number;
  exitIdleMs?: number;
  /** false: do not watch the back button (single-page apps with their own router). */
  backIntent?: boolean;
  autoTrack?: "all" | "page" | "off";
  profileCookie?: string;
  /** Segment's `ajs_anonymous_id` (cookie, else localStorage), when there is one, is the visitor's id. */
  ajsAnonymousId?: boolean;
}

/** The npm package's entry: starts the SDK once per page and returns its API at once. */
export declare function load(options?: LoadOptions): Vitrine;

/** Calls made before the script loads: `window.vitrine = window.vitrine || []; vitrine.push(["track", ...])`. */
export type QueuedCall = [keyof Vitrine, ...unknown[]];

declare global {
  interface Window {
    vitrine: Vitrine;
  }
}
