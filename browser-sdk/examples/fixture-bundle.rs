//! Writes the SDK's test fixture bundle (the static demo's store) to a file:
//! `cargo run -p vitrine-browser-sdk --example fixture-bundle -- OUT.bin`

#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    let Some(out) = std::env::args_os().nth(1) else {
        eprintln!("usage: fixture-bundle OUT.bin");
        std::process::exit(2);
    };
    let bytes = common::bundle_bytes();
    if let Err(e) = std::fs::write(&out, &bytes) {
        eprintln!("fixture-bundle: cannot write {}: {e}", out.to_string_lossy());
        std::process::exit(1);
    }
    println!("wrote {} ({} bytes)", out.to_string_lossy(), bytes.len());
}
