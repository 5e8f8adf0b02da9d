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
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<()> {
    let Args { config, orders, consent, tail_days, json } = a;
    let consent = consent
        .split(',')
        .map(|c| Channel::from_name(c.trim()).ok_or_else(|| Error::Invalid(format!("--consent: unknown channel {c:?} (email, sms, push, webhook, whatsapp)"))))
        .collect::<Result<Vec<_>>>()?;
    let replay = simulate::Options { consent, tail: tail_days * 86_400, ..simulate::Options::default() };
    let report = simulate::run(&simulate::SimulateOptions { config, orders, catalog: None, replay }, Progress::new(json))?;
    if json {
        super::print_json(&report)
    } else {
        println!("{report}");
        Ok(())
    }
}
