//! Seeded traffic with known effects, as the edge would record it: for the report's tests
//! (lift recovered, A/A false positives, SRM) and for `bench/report` (the gbstats check reads a
//! folder this writes through `model-builder report --simulate`).

use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use vitrine_engine::civil;
use vitrine_engine::measure::{self, Record};

use crate::error::{Error, Result};
use crate::rng::SplitMix64;

/// One arm's traffic share and behaviour.
#[derive(Clone, Debug)]
pub struct ArmSpec {
    pub name: String,
    pub weight: f64,
    /// P(a unit orders at least once after its first exposure).
    pub conversion: f64,
    /// P(an exposure is clicked).
    pub ctr: f64,
    /// Mean revenue of an order (log-normal around it).
    pub order_value: f64,
}

impl ArmSpec {
    pub fn new(name: &str, weight: f64, conversion: f64, ctr: f64, order_value: f64) -> Self {
        ArmSpec { name: name.into(), weight, conversion, ctr, order_value }
    }
}

#[derive(Clone, Debug)]
pub struct Traffic {
    pub experiment: String,
    /// Where the experiment shows (exposures and clicks name it).
    pub placement: String,
    pub arms: Vec<ArmSpec>,
    pub units: usize,
    pub seed: u64,
    /// First day (unix seconds, midnight UTC) and how many days the traffic spans.
    pub start: i64,
    pub days: i64,
    /// Each unit sees 1..=this many exposures.
    pub max_exposures: u64,
    /// Share of units that enter a journey (an email, then maybe an SMS).
    pub journey_share: f64,
    /// Share of units in the global holdout's `holdout` arm; 0: no holdout records. (The
    /// simulated holdout sees the same traffic: it exercises the counting, not the effect.)
    pub holdout_share: f64,
}

impl Traffic {
    /// Two equal arms, `control` and `treatment`, the treatment's conversion `1 + lift` times
    /// the control's 5%; CTR 10% and orders of about 40 in both.
    pub fn ab(units: usize, seed: u64, lift: f64) -> Self {
        Traffic {
            experiment: "recs-v2".into(),
            placement: "home_recs".into(),
            arms: vec![ArmSpec::new("control", 1.0, 0.05, 0.10, 40.0), ArmSpec::new("treatment", 1.0, 0.05 * (1.0 + lift), 0.10, 40.0)],
            units,
            seed,
            start: 1_764_547_200, // 2025-12-01
            days: 14,
            max_exposures: 4,
            journey_share: 0.0,
            holdout_share: 0.0,
        }
    }

    /// The records, in time order per unit (not globally: the report sorts).
    pub fn records(&self) -> Vec<Record> {
        let mut rng = SplitMix64::new(self.seed);
        let total_weight: f64 = self.arms.iter().map(|a| a.weight).sum();
        let mut out = Vec::with_capacity(self.units * 6);
        let mut next_id = 0u64;
        for u in 0..self.units {
            let unit = format!("u{:08x}{u:06}", self.seed as u32);
            let mut pick = rng.uniform() * total_weight;
            let arm = self
                .arms
                .iter()
                .find(|a| {
                    pick -= a.weight;
                    pick < 0.0
                })
                .unwrap_or(&self.arms[self.arms.len() - 1]);
            let mut ts = self.start + rng.below((self.days * 86_400) as usize) as i64;
            let mut rec = |event: &str, ts: i64, source: &str| {
                next_id += 1;
                Record {
                    message_id: format!("m{:x}-{next_id}", self.seed),
                    event: event.into(),
                    ts,
                    unit: unit.clone(),
                    source: source.into(),
                    ..Record::default()
                }
            };
            if self.holdout_share > 0.0 {
                let held = if rng.chance(self.holdout_share) { measure::HOLDOUT_ARM } else { measure::PERSONALIZED_ARM };
                out.push(Record {
                    experiment: measure::HOLDOUT_EXPERIMENT.into(),
                    arm: held.into(),
                    ..rec(measure::EXPERIMENT_VIEWED, ts, measure::SOURCE_EDGE)
                });
            }
            out.push(Record {
                experiment: self.experiment.clone(),
                arm: arm.name.clone(),
                placement: self.placement.clone(),
                ..rec(measure::EXPERIMENT_VIEWED, ts, measure::SOURCE_EDGE)
            });
            let exposures = 1 + rng.below(self.max_exposures as usize) as u64;
            for e in 0..exposures {
                let sku = format!("SKU{}", rng.below(50));
                ts += 30 + e as i64 * 60;
                out.push(Record {
                    placement: self.placement.clone(),
                    experiment: self.experiment.clone(),
                    arm: arm.name.clone(),
                    items: vec![sku.clone()],
                    ..rec(measure::PRODUCT_LIST_VIEWED, ts, measure::SOURCE_EDGE)
                });
                if rng.chance(arm.ctr) {
                    out.push(Record { placement: self.placement.clone(), items: vec![sku], ..rec(measure::PRODUCT_CLICKED, ts + 5, measure::SOURCE_BROWSER) });
                }
            }
            if rng.chance(self.journey_share) {
                let journey = "cart-recovery";
                out.push(Record { journey: journey.into(), ..rec(measure::JOURNEY_ENTERED, ts + 600, measure::SOURCE_JOURNEY) });
                for (i, channel) in ["email", "sms"].into_iter().enumerate() {
                    if i > 0 && !rng.chance(0.5) {
                        break;
                    }
                    let at = ts + 3_600 * (i as i64 + 1);
                    let m = |e: &str, at: i64, rec: &mut dyn FnMut(&str, i64, &str) -> Record| Record {
                        journey: journey.into(),
                        channel: channel.into(),
                        step: Some(i as u32),
                        ..rec(e, at, measure::SOURCE_JOURNEY)
                    };
                    out.push(m(measure::MESSAGE_SENT, at, &mut rec));
                    if rng.chance(0.9) {
                        out.push(m(measure::MESSAGE_DELIVERED, at + 10, &mut rec));
                        if rng.chance(0.2) {
                            out.push(m(measure::MESSAGE_CLICKED, at + 600, &mut rec));
                        }
                    }
                }
            }
            if rng.chance(arm.conversion) {
                let value = (arm.order_value * (0.5 * rng.normal() - 0.125).exp() * 100.0).round() / 100.0;
                let order_id = format!("o{:x}-{u}", self.seed);
                let at = ts + 7_200;
                let items = vec![format!("SKU{}", rng.below(50))];
                // The browser's copy first, with another revenue: the server's must win.
                out.push(Record {
                    order_id: order_id.clone(),
                    revenue: Some(value * 2.0),
                    items: items.clone(),
                    ..rec(measure::ORDER_COMPLETED, at, measure::SOURCE_BROWSER)
                });
                out.push(Record {
                    order_id,
                    revenue: Some(value),
                    currency: "GBP".into(),
                    items,
                    ..rec(measure::ORDER_COMPLETED, at + 1, measure::SOURCE_SERVER)
                });
            }
        }
        out
    }
}

/// Writes records as the R2 export lays them out: `events/day=YYYY-MM-DD/batch-N.jsonl.gz`,
/// at most `per_file` records a file. Returns the files written.
pub fn write_export(dir: &Path, records: &[Record], per_file: usize) -> Result<Vec<std::path::PathBuf>> {
    let mut by_day: std::collections::BTreeMap<String, Vec<&Record>> = std::collections::BTreeMap::new();
    for r in records {
        by_day.entry(civil::day_string(r.ts)).or_default().push(r);
    }
    let mut files = Vec::new();
    for (day, list) in by_day {
        let folder = dir.join("events").join(format!("day={day}"));
        std::fs::create_dir_all(&folder).map_err(Error::io(&folder))?;
        for (n, chunk) in list.chunks(per_file.max(1)).enumerate() {
            let path = folder.join(format!("batch-{n:04}.jsonl.gz"));
            let file = std::fs::File::create(&path).map_err(Error::io(&path))?;
            let mut gz = GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
            for r in chunk {
                let line = serde_json::to_string(r).map_err(|e| Error::Invalid(format!("record to JSON: {e}")))?;
                writeln!(gz, "{line}").map_err(Error::io(&path))?;
            }
            gz.finish().and_then(|mut w| w.flush()).map_err(Error::io(&path))?;
            files.push(path);
        }
    }
    Ok(files)
}
