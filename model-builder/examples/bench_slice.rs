//! Benchmark (not a test): what the browser downloads besides the SDK's code, for a bundle of
//! any size (issue #16 part 6). Run by `scripts/bench-scale.sh`:
//!
//! ```sh
//! cargo run --release -p vitrine-model-builder --example bench_slice -- BUNDLE \
//!     [--profiles profiles.jsonl] [--visitors 1000] [--seed 7]
//! ```
//!
//! For generated visitors (`tests/support/slices.rs`: home, category, cart and product pages,
//! one in ten with a 50-line cart, up to 20 viewed products, known customers' traits from
//! `--profiles`) it cuts each one's slice (`Engine::slice`, what `/v1/slice` serves), checks
//! that every placement and the exit offer decide as from the whole bundle, and prints the
//! slices' gzip'd sizes. The last line is machine-readable: `slice_gzip_p99_bytes N`.

use vitrine_engine::Engine;

#[path = "../tests/support/slices.rs"]
mod slices;

fn fail(msg: String) -> ! {
    eprintln!("bench_slice: {msg}");
    std::process::exit(2)
}

fn main() {
    let (mut bundle, mut profiles, mut n, mut seed) = (None, None, 1000usize, 7u64);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| fail(format!("{a} needs a value")));
        match a.as_str() {
            "--profiles" => profiles = Some(value()),
            "--visitors" => n = value().parse().unwrap_or_else(|_| fail("--visitors needs a number".into())),
            "--seed" => seed = value().parse().unwrap_or_else(|_| fail("--seed needs a number".into())),
            _ if !a.starts_with('-') && bundle.is_none() => bundle = Some(a),
            _ => fail(format!("unknown argument {a}; usage: bench_slice BUNDLE [--profiles FILE] [--visitors N] [--seed N]")),
        }
    }
    let bundle = bundle.unwrap_or_else(|| fail("a bundle file is required".into()));
    let bytes = std::fs::read(&bundle).unwrap_or_else(|e| fail(format!("cannot read {bundle}: {e}")));
    let engine = Engine::load(&bytes).unwrap_or_else(|e| fail(format!("{bundle}: {e}")));
    let profiles = match &profiles {
        None => Vec::new(),
        Some(path) => slices::read_profiles(path.as_ref()).unwrap_or_else(|e| fail(e)),
    };
    let visitors = slices::visitors(&engine, &profiles, n, seed);
    let sizes = slices::check_slices(&engine, &visitors);
    let p = |q| slices::percentile(&sizes, q);
    println!("{bundle}: {} products, {} bytes", engine.body().catalog.len(), bytes.len());
    println!(
        "slices for {n} generated visitors (1 in 10 with a 50-line cart), decisions equal to the whole bundle's: gzip p50 {} B, p99 {} B, max {} B",
        p(0.5),
        p(0.99),
        sizes[sizes.len() - 1]
    );
    println!("slice_gzip_p99_bytes {}", p(0.99));
}
