//! The customers export: who each customer is and how they may be contacted. Private: it is
//! merged into the profiles (`--profiles`, KV) and never reaches the bundle.
//!
//! Phone numbers are normalised to E.164 by `vitrine_contacts` (libphonenumber's data, as the
//! edge does), numbers written without a country code read as `customers.default_country`. A
//! number the library calls invalid is kept only as `phone_raw` (never sent to), and counted.

use csv::ByteRecord;
use rustc_hash::FxHashMap;
use serde::Serialize;
use vitrine_contacts::Country;

use super::bad_rows::BadRows;
use super::columns::Header;
use super::fields::text;
use super::rows::{Place, Rows};
use crate::config::{Config, CustomerColumns};
use crate::error::{Error, Result};

/// Marketing consent as the store recorded it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Consent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms: Option<bool>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub at: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source: String,
}

/// One customer; empty fields were not in the export.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CustomerRow {
    #[serde(skip)]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub first_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub last_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub email: String,
    /// E.164, e.g. `+447400123456`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub phone: String,
    /// A number the phone library refused, as written.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub phone_raw: String,
    #[serde(skip_serializing_if = "is_default")]
    pub consent: Consent,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub created_at: String,
}

fn is_default(c: &Consent) -> bool {
    *c == Consent::default()
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CustomersReport {
    pub rows: u64,
    pub customers: u64,
    pub with_email: u64,
    pub with_phone: u64,
    /// Phone numbers the library could not read as valid (kept as `phone_raw` only).
    pub invalid_phones: u64,
    pub bad_rows: u64,
}

struct Columns {
    id: usize,
    first_name: Option<usize>,
    last_name: Option<usize>,
    email: Option<usize>,
    phone: Option<usize>,
    email_consent: Option<usize>,
    sms_consent: Option<usize>,
    consent_at: Option<usize>,
    consent_source: Option<usize>,
    created_at: Option<usize>,
}

impl Columns {
    fn find(h: &Header, c: &CustomerColumns) -> Result<Columns> {
        let opt = |key: &str, configured: &Option<String>| h.optional(&format!("customers.columns.{key}"), configured.as_deref(), key);
        Ok(Columns {
            id: h.required("customers.columns.id", &c.id)?,
            first_name: opt("first_name", &c.first_name)?,
            last_name: opt("last_name", &c.last_name)?,
            email: opt("email", &c.email)?,
            phone: opt("phone", &c.phone)?,
            email_consent: opt("email_consent", &c.email_consent)?,
            sms_consent: opt("sms_consent", &c.sms_consent)?,
            consent_at: opt("consent_at", &c.consent_at)?,
            consent_source: opt("consent_source", &c.consent_source)?,
            created_at: opt("created_at", &c.created_at)?,
        })
    }

    fn used(&self) -> [Option<usize>; 10] {
        let c = self;
        [Some(c.id), c.first_name, c.last_name, c.email, c.phone, c.email_consent, c.sms_consent, c.consent_at, c.consent_source, c.created_at]
    }
}

/// The default country of phone numbers.
pub fn country(code: &str) -> std::result::Result<Country, String> {
    Country::parse(code)
}

/// Reads the export: one customer per row, ids unique.
pub fn read(rows: &mut Rows, config: &Config, bad: &mut BadRows) -> Result<(Vec<CustomerRow>, CustomersReport)> {
    let cfg = &config.customers;
    let default_country = country(&cfg.default_country).map_err(|e| Error::Invalid(format!("customers.default_country: {e}")))?;
    let cols = Columns::find(rows.header(), &cfg.columns)?;
    rows.select(&cols.used())?;
    let width = rows.header().len();
    let mut customers: Vec<CustomerRow> = Vec::new();
    let mut first_place: FxHashMap<String, Place> = FxHashMap::default();
    let mut report = CustomersReport::default();
    let mut record = ByteRecord::new();
    while let Some(place) = rows.next(&mut record)? {
        report.rows += 1;
        let name = |c: usize| rows.header().name(c).to_string();
        match row(&record, &cols, width, default_country) {
            Ok((c, invalid_phone)) => {
                if let Some(first) = first_place.get(&c.id) {
                    bad.record(place, Some(&name(cols.id)), format!("duplicate customer id {:?} (first on {first})", c.id))?;
                    continue;
                }
                report.invalid_phones += u64::from(invalid_phone);
                report.with_email += u64::from(!c.email.is_empty());
                report.with_phone += u64::from(!c.phone.is_empty());
                first_place.insert(c.id.clone(), place);
                customers.push(c);
            }
            Err((column, message)) => bad.record(place, column.map(name).as_deref(), message)?,
        }
    }
    report.customers = customers.len() as u64;
    report.bad_rows = bad.count;
    Ok((customers, report))
}

fn yes_no(s: &str) -> std::result::Result<Option<bool>, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "yes" | "y" | "1" | "opted in" | "subscribed" => Ok(Some(true)),
        "false" | "no" | "n" | "0" | "opted out" | "unsubscribed" => Ok(Some(false)),
        other => Err(format!("{other:?} is not yes/no")),
    }
}

type RowError = (Option<usize>, String);

fn row(r: &ByteRecord, c: &Columns, width: usize, default_country: Country) -> std::result::Result<(CustomerRow, bool), RowError> {
    if r.len() != width {
        return Err((None, format!("expected {width} fields, found {}", r.len())));
    }
    let get = |i: Option<usize>| i.map_or(Ok(""), |i| text(&r[i]).map(str::trim).map_err(|m| (Some(i), m)));
    let id = get(Some(c.id))?;
    if id.is_empty() {
        return Err((Some(c.id), "empty".into()));
    }
    if id.len() > 64 || id.chars().any(char::is_control) {
        return Err((Some(c.id), format!("customer id {id:?} is over 64 bytes or has control characters")));
    }
    let raw_email = get(c.email)?;
    let email = match raw_email {
        "" => String::new(),
        e => vitrine_contacts::email(e).ok_or_else(|| (c.email, format!("{e:?} is not an email address")))?,
    };
    let raw_phone = get(c.phone)?;
    let phone = if raw_phone.is_empty() { None } else { vitrine_contacts::e164(raw_phone, default_country) };
    let invalid = !raw_phone.is_empty() && phone.is_none();
    let consent = Consent {
        email: yes_no(get(c.email_consent)?).map_err(|m| (c.email_consent, m))?,
        sms: yes_no(get(c.sms_consent)?).map_err(|m| (c.sms_consent, m))?,
        at: get(c.consent_at)?.into(),
        source: get(c.consent_source)?.into(),
    };
    let row = CustomerRow {
        id: id.into(),
        first_name: get(c.first_name)?.into(),
        last_name: get(c.last_name)?.into(),
        email,
        phone: phone.unwrap_or_default(),
        phone_raw: if invalid { raw_phone.into() } else { String::new() },
        consent,
        created_at: get(c.created_at)?.into(),
    };
    Ok((row, invalid))
}
