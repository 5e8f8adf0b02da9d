// The worker's entry, the JavaScript half of the runtime layer (ARCHITECTURE.md, "edge-worker").
// Rust answers every request, once (`Edge.fetch`, edge-worker/src/entry.rs). For a store page
// it returns the origin's HTML response with every slot already decided, and this module
// streams it through workerd's HTMLRewriter: a slot element is a lookup here, never a call into
// wasm, and the page is never buffered. Why: BENCHMARKS.md, "Edge worker".
// scripts/build-worker.sh copies this file next to worker-build's output (`./index.js`).
import Rust, { Edge, VisitorDo } from "./index.js";

export { VisitorDo };

const ATTRIBUTE = Edge.slotAttribute();
const SELECTOR = Edge.slotSelector();
const HTML = { html: true };

export default class Worker extends Rust {
  async fetch(request) {
    const answer = await Edge.fetch(request, this.env, this.ctx);
    return answer instanceof Response ? answer : stream(answer);
  }
}

/** A store page through the rewriter: each slot gets its decided content and marks. */
function stream(page) {
  const slots = new Map(JSON.parse(page.slots));
  const response = page.response;
  const filled = page.records ? [] : null;
  const rewriter = new HTMLRewriter().on(SELECTOR, {
    element(el) {
      const placement = el.getAttribute(ATTRIBUTE).trim();
      const slot = slots.get(placement);
      if (slot === undefined) return; // not a placement of the bundle: left alone
      if (slot.html !== undefined) el.setInnerContent(slot.html, HTML);
      for (const [name, value] of slot.marks) el.setAttribute(name, value);
      filled?.push(placement);
    },
  });
  if (filled === null) {
    page.free();
    return rewriter.transform(response);
  }
  // The page view's exposures: the slots it really had, once the document went by.
  return rewriter.onDocument({ end: () => page.streamed(filled) }).transform(response);
}
