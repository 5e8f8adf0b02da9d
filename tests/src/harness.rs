//! A small test runner for suites that share one expensive setup (a `wrangler dev` stack):
//! the setup runs once, each case runs under `catch_unwind`, and the setup is dropped at the
//! end whatever happened, so every process it started is stopped. Accepts libtest's name
//! filters and `--list`, and ignores its other flags.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
use std::time::Instant;

pub struct Case<S> {
    pub name: &'static str,
    pub run: fn(&S),
}

#[macro_export]
macro_rules! cases {
    ($($f:ident),* $(,)?) => { &[$($crate::harness::Case { name: stringify!($f), run: $f }),*] };
}

pub fn run<S>(suite: &str, setup: impl FnOnce() -> S, cases: &[Case<S>]) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let exact = args.iter().any(|a| a == "--exact");
    let filters: Vec<&str> = args.iter().filter(|a| !a.starts_with("--")).map(String::as_str).collect();
    let selected: Vec<&Case<S>> =
        cases.iter().filter(|c| filters.is_empty() || filters.iter().any(|f| if exact { c.name == *f } else { c.name.contains(f) })).collect();
    if args.iter().any(|a| a == "--list") {
        for c in &selected {
            println!("{}: test", c.name);
        }
        return ExitCode::SUCCESS;
    }
    println!("\nrunning {} tests ({suite}, one shared stack)", selected.len());
    if selected.is_empty() {
        println!("\ntest result: ok. 0 passed; 0 failed; {} filtered out\n", cases.len());
        return ExitCode::SUCCESS;
    }
    let started = Instant::now();
    let state = match catch_unwind(AssertUnwindSafe(setup)) {
        Ok(s) => s,
        Err(_) => {
            println!("test {suite}::setup ... FAILED\n\ntest result: FAILED. setup failed (see above)\n");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = Vec::new();
    for c in &selected {
        let t = Instant::now();
        let ok = catch_unwind(AssertUnwindSafe(|| (c.run)(&state))).is_ok();
        println!("test {} ... {} ({:.1}s)", c.name, if ok { "ok" } else { "FAILED" }, t.elapsed().as_secs_f32());
        if !ok {
            failed.push(c.name);
        }
    }
    drop(state);
    let passed = selected.len() - failed.len();
    if failed.is_empty() {
        println!(
            "\ntest result: ok. {passed} passed; 0 failed; {} filtered out; finished in {:.1}s\n",
            cases.len() - selected.len(),
            started.elapsed().as_secs_f32()
        );
        ExitCode::SUCCESS
    } else {
        println!("\nfailures:\n    {}\n\ntest result: FAILED. {passed} passed; {} failed\n", failed.join("\n    "), failed.len());
        ExitCode::FAILURE
    }
}
