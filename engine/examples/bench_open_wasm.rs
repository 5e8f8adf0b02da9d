//! Benchmark (not a test): the engine in wasm, opening a large bundle, driven by Node
//! (`scripts/bench-bundle.mjs`, run by `scripts/bench-bundle.sh`). Plain exports, no
//! wasm-bindgen, so what is timed is the engine:
//! `alloc(len) -> ptr` (the host copies the bundle there), `load(ptr, len, verify) -> 0 | 1`
//! (`Engine::load_shared`, the edge's way, or with `copy` `Engine::load`; 1 = refused), `visitors(n)` (makes the visitor mix of
//! `support/large_store.rs`), `page_view(i) -> items shown` (every placement + exit offer for
//! visitor `i`). The host reads the clock around each call and the memory's size after load.

use std::cell::RefCell;

use vitrine_engine::context::Visitor;
use vitrine_engine::Engine;

#[path = "support/large_store.rs"]
mod large_store;

const NOW: i64 = 1_700_000_000 + 86_400;

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
    static VISITORS: RefCell<Vec<Visitor>> = const { RefCell::new(Vec::new()) };
}

/// A buffer of `len` bytes the host fills; freed by `load`.
#[no_mangle]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    let mut buf = Vec::<u8>::with_capacity(len);
    let ptr = buf.as_mut_ptr();
    std::mem::forget(buf);
    ptr
}

/// # Safety
/// `ptr` and `len` are those of one `alloc` call, its bytes written by the host.
#[no_mangle]
pub unsafe extern "C" fn load(ptr: *mut u8, len: usize, copy: u32) -> u32 {
    let bytes = unsafe { Vec::from_raw_parts(ptr, len, len) };
    let engine = if copy == 1 { Engine::load(&bytes) } else { Engine::load_shared(bytes) };
    let ok = engine.is_ok() as u32;
    ENGINE.with(|e| *e.borrow_mut() = engine.ok());
    1 - ok
}

#[no_mangle]
pub extern "C" fn visitors(n: usize) {
    ENGINE.with(|e| {
        let e = e.borrow();
        let engine = e.as_ref().expect("load first");
        VISITORS.with(|v| *v.borrow_mut() = large_store::visitors(engine, n, NOW));
    });
}

#[no_mangle]
pub extern "C" fn page_view(i: usize) -> usize {
    ENGINE.with(|e| {
        let e = e.borrow();
        let engine = e.as_ref().expect("load first");
        VISITORS.with(|v| {
            let v = v.borrow();
            large_store::page_view(engine, &v[i % v.len()], NOW)
        })
    })
}
