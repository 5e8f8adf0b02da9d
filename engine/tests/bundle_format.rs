//! The bundle format refuses every kind of bad input with a typed error and never panics.

use vitrine_engine::bundle::{
    self, BundleBody, BundleError, Catalog, Header, Keyed, Neighbors, Product, RecTables, Scored, Stats, FORMAT_VERSION, HEADER_LEN, PREVIOUS_FORMAT_VERSION,
};
use vitrine_engine::predict::{BgNbd, PredictConfig};
use vitrine_engine::rfm::{CustomerModel, FitDiagnostics};
use vitrine_engine::rules::{Arm, Experiment, Measurement, Messaging, Placement, Rules, SegmentRule, Source, Store, UniqueCode};
use vitrine_engine::Value;

fn products() -> Vec<Product> {
    vec![
        Product { sku: "85123A".into(), title: "WHITE HANGING HEART T-LIGHT HOLDER".into(), price: 2.55, in_stock: true, ..Default::default() },
        Product {
            sku: "85123B".into(),
            title: "Crème brûlée ramekin, set of 4".into(),
            url: "/products/85123b".into(),
            image: "https://cdn.example/i/85123b.jpg".into(),
            price: 12.5,
            category: Some(0),
            brand: "Maison".into(),
            tags: vec!["gift".into(), "kitchen".into()],
            in_stock: false,
        },
    ]
}

fn sample() -> (Header, BundleBody) {
    let header = Header { format_version: FORMAT_VERSION, build_id: [7; 16], created_at: 1_700_000_000 };
    let when: Value = serde_json::from_str(r#"{"cart.value": {"$gt": 50}, "tags": {"$elemMatch": {"$eq": "x"}}}"#).unwrap();
    let body = BundleBody {
        store: Store { name: "Demo".into(), currency: "GBP".into(), ..Default::default() },
        catalog: Catalog::new(products(), vec!["Candles".into()]),
        stats: Stats {
            customer_model: Some(Box::new(CustomerModel {
                recency_edges: [10.0, 30.0, 90.0, 180.0],
                frequency_edges: [1.0, 1.0, 2.0, 4.0],
                monetary_edges: [20.0, 50.5, 100.0, 400.25],
                bgnbd: Some(BgNbd { r: 0.82, alpha: 69.3, a: 0.003, b: 7.7 }),
                gamma_gamma: None,
                predict: PredictConfig::default(),
                bgnbd_fit: Some(FitDiagnostics { log_likelihood: -61_196.73, customers: 4324, iterations: 312, converged: true }),
                gamma_gamma_fit: None,
            })),
            ..Stats::default()
        },
        recs: RecTables {
            bought_together: Neighbors::from_lists(vec![vec![Scored { item: 1, score: 0.75 }], vec![]]),
            similar: Neighbors::from_lists(vec![vec![], vec![Scored { item: 0, score: 0.5 }]]),
            learned: Neighbors::from_lists(vec![vec![Scored { item: 1, score: 0.25 }], vec![Scored { item: 0, score: 0.125 }]]),
            viewed_together: Neighbors::from_lists(vec![vec![], vec![Scored { item: 0, score: 2.0 }]]),
            bought_after_viewing: Neighbors::from_lists(vec![vec![Scored { item: 1, score: 3.0 }], vec![]]),
            popular_by_brand: vec![Keyed { key: "Maison".into(), items: vec![Scored { item: 0, score: 4.0 }] }],
            new_arrivals: vec![Scored { item: 1, score: 0.5 }],
            decided: vec![Keyed { key: "pdp-more".into(), items: vec![Scored { item: 1, score: 1.0 }, Scored { item: 0, score: 0.5 }] }],
            ..Default::default()
        },
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
            messaging: Messaging { default_time_zone: "Europe/London".into(), ..Default::default() },
            offers: vec![serde_json::from_value(serde_json::json!({"id": "welcome", "kind": "percent_off", "value": 10, "headline": "10% off", "capture": "email_and_sms"})).unwrap()],
            unique_codes: vec![UniqueCode { offer: "welcome".into(), prefix: "WELCOME".into(), valid_days: 14 }],
            // A step of each shape the layout knows: a timed email, a WhatsApp template sent
            // only to who did not click, for visitors a condition picks; a catalog trigger.
            journeys: vec![
                serde_json::from_value(serde_json::json!({
                    "id": "cart", "trigger": "cart_abandonment", "when": {"known": true},
                    "steps": [
                        {"after": "1h", "channel": "email", "subject": "Your cart", "body": "Hi {{first_name}}", "offer": "welcome", "at": "10:00"},
                        {"after": "1d", "channel": "whatsapp", "template": "HXb5b62575e6e4ff6129ad7c8efe1f983e", "body": "Hi {{1}}", "variables": ["{{first_name}}"],
                         "if": "not_clicked", "when": {"cart.value": {"$gt": 20}}}
                    ]
                }))
                .unwrap(),
                serde_json::from_value(serde_json::json!({
                    "id": "hello", "trigger": "welcome",
                    "steps": [{"after": "0s", "channel": "email", "subject": "Welcome", "body": "Your code: {{offer.code}}", "offer": "welcome"}]
                }))
                .unwrap(),
                serde_json::from_value(serde_json::json!({
                    "id": "cheaper", "trigger": "price_drop", "min_drop_percent": 15,
                    "steps": [{"after": "0s", "channel": "push", "subject": "Now cheaper", "body": "{{products}}"}]
                }))
                .unwrap(),
            ],
            merchandising: vec![serde_json::from_value(serde_json::json!({
                "id": "gifts-first", "action": "pin", "skus": ["85123B"], "position": 1, "placements": ["hero"], "when": {"known": true}
            }))
            .unwrap()],
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
/// version's bytes (written by that version's code, `tests/golden/bundle-v9.bin`, whose sample
/// had no customer model) still load. Not in the SDK.
#[test]
#[cfg(feature = "previous-format")]
fn the_previous_format_version_still_loads() {
    let old = std::fs::read(format!("{}/tests/golden/bundle-v{PREVIOUS_FORMAT_VERSION}.bin", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let read = bundle::decode(&old).expect("the previous version decodes");
    let (_, mut current) = sample();
    // v9's sample: today's without what v10 added.
    current.stats.customer_model = None;
    assert_eq!((read.header.format_version, read.body), (PREVIOUS_FORMAT_VERSION, current));
    if let Err(e) = vitrine_engine::Engine::load(&old) {
        panic!("and the engine serves it: {e:?}");
    }
}

#[test]
fn round_trips() {
    let (h, b) = sample();
    let bytes = bundle::encode(&h, &b);
    let back = bundle::decode(&bytes).unwrap();
    assert_eq!(back.header, h);
    assert_eq!(back.body, b);
    // The edge's way: the same body, read where it lies in the bytes.
    assert_eq!(bundle::decode_shared(bytes).unwrap(), back);
}

/// What a request reads in place is what the builder put there: every field of every row, by
/// index and by SKU, and the neighbour lists in order with their scores.
#[test]
fn products_and_neighbours_read_in_place_are_the_ones_built() {
    let (h, b) = sample();
    let read = bundle::decode_shared(bundle::encode(&h, &b)).unwrap().body;
    let catalog = &read.catalog;
    assert_eq!(catalog.len(), 2);
    assert_eq!(catalog.iter().map(|p| p.to_product()).collect::<Vec<_>>(), products());
    let p = catalog.get(catalog.index_of("85123B").unwrap()).unwrap();
    assert_eq!((p.sku(), p.title(), p.brand(), p.price, p.category, p.in_stock), ("85123B", "Crème brûlée ramekin, set of 4", "Maison", 12.5, Some(0), false));
    assert_eq!(p.tags().collect::<Vec<_>>(), ["gift", "kitchen"]);
    assert_eq!((catalog.index_of("85123C"), catalog.index_of("")), (None, None));
    assert!(catalog.get(2).is_none());
    assert_eq!(read.recs.bought_together.of(0).collect::<Vec<_>>(), [Scored { item: 1, score: 0.75 }]);
    assert_eq!(read.recs.similar.of(1).collect::<Vec<_>>(), [Scored { item: 0, score: 0.5 }]);
    assert_eq!((read.recs.similar.of(0).len(), read.recs.similar.of(7).len()), (0, 0));
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
    // The edge's way refuses the same.
    assert!(matches!(bundle::decode_shared(flipped), Err(BundleError::ChecksumMismatch { .. })));
    assert_eq!(bundle::decode_shared(bad), Err(BundleError::BadMagic));
}

/// v6's checksum hashes words in four lanes: a changed byte anywhere in the body (any lane,
/// the folded tail) is still caught, by the edge's way of opening too.
#[test]
#[cfg(not(feature = "compact"))] // the browser leaves the checksum to the edge
fn a_changed_byte_anywhere_in_the_body_fails_the_checksum() {
    let (h, b) = sample();
    let bytes = bundle::encode(&h, &b);
    for i in HEADER_LEN..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x01 << (i % 8);
        assert!(matches!(bundle::decode(&bad), Err(BundleError::ChecksumMismatch { .. })), "byte {i}");
        assert!(matches!(bundle::decode_shared(bad), Err(BundleError::ChecksumMismatch { .. })), "byte {i}");
    }
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
fn a_customer_model_that_is_not_finite_is_refused() {
    let (h, mut b) = sample();
    b.stats.customer_model.as_mut().unwrap().monetary_edges[2] = f64::NAN;
    match bundle::decode(&bundle::encode(&h, &b)) {
        Err(BundleError::Body(e)) => assert_eq!(e.expected, "a customer model of finite numbers"),
        other => panic!("{:?}", other.map(|_| ())),
    }
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
        // What decodes is read as a request would: every row, string and neighbour list.
        if let Ok(read) = bundle::decode_shared(bytes) {
            let (catalog, recs) = (&read.body.catalog, &read.body.recs);
            for i in 0..catalog.len() as u32 + 2 {
                if let Some(p) = catalog.get(i) {
                    let _ = (p.to_product(), catalog.index_of(p.sku()));
                }
                let _ = (recs.bought_together.of(i).count(), recs.similar.of(i).count());
            }
        }
    }
}

#[test]
fn category_slugs_come_from_the_builder_and_must_match_the_categories() {
    let (h, mut b) = sample();
    // The sample's capturing offer has no welcome journey to send its code: a bundle the
    // engine refuses (`Rules::check`), beside the point here.
    b.rules.offers[0].capture = vitrine_engine::rules::Capture::None;
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
