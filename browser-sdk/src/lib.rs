//! Vitrine browser SDK: a thin host around the engine for sites that add one script tag.
//!
//! The pure parts — exit-intent detection, the event outbox, event envelopes, the session's
//! learning, what a page view exposed, and `visit`, which makes every decision of a page visit and returns effects as
//! values — are plain Rust tested natively; `web` reads the page's facts into the visit and
//! carries its effects out through the loader's page side (`js/page.js`).

#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

/// The shipped build (`--features bare`, scripts/build-sdk.sh) links no `std`, so std's panic
/// machinery and the formatting it drags in stay out of the download. Tests link `std` as usual.
#[cfg(all(feature = "bare", target_arch = "wasm32"))]
mod bare {
    #[global_allocator]
    // SAFETY: the SDK runs on one thread (wasm32 without atomics; see web::PageLocal).
    static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
        unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

    /// A panic is a bug; the page sees the trap as an exception from the call that hit it,
    /// as with `std`'s `panic = "abort"` (which would print nowhere on wasm32 anyway).
    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        core::arch::wasm32::unreachable()
    }
}

pub mod exit_intent;
pub mod exposure;
pub mod json;
pub mod message;
pub mod outbox;
pub mod session;
pub mod visit;
pub mod web;
