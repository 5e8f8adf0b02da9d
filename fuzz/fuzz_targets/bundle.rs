//! Bundle bytes: `bundle::decode`, then `Engine::load`'s checks and a decision per placement;
//! every product row and neighbour list read in place as a request would (format v6), and the
//! edge's `decode_shared` (no copy) on the same bytes.
//!
//! Invariants: nothing panics; a refusal is a typed error that says where; decoding's peak
//! heap stays within a small multiple of the input (a length in the input reserves no memory
//! the input does not back). The header's length and checksum are fixed up unless bit 0 of the
//! reserved byte 10 is set, so mutations reach the body decoder instead of the checksum check.
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use libfuzzer_sys::fuzz_target;
use vitrine_engine::bundle::{self, BundleError, HEADER_LEN, MAGIC};
use vitrine_engine::{Engine, Visitor};

/// Counts live heap bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(live, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            // Counted as the allocator may do it: old and new blocks both live for a moment.
            let live = LIVE.fetch_add(new_size, Relaxed) + new_size;
            PEAK.fetch_max(live, Relaxed);
            LIVE.fetch_sub(layout.size(), Relaxed);
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Decoding may hold at most this many heap bytes per input byte (plus a fixed allowance): a
/// decoded item is larger than its encoding (a one-byte `null` is a 32-byte `Value`) and a
/// growing list holds up to twice its items, three times while it moves; never by a length the
/// input merely claims (found here: a claimed list of 767 placements reserved 117 times the
/// input; fixed in engine/src/wire.rs).
const HEAP_PER_INPUT_BYTE: usize = 128;
const HEAP_ALLOWANCE: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if bytes.len() >= HEADER_LEN && bytes[10] & 1 == 0 {
        let body_len = (bytes.len() - HEADER_LEN) as u64;
        let sum = bundle::checksum(&bytes[HEADER_LEN..]);
        bytes[..8].copy_from_slice(&MAGIC);
        bytes[8..10].copy_from_slice(&bundle::FORMAT_VERSION.to_le_bytes());
        bytes[36..44].copy_from_slice(&body_len.to_le_bytes());
        bytes[44..52].copy_from_slice(&sum.to_le_bytes());
    }

    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let decoded = bundle::decode(&bytes);
    let peak = PEAK.load(Relaxed) - base;
    let bound = HEAP_PER_INPUT_BYTE * bytes.len() + HEAP_ALLOWANCE;
    assert!(peak <= bound, "decoding {} bytes held {peak} heap bytes at its peak (bound {bound})", bytes.len());

    let b = match decoded {
        Ok(b) => b,
        Err(e) => {
            let text = e.to_string();
            assert!(!text.is_empty());
            if let BundleError::Body(w) = &e {
                assert!(w.offset <= bytes.len() - HEADER_LEN, "{text}: offset past the body");
            }
            return;
        }
    };
    // What decodes re-encodes to bytes that decode again, and the edge reads it the same.
    let again = bundle::encode(&b.header, &b.body);
    assert!(bundle::decode(&again).is_ok(), "a decoded bundle's own encoding is refused");
    // Compared as their encodings: a float that decodes as NaN (an offer's value) is equal
    // to itself only in its bytes.
    let shared = bundle::decode_shared(bytes.clone()).expect("the edge's in-place read refuses what decodes");
    assert_eq!(bundle::encode(&shared.header, &shared.body), again, "the edge's in-place read differs");
    // Rows and lists are checked where they are read: any offset, length or string.
    let (catalog, recs) = (&b.body.catalog, &b.body.recs);
    for i in 0..catalog.len() as u32 + 1 {
        if let Some(p) = catalog.get(i) {
            let _ = (p.to_product(), catalog.index_of(p.sku()));
        }
        let _ = (recs.bought_together.of(i).count(), recs.similar.of(i).count());
    }

    // The engine's load: `Rules::check`, every rule compiled; refusals name the rule.
    let engine = match Engine::from_bundle(b) {
        Ok(engine) => engine,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let mut v = Visitor::default();
    v.request.page = engine.page("/");
    for p in &engine.body().rules.placements {
        let _ = engine.decide(&v, &p.id, 1_700_000_100);
    }
    let _ = engine.exit_offer(&v, 1_700_000_100);
});
