//! `model-builder report`: the measurement records the edge wrote to R2, added up per
//! experiment arm (lift with intervals, chance to beat control, sample-ratio check), per
//! placement and offer, per journey channel and per day.
//!
//! - [`read`]: files → records (bad lines named and skipped);
//! - [`count`]: records → counts, once per `messageId` and per `orderId`;
//! - [`stats`]: the tests, as GrowthBook's gbstats computes them;
//! - [`text`], [`html`]: the readable tables and the self-contained page;
//! - [`simulate`]: seeded traffic with a known lift, for tests and `bench/report`.

pub mod count;
pub mod html;
pub mod read;
pub mod simulate;
pub mod stats;
pub mod text;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::error::Result;
pub use count::{count, Options};
use read::BadLine;
use stats::{Lift, Summary};

/// Everything the report says; `--json` prints it as is (camelCase keys).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub input: Input,
    pub experiments: Vec<Experiment>,
    pub placements: Vec<Attribution>,
    pub offers: Vec<Attribution>,
    pub journeys: Vec<Funnel>,
    pub daily: Vec<Day>,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    pub files: u64,
    /// Non-blank lines read.
    pub lines: u64,
    /// Records kept: valid, first of their `messageId`, within --from/--to.
    pub records: u64,
    /// Records whose `messageId` was already seen.
    pub duplicates: u64,
    /// Valid records outside --from/--to.
    pub out_of_range: u64,
    pub bad_lines: u64,
    /// The first bad lines, each with its file and line.
    pub bad: Vec<BadLine>,
    /// `Order Completed` records and the distinct orders they make.
    pub order_records: u64,
    pub orders: u64,
    /// Orders whose revenue came from a `server` copy.
    pub server_revenue_orders: u64,
    /// The days covered (UTC), `YYYY-MM-DD`.
    pub first_day: Option<String>,
    pub last_day: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Experiment {
    pub key: String,
    pub control: String,
    pub units: u64,
    /// Units seen in more than one arm (counted in their first).
    pub multiple_exposure_units: u64,
    pub srm: Srm,
    /// Control first, then the other arms by name.
    pub arms: Vec<Arm>,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Srm {
    /// The expected share of each arm, in the order of `arms`.
    pub weights: Vec<f64>,
    pub p_value: f64,
    /// p < 0.001, GrowthBook's threshold.
    pub flagged: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Arm {
    pub arm: String,
    pub units: u64,
    pub multiple_exposure_units: u64,
    pub exposures: u64,
    pub clicks: u64,
    /// Orders after the unit's first exposure, and their revenue.
    pub orders: u64,
    pub revenue: f64,
    /// `ctr` (clicks per exposure), `conversion` (units with an order), `revenuePerUnit`.
    pub metrics: BTreeMap<String, Metric>,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    pub value: f64,
    /// The aggregates the tests use (units, sums, sums of squares).
    pub summary: Summary,
    /// Against control; `None` for control and when untestable (`note` says why).
    pub lift: Option<Lift>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A placement's or an offer's exposures, clicks and the orders they may have led to.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attribution {
    pub key: String,
    pub exposures: u64,
    pub clicks: u64,
    pub ctr: f64,
    /// `Promotion Closed` (offers).
    pub closes: u64,
    /// Orders within [`count::ATTRIBUTION_WINDOW_SECS`] after the unit was shown one of the
    /// order's items here.
    pub orders_with_shown_item: u64,
    /// Orders within the window after the unit clicked here.
    pub orders_after_click: u64,
    /// Orders either way, and their revenue.
    pub orders: u64,
    pub revenue: f64,
}

/// One journey's funnel on one channel, in units.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Funnel {
    pub journey: String,
    pub channel: String,
    /// Units that entered the journey (all channels).
    pub entered: u64,
    pub sent: u64,
    pub delivered: u64,
    pub clicked: u64,
    /// Units with an order within the window after a message sent to them.
    pub ordered: u64,
    pub messages: u64,
    pub revenue: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Day {
    pub day: String,
    pub units: u64,
    pub exposures: u64,
    pub clicks: u64,
    pub orders: u64,
    pub revenue: f64,
}

/// Reads `dir` and counts it.
pub fn run(dir: &Path, options: &Options) -> Result<Report> {
    let read = read::read_dir(dir)?;
    Ok(count(read, options))
}
