//! `model-builder simulate`: the config's journeys replayed over an order log.

use std::path::PathBuf;

use vitrine_engine::journey::Channel;
use vitrine_model_builder::error::{Error, Result};
use vitrine_model_builder::progress::Progress;
use vitrine_model_builder::simulate;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Order lines CSV (overrides orders.path).
    #[arg(long, value_name = "CSV")]
    orders: Option<PathBuf>,
    /// Channels every customer consents to (comma-separated: email,sms,push,webhook,whatsapp).
    #[arg(long, value_name = "CHANNELS", default_value = "email,sms,push,webhook,whatsapp")]
    consent: String,
    /// Keep firing alarms this many days after the last order.
    #[arg(long, value_name = "DAYS", default_value_t = 0)]
    tail_days: i64,
    /// Share of messages opened, for steps with `if = "not_opened"` (0 to 1).
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    open_rate: f64,
    /// Share of messages clicked, for steps with `if = "not_clicked"` (0 to 1; a click is an open).
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    click_rate: f64,
    /// Price and stock changes over time for back_in_stock / price_drop (CSV date,sku,price,in_stock).
    #[arg(long, value_name = "CSV")]
    catalog_changes: Option<PathBuf>,
    /// Share of customers asking to be told about each product they buy (0 to 1).
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    watch_rate: f64,
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    let Args { config, orders, consent, tail_days, open_rate, click_rate, catalog_changes, watch_rate, json } = a;
    for (flag, rate) in [("--open-rate", open_rate), ("--click-rate", click_rate), ("--watch-rate", watch_rate)] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(Error::Invalid(format!("{flag}: {rate} is not a share between 0 and 1")));
        }
    }
    let consent = consent
        .split(',')
        .map(|c| Channel::from_name(c.trim()).ok_or_else(|| Error::Invalid(format!("--consent: unknown channel {c:?} (email, sms, push, webhook, whatsapp)"))))
        .collect::<Result<Vec<_>>>()?;
    let catalog_changes = catalog_changes.as_deref().map(simulate::read_catalog_changes).transpose()?.unwrap_or_default();
    let replay = simulate::Options { consent, tail: tail_days * 86_400, open_rate, click_rate, catalog_changes, watch_rate, ..simulate::Options::default() };
    let report = simulate::run(&simulate::SimulateOptions { config, orders, catalog: None, replay }, Progress::new(json))?;
    if json {
        super::print_json(&report)
    } else {
        println!("{report}");
        Ok(())
    }
}
