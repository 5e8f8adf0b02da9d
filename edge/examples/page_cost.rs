//! What deciding one store page costs, phase by phase, natively: the work of the worker's hot
//! path (`Edge.hot`, `HotPage.early`, `HotPage.answer`) for the demo home page and a returning customer, with
//! their signed profile cookie. Natively and warm, so read the shares, not the microseconds
//! (BENCHMARKS.md, "Edge worker", for the same work in wasm on workerd).
//!
//!   cargo run --release -p vitrine-edge --example page_cost -- dist/demo/bundle.bin dist/demo/profiles.jsonl [customer line N]

use std::hint::black_box;
use std::time::Instant;

use vitrine_edge::context::{self, RequestInfo};
use vitrine_edge::pages::PageDecisions;
use vitrine_edge::profile::{self, cookie_traits, ProfileClaims};
use vitrine_edge::profile_line::ProfileLine;
use vitrine_engine::Engine;

const SECRET: &[u8] = b"bench-secret";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bundle, profiles, ..] = args.as_slice() else {
        eprintln!("usage: page_cost BUNDLE PROFILES.jsonl [LINE]");
        std::process::exit(2);
    };
    let line_no: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(16);
    let engine = Engine::load(&std::fs::read(bundle).expect("bundle")).expect("loads");
    let profiles = std::fs::read_to_string(profiles).expect("profiles");
    let line = ProfileLine::parse(profiles.lines().nth(line_no).expect("a profile line")).expect("parses");
    let claims = ProfileClaims { cid: "bench".into(), traits: cookie_traits(line.traits), iat: 1_800_000_000 };
    let token = profile::issue(&claims, SECRET);
    let info = RequestInfo {
        path: "/".into(),
        query: String::new(),
        cookie: Some(format!("vt_vid=bench-visitor-0001; vt_profile={token}")),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36".into()),
        referrer: None,
        country: Some("GB".into()),
        https: false,
        require_consent: false,
        bypass: Default::default(),
        public_base: "http://127.0.0.1".into(),
    };
    let now = 1_800_000_100;
    println!("cookie: {} bytes; traits JSON {} bytes", token.len(), serde_json::to_string(&claims.traits).unwrap().len());
    // The whole page: cookies, identity, visitor, rules' input, every placement, the entry's slots.
    let page = || {
        let facts = info.facts(&info.path, &info.query);
        let id = context::identify(&facts, Some(SECRET), || "x".into());
        let visitor = context::visitor(&engine, &facts, &id, now);
        let input = engine.rule_input(&visitor);
        black_box(PageDecisions::decide(&engine, &visitor, &input, now).for_entry());
    };
    // `PAGE_ONLY=N`: only the whole page, N times (for a profiler: valgrind --tool=callgrind).
    if let Some(times) = std::env::var("PAGE_ONLY").ok().and_then(|n| n.parse::<usize>().ok()) {
        (0..times).for_each(|_| page());
        return;
    }
    let n = 20_000;
    let time = |name: &str, f: &mut dyn FnMut()| {
        for _ in 0..n / 10 {
            f();
        }
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        println!("{name:<40} {:>8.2} µs", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    };
    let facts = info.facts(&info.path, &info.query);
    time("cookies parsed", &mut || {
        black_box(info.facts(&info.path, &info.query));
    });
    time("profile cookie verified and read", &mut || {
        black_box(profile::read(SECRET, &token).unwrap());
    });
    let id = context::identify(&facts, Some(SECRET), || "x".into());
    time("identify (all of it)", &mut || {
        black_box(context::identify(&facts, Some(SECRET), || "x".into()));
    });
    time("visitor", &mut || {
        black_box(context::visitor(&engine, &facts, &id, now));
    });
    let visitor = context::visitor(&engine, &facts, &id, now);
    time("rule input", &mut || {
        black_box(engine.rule_input(&visitor));
    });
    let input = engine.rule_input(&visitor);
    for p in &engine.body().rules.placements {
        time(&format!("decide {}", p.id), &mut || {
            black_box(engine.decide_with(&visitor, &input, &p.id, now).ok());
        });
    }
    time("every placement (PageDecisions::decide)", &mut || {
        black_box(PageDecisions::decide(&engine, &visitor, &input, now));
    });
    let decided = PageDecisions::decide(&engine, &visitor, &input, now);
    time("the slots for the entry", &mut || {
        black_box(decided.for_entry());
    });
    time("the whole page", &mut || page());
}
