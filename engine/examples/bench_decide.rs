//! Benchmark (not a test): how fast the engine decides, on a real bundle.
//!
//! ```sh
//! cargo run --release -p vitrine-engine --example bench_decide -- <bundle.bin> [profiles.jsonl] \
//!     [--iters N] [--warmup N] [--visitors N] [--only <placement|exit_offer|load|prelude|page_view|list>]
//! ```
//! (`scripts/bench-engine.sh` builds the UCI bundle if missing and runs this.)
//!
//! Measures with `std::time::Instant`, one thread:
//! - bundle load: `bundle::decode` and `Engine::from_bundle` (compiling the rules), bytes in memory;
//! - per placement of the bundle's rules, `Engine::decide` over a deterministic mix of visitors
//!   the placement targets (anonymous and known customers with traits from the private
//!   profiles file; home, product pages of popular products, category pages, cart with 1-5
//!   items; in-session interests recorded with `Interests::record`), and on placements whose
//!   `when` fails; then `exit_offer`;
//! - a page view: every placement plus the exit offer for one visitor (what the edge does
//!   for one HTML page), and decisions per second on one core (by the thread's on-CPU time
//!   where Linux reports it, so a shared machine does not halve the figure);
//! - the shared prelude every decision pays: `segments_of` and `attributes`.
//!
//! Per call: median, p99 and mean in microseconds (timer overhead included: tens of ns).
//! `--only` runs one part, for `valgrind --tool=callgrind` (instruction counts); `--only list`
//! prints the placements and `exit_offer`, one a line.

use std::hint::black_box;
use std::time::Instant;

use vitrine_engine::bundle::{self, ProductIdx};
use vitrine_engine::context::{CartLine, Device, Signal, Visitor};
use vitrine_engine::Value;
use vitrine_engine::{slug, Engine, Status};

/// SplitMix64: a small deterministic generator, so every run benchmarks the same visitors.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

struct Args {
    bundle: String,
    profiles: Option<String>,
    iters: usize,
    warmup: usize,
    visitors: usize,
    only: Option<String>,
}

fn usage() -> ! {
    eprintln!(
        "usage: bench_decide <bundle.bin> [profiles.jsonl] [--iters N] [--warmup N] [--visitors N] [--only <placement|exit_offer|load|page_view|prelude|list>]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args { bundle: String::new(), profiles: None, iters: 50_000, warmup: 5_000, visitors: 2_000, only: None };
    let mut positional = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut num = |name: &str| -> usize {
            it.next().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or_else(|| {
                eprintln!("{name} needs a number");
                usage()
            })
        };
        match arg.as_str() {
            "--iters" => a.iters = num("--iters").max(1),
            "--warmup" => a.warmup = num("--warmup"),
            "--visitors" => a.visitors = num("--visitors").max(1),
            "--only" => a.only = Some(it.next().unwrap_or_else(|| usage())),
            "-h" | "--help" => usage(),
            s if s.starts_with("--") => {
                eprintln!("unknown option {s}");
                usage()
            }
            _ => positional.push(arg),
        }
    }
    match positional.len() {
        1 | 2 => {
            a.bundle = positional[0].clone();
            a.profiles = positional.get(1).cloned();
        }
        _ => usage(),
    }
    a
}

/// Nanosecond samples -> median, p99, mean and min in microseconds.
struct Summary {
    n: usize,
    median: f64,
    p99: f64,
    mean: f64,
    min: f64,
}

fn summarize(samples: &mut [u64]) -> Summary {
    samples.sort_unstable();
    let n = samples.len();
    let us = |ns: u64| ns as f64 / 1000.0;
    Summary {
        n,
        median: us(samples[n / 2]),
        p99: us(samples[(n * 99 / 100).min(n - 1)]),
        mean: samples.iter().sum::<u64>() as f64 / n as f64 / 1000.0,
        min: us(samples[0]),
    }
}

fn print_row(name: &str, pool: usize, s: &Summary, note: &str) {
    println!("{name:<20} {pool:>7} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2}  {note}", s.n, s.median, s.p99, s.mean, s.min);
}

fn print_header() {
    println!("{:<20} {:>7} {:>8} {:>9} {:>9} {:>9} {:>9}", "µs per call", "pool", "calls", "median", "p99", "mean", "min");
}

/// Runs `f` over the pool round-robin: `warmup` untimed calls, then `iters` timed ones.
fn measure<T>(pool: &[T], warmup: usize, iters: usize, mut f: impl FnMut(&T)) -> Vec<u64> {
    for i in 0..warmup {
        f(&pool[i % pool.len()]);
    }
    let mut samples = Vec::with_capacity(iters);
    for i in 0..iters {
        let v = &pool[i % pool.len()];
        let t = Instant::now();
        f(v);
        samples.push(t.elapsed().as_nanos() as u64);
    }
    samples
}

/// Nanoseconds this thread has spent on a CPU (Linux `schedstat`), so that throughput on a
/// shared machine counts only the time we actually ran; None elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}

/// Traits as the edge worker passes them: the profile line minus `customer_id`.
fn read_profiles(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(1)
    });
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(mut m)) => {
                m.remove("customer_id");
                Some(Value::Object(m))
            }
            _ => None,
        })
        .collect()
}

/// A deterministic, realistic mix of visitors (see the module docs). `now`: decision time.
fn visitors(engine: &Engine, profiles: &[Value], count: usize, now: i64) -> Vec<Visitor> {
    let body = engine.body();
    let catalog = &body.catalog;
    // "Popular products": the bestsellers and what is trending, in stock.
    let mut popular: Vec<ProductIdx> = body.recs.popular.iter().chain(&body.recs.trending).map(|s| s.item).collect();
    popular.sort_unstable();
    popular.dedup();
    popular.retain(|&p| catalog.get(p).is_some_and(|p| p.in_stock));
    if popular.is_empty() {
        popular = (0..catalog.len().min(100) as ProductIdx).collect();
    }
    let countries = ["GB", "GB", "GB", "GB", "GB", "GB", "GB", "DE", "FR", "NL", "IE", "ES"];
    let mut rng = Rng(0x5EED_2011);
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let known = !profiles.is_empty() && rng.chance(0.5);
        let path = match rng.below(10) {
            0..=2 => "/".to_string(),
            3..=6 => format!("/products/{}", catalog.get(*rng.pick(&popular)).unwrap().sku().replace(' ', "%20")),
            7 => format!("/category/{}", slug(rng.pick(&catalog.categories).as_str())),
            _ => "/cart".to_string(),
        };
        let page = engine.page(&path);
        let mut v = Visitor { visitor_id: format!("bench-{i:06}"), ..Visitor::default() };
        if known {
            v.traits = rng.pick(profiles).clone();
        }
        v.request.country = Some(rng.pick(&countries).to_string());
        v.request.device = match rng.below(20) {
            0..=10 => Device::Mobile,
            11..=18 => Device::Desktop,
            _ => Device::Tablet,
        };
        v.session.new_visitor = !known && rng.chance(0.6);
        v.session.page_views = 1 + rng.below(12) as u32;
        v.session.purchased = rng.chance(0.03);
        if rng.chance(0.2) {
            v.request.utm_source = Some("newsletter".into());
            v.request.utm_medium = Some("email".into());
            v.request.referrer = Some("https://mail.example/".into());
        }
        // Session interests: 0-6 product views over the last hour or so, plus the cart adds.
        let views = rng.below(7);
        let mut t = now - 60 * (5 + rng.below(90) as i64);
        for _ in 0..views {
            v.interests.record(catalog, Signal::ProductView, Some(*rng.pick(&popular)), None, t);
            t += 30 + rng.below(300) as i64;
        }
        let cart_items = if page.kind == "cart" || rng.chance(0.3) { 1 + rng.below(5) } else { 0 };
        for _ in 0..cart_items {
            let p = *rng.pick(&popular);
            if !v.in_cart(p) {
                v.cart.push(CartLine { product: p, quantity: 1 + rng.below(6) as u32 });
                v.interests.record(catalog, Signal::AddToCart, Some(p), None, t.min(now));
            }
        }
        // What the host records for the page itself (as the edge worker does).
        if page.product.is_some() {
            v.interests.record(catalog, Signal::ProductView, page.product, None, now);
        } else if page.category.is_some() {
            v.interests.record(catalog, Signal::CategoryView, None, page.category, now);
        }
        v.request.page = page;
        out.push(v);
    }
    out
}

fn main() {
    let args = parse_args();
    let only = args.only.as_deref();
    let runs = |name: &str| only.is_none_or(|o| o == name);
    let bytes = std::fs::read(&args.bundle).unwrap_or_else(|e| {
        eprintln!("cannot read {}: {e}", args.bundle);
        std::process::exit(1)
    });
    if only == Some("list") {
        // The decisions `--only` takes, one a line (for scripts).
        let engine = Engine::load(&bytes).unwrap_or_else(|e| {
            eprintln!("cannot load {}: {e}", args.bundle);
            std::process::exit(1)
        });
        engine.body().rules.placements.iter().for_each(|p| println!("{}", p.id));
        println!("exit_offer");
        return;
    }
    let profiles = args.profiles.as_deref().map(read_profiles).unwrap_or_default();

    // --- Load: decode (checksum + body) and compile (conditions, page patterns, slugs).
    let engine = Engine::load(&bytes).unwrap_or_else(|e| {
        eprintln!("cannot load {}: {e}", args.bundle);
        std::process::exit(1)
    });
    println!(
        "bundle {} ({} bytes): {} products, {} categories, {} placements, {} offers; {} profiles",
        args.bundle,
        bytes.len(),
        engine.body().catalog.len(),
        engine.body().catalog.categories.len(),
        engine.body().rules.placements.len(),
        engine.body().rules.offers.len(),
        profiles.len()
    );
    if runs("load") {
        let reps = if only.is_some() { 5 } else { 21 };
        let (mut dec, mut comp, mut total) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..reps {
            let t = Instant::now();
            let b = bundle::decode(black_box(&bytes)).expect("decodes");
            let t1 = Instant::now();
            let e = Engine::from_bundle(b).expect("compiles");
            let t2 = Instant::now();
            black_box(&e);
            drop(e);
            dec.push((t1 - t).as_nanos() as u64);
            comp.push((t2 - t1).as_nanos() as u64);
            let t = Instant::now();
            black_box(Engine::load(black_box(&bytes)).expect("loads"));
            total.push(t.elapsed().as_nanos() as u64);
        }
        let ms = |s: &mut Vec<u64>| {
            s.sort_unstable();
            (s[s.len() / 2] as f64 / 1e6, s[0] as f64 / 1e6)
        };
        let ((d, dmin), (c, cmin), (l, lmin)) = (ms(&mut dec), ms(&mut comp), ms(&mut total));
        println!(
            "load ({reps} runs, median / min): decode {d:.2} / {dmin:.2} ms, compile {:.1} / {:.1} µs, Engine::load {l:.2} / {lmin:.2} ms",
            c * 1000.0,
            cmin * 1000.0
        );
    }
    if only == Some("load") {
        return;
    }

    let now = engine.body().stats.data_end + 86_400;
    let pool = visitors(&engine, &profiles, args.visitors, now);
    let known = pool.iter().filter(|v| v.is_known()).count();
    let kinds = ["home", "product", "category", "cart"].map(|k| pool.iter().filter(|v| v.request.page.kind == k).count());
    println!(
        "visitors: {} ({known} known, {} anonymous; home {}, product {}, category {}, cart {}; {} with a cart); now = data end + 1 day",
        pool.len(),
        pool.len() - known,
        kinds[0],
        kinds[1],
        kinds[2],
        kinds[3],
        pool.iter().filter(|v| !v.cart.is_empty()).count()
    );
    let load = std::fs::read_to_string("/proc/loadavg").ok().and_then(|l| l.split_whitespace().next().map(String::from));
    println!(
        "warm-up {} calls, then {} timed calls per row (wall clock, Decision's drop included); load average {}",
        args.warmup,
        args.iters,
        load.as_deref().unwrap_or("?")
    );
    println!();
    print_header();

    // --- Per placement, over the visitors it targets (untargeted calls are a separate, cheap path).
    let placements: Vec<String> = engine.body().rules.placements.iter().map(|p| p.id.clone()).collect();
    for id in &placements {
        if !runs(id) {
            continue;
        }
        let targeted: Vec<&Visitor> = pool.iter().filter(|v| engine.decide(v, id, now).map(|d| d.status != Status::NotTargeted).unwrap_or(false)).collect();
        let (which, pool_used): (&str, Vec<&Visitor>) =
            if targeted.is_empty() { ("all (none targeted)", pool.iter().collect()) } else { ("targeted", targeted) };
        let (mut filled, mut items, mut holdout, mut candidates) = (Vec::new(), 0usize, 0usize, 0usize);
        for v in &pool_used {
            let d = engine.decide(v, id, now).expect("known placement");
            if d.status == Status::Filled {
                filled.push(*v);
            }
            holdout += (d.status == Status::Holdout) as usize;
            items += d.items.len();
            candidates += d.explain.sources.iter().map(|s| s.candidates as usize).sum::<usize>();
        }
        let mut s = measure(&pool_used, args.warmup, args.iters, |v| {
            black_box(engine.decide(black_box(v), black_box(id), now).ok());
        });
        let mut note = format!("{which}; {:.0}% filled", 100.0 * filled.len() as f64 / pool_used.len() as f64);
        if items > 0 {
            note += &format!(", {:.1} items from {:.0} candidates", items as f64 / filled.len().max(1) as f64, candidates as f64 / filled.len().max(1) as f64);
        }
        if holdout > 0 {
            note += &format!(", {:.0}% holdout", 100.0 * holdout as f64 / pool_used.len() as f64);
        }
        print_row(id, pool_used.len(), &summarize(&mut s), &note);
        if only.is_none() && !filled.is_empty() && filled.len() < pool_used.len() {
            // Mixed outcomes (holdout, empty): the cost of the filled ones alone.
            let mut s = measure(&filled, args.warmup, args.iters, |v| {
                black_box(engine.decide(black_box(v), black_box(id), now).ok());
            });
            print_row("  filled only", filled.len(), &summarize(&mut s), "the same, visitors who get the slot filled");
        }
    }
    if runs("untargeted") && only.is_none() {
        // A carousel asked about a visitor it does not target (e.g. pdp-pair-with on the home page).
        let pairs: Vec<(&Visitor, &str)> = pool
            .iter()
            .flat_map(|v| placements.iter().map(move |p| (v, p.as_str())))
            .filter(|(v, p)| engine.decide(v, p, now).is_ok_and(|d| d.status == Status::NotTargeted))
            .collect();
        if !pairs.is_empty() {
            let mut s = measure(&pairs, args.warmup, args.iters, |(v, p)| {
                black_box(engine.decide(black_box(v), black_box(p), now).ok());
            });
            print_row("(not targeted)", pairs.len(), &summarize(&mut s), "decide on a placement whose `when` fails");
        }
    }
    if runs("exit_offer") {
        let offered = pool.iter().filter(|v| engine.exit_offer(v, now).is_some()).count();
        let mut s = measure(&pool, args.warmup, args.iters, |v| {
            black_box(engine.exit_offer(black_box(v), now));
        });
        let note = format!("all visitors; {:.0}% get an offer", 100.0 * offered as f64 / pool.len() as f64);
        print_row("exit_offer", pool.len(), &summarize(&mut s), &note);
    }
    if runs("prelude") {
        // What every decide/exit_offer builds before looking at its own rule.
        let mut s = measure(&pool, args.warmup, args.iters, |v| {
            black_box(engine.segments_of(black_box(v)));
        });
        print_row("  segments_of", pool.len(), &summarize(&mut s), "rule segments (builds the attributes once)");
        let mut s = measure(&pool, args.warmup, args.iters, |v| {
            black_box(engine.attributes(black_box(v)));
        });
        print_row("  attributes", pool.len(), &summarize(&mut s), "segments_of + attributes again = decide's prelude");
        let catalog = &engine.body().catalog;
        let mut s = measure(&pool, args.warmup, args.iters, |v| {
            black_box(black_box(v).attributes(catalog, &[]));
        });
        print_row("  Visitor::attributes", pool.len(), &summarize(&mut s), "the context object alone");
    }

    // --- A page view: every placement + the exit offer for one visitor; and throughput.
    if runs("page_view") {
        let iters = (args.iters / (placements.len() + 1)).max(1);
        // As the edge and the SDK decide a page: one rule input, then every placement.
        let mut s = measure(&pool, args.warmup / (placements.len() + 1), iters, |v| {
            let input = engine.rule_input(black_box(v));
            for id in &placements {
                black_box(engine.decide_with(v, &input, black_box(id), now).ok());
            }
            black_box(engine.exit_offer(black_box(v), now));
        });
        let per_view = summarize(&mut s);
        print_row("page view", pool.len(), &per_view, &format!("{} placements + exit_offer", placements.len()));

        // Throughput: no timer per call, one thread.
        let calls_per_view = placements.len() + 1;
        let views = (args.iters * 2 / calls_per_view).max(pool.len());
        let cpu0 = thread_cpu_ns();
        let t = Instant::now();
        for i in 0..views {
            let v = &pool[i % pool.len()];
            let input = engine.rule_input(black_box(v));
            for id in &placements {
                black_box(engine.decide_with(v, &input, black_box(id), now).ok());
            }
            black_box(engine.exit_offer(black_box(v), now));
        }
        let wall = t.elapsed().as_secs_f64();
        let cpu = thread_cpu_ns().zip(cpu0).map(|(b, a)| (b - a) as f64 / 1e9);
        let decisions = views * calls_per_view;
        println!();
        // On a shared machine the thread is not on a core the whole time: rate by on-CPU time
        // when the OS tells it (wall-clock rate alongside).
        let secs = cpu.filter(|&c| c > 0.0).unwrap_or(wall);
        println!(
            "throughput, one core: {:.0} decisions/s, {:.0} page views/s ({decisions} decisions, {views} page views of {} placements + exit offer; {} {secs:.2} s, wall {wall:.2} s = {:.0} decisions/s)",
            decisions as f64 / secs,
            views as f64 / secs,
            placements.len(),
            if cpu.is_some() { "on-CPU" } else { "wall" },
            decisions as f64 / wall,
        );
    }
}
