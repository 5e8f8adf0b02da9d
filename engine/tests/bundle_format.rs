//! The bundle format refuses every kind of bad input with a typed error and never panics.

use vitrine_engine::bundle::{self, BundleBody, BundleError, Catalog, Header, Product, FORMAT_VERSION, HEADER_LEN, PREVIOUS_FORMAT_VERSION};
use vitrine_engine::rules::{Arm, Experiment, Measurement, Placement, Rules, SegmentRule, Source, Store};
use vitrine_engine::Value;

fn sample() -> (Header, BundleBody) {
    let header = Header { format_version: FORMAT_VERSION, build_id: [7; 16], created_at: 1_700_000_000 };
    let when: Value = serde_json::from_str(r#"{"cart.value": {"$gt": 50}, "tags": {"$elemMatch": {"$eq": "x"}}}"#).unwrap();
    let body = BundleBody {
        store: Store { name: "Demo".into(), currency: "GBP".into(), ..Default::default() },
        catalog: Catalog::new(
            vec![Product { sku: "85123A".into(), title: "WHITE HANGING HEART T-LIGHT HOLDER".into(), price: 2.55, in_stock: true, ..Default::default() }],
            vec!["Candles".into()],
        ),
        stats: Default::default(),
        recs: Default::default(),
        rules: Rules {
            segments: vec![SegmentRule { name: "big-cart".into(), when: when.clone() }],
            placements: vec![Placement {
                id: "hero".into(),
                when,
                title: String::new(),
                sources: vec![Source { recommender: "popular".into(), weight: 1.0 }],
                max_items: 8,
                max_price: None,
                variants: vec![],
                template: String::new(),
                item_template: String::new(),
                exclude_owned: false,
            }],
            experiments: vec![Experiment {
                key: "hero-test".into(),
                placement: "hero".into(),
                arms: vec![Arm { name: "control".into(), ..Arm::default() }, Arm { name: "off".into(), holdout: true, ..Arm::default() }],
                ..Experiment::default()
            }],
            measurement: Measurement { holdout: 0.1, holdout_journeys: false, seed: "s".into() },
            ..Default::default()
        },
    };
    (header, body)
}

/// The golden bytes of `sample()` for this format version (`tests/golden/bundle-v<N>.bin`): a
/// layout change without a `FORMAT_VERSION` bump fails here. After a deliberate bump, write the
/// new file with `UPDATE_GOLDEN=1 cargo test -p vitrine-engine --test bundle_format` and keep
/// the old one: it is the previous version the edge still reads.
#[test]
fn the_layout_is_pinned_by_golden_bytes() {
    let (h, b) = sample();
    let bytes = bundle::encode(&h, &b);
    let path = format!("{}/tests/golden/bundle-v{FORMAT_VERSION}.bin", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    let golden = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}: a new FORMAT_VERSION needs its golden file (UPDATE_GOLDEN=1)"));
    assert!(
        bytes == golden,
        "the bundle layout changed but FORMAT_VERSION is still {FORMAT_VERSION}: bump it, keep reading the previous layout (wire.rs), and write the new golden file"
    );
}

/// A worker upgraded before the bundle is republished keeps personalizing: the previous
/// version's bytes (written by that version's code, `tests/golden/bundle-v4.bin`, whose sample
/// had no experiment) still load, without the global holdout v5 added (its store never asked
/// for one). Not in the SDK.
#[test]
#[cfg(feature = "previous-format")]
fn the_previous_format_version_still_loads() {
    let old = std::fs::read(format!("{}/tests/golden/bundle-v{PREVIOUS_FORMAT_VERSION}.bin", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let read = bundle::decode(&old).expect("the previous version decodes");
    let (_, mut current) = sample();
    current.rules.experiments.clear();
    current.rules.measurement = Measurement::without_holdout();
    assert_eq!((read.header.format_version, read.body), (PREVIOUS_FORMAT_VERSION, current));
    assert!(vitrine_engine::Engine::load(&old).is_ok(), "and the engine serves it");
}

#[test]
fn round_trips() {
    let (h, b) = sample();
    let bytes = bundle::encode(&h, &b);
    let back = bundle::decode(&bytes).unwrap();
    assert_eq!(back.header, h);
    assert_eq!(back.body, b);
}

#[test]
fn refuses_bad_input_with_typed_errors() {
    let (h, b) = sample();
    let bytes = bundle::encode(&h, &b);

    assert!(matches!(bundle::decode(&bytes[..10]), Err(BundleError::TooShort { .. })));
    let mut bad = bytes.clone();
    bad[0] = b'X';
    assert_eq!(bundle::decode(&bad), Err(BundleError::BadMagic));
    let mut newer = bytes.clone();
    newer[8..10].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert!(matches!(bundle::decode(&newer), Err(BundleError::NewerFormat { found, .. }) if found == FORMAT_VERSION + 1));
    // Older than the previous version: refused by version, with advice, instead of failing
    // somewhere inside the body.
    let mut older = bytes.clone();
    older[8..10].copy_from_slice(&(PREVIOUS_FORMAT_VERSION - 1).to_le_bytes());
    let err = bundle::decode(&older).unwrap_err();
    assert!(matches!(err, BundleError::OlderFormat { found, .. } if found == PREVIOUS_FORMAT_VERSION - 1));
    assert!(err.to_string().contains("rebuild it with model-builder"), "{err}");
    assert!(matches!(bundle::decode(&bytes[..bytes.len() - 3]), Err(BundleError::Truncated { .. })));
    let mut flipped = bytes.clone();
    *flipped.last_mut().unwrap() ^= 0x40;
    assert!(matches!(bundle::decode(&flipped), Err(BundleError::ChecksumMismatch { .. })));
}

#[test]
fn a_body_with_a_valid_checksum_but_garbage_inside_is_refused() {
    let (h, b) = sample();
    let mut bytes = bundle::encode(&h, &b);
    // Scramble the body, then fix up the checksum so only the body decoder can object.
    for (i, x) in bytes[HEADER_LEN..].iter_mut().enumerate() {
        *x = x.wrapping_mul(31).wrapping_add(i as u8);
    }
    let sum = bundle::checksum(&bytes[HEADER_LEN..]);
    bytes[44..52].copy_from_slice(&sum.to_le_bytes());
    assert!(matches!(bundle::decode(&bytes), Err(BundleError::Body(_))));
}

#[test]
fn never_panics_on_any_bytes() {
    // Deterministic pseudo-random inputs, many with a valid header and checksum, so the body
    // decoder sees hostile lengths and tags.
    let (h, b) = sample();
    let good = bundle::encode(&h, &b);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..20_000 {
        let mut bytes = good.clone();
        let flips = 1 + (next() % 8) as usize;
        for _ in 0..flips {
            let i = HEADER_LEN + (next() as usize) % (bytes.len() - HEADER_LEN);
            bytes[i] = next() as u8;
        }
        if round % 3 == 0 {
            bytes.truncate(HEADER_LEN + (next() as usize) % (bytes.len() - HEADER_LEN));
            let len = (bytes.len() - HEADER_LEN) as u64;
            bytes[36..44].copy_from_slice(&len.to_le_bytes());
        }
        let sum = bundle::checksum(&bytes[HEADER_LEN..]);
        bytes[44..52].copy_from_slice(&sum.to_le_bytes());
        let _ = bundle::decode(&bytes);
    }
}

#[test]
fn category_slugs_come_from_the_builder_and_must_match_the_categories() {
    let (h, mut b) = sample();
    assert_eq!(b.catalog.category_slugs, ["candles"], "Catalog::new derives each category's slug");
    b.rules.pages = vec![vitrine_engine::rules::PageRule { pattern: "/c/:category".into(), page: "category".into() }];
    let engine = vitrine_engine::Engine::from_bundle(bundle::Bundle { header: h.clone(), body: b.clone() }).unwrap();
    assert_eq!(engine.page("/c/candles").category, Some(0));

    b.catalog.category_slugs.clear();
    let err = vitrine_engine::Engine::load(&bundle::encode(&h, &b)).err().expect("refused");
    assert!(err.to_string().contains("catalog.category_slugs: 0 slugs for 1 categories"), "{err}");
}

/// `Engine::load` runs the builder's rule check: what the builder would refuse does not load,
/// and the error names the rule. (Not with `compact`, the SDK's build: see `Engine::from_bundle`.)
#[cfg(not(feature = "compact"))]
#[test]
fn rules_the_builder_would_refuse_do_not_load() {
    let (h, mut b) = sample();
    b.rules.placements[0].sources.clear();
    let err = vitrine_engine::Engine::load(&bundle::encode(&h, &b)).err().expect("refused");
    assert_eq!(err.to_string(), "bundle rule placements[0]: needs sources (a product carousel) or variants (content)");
}
