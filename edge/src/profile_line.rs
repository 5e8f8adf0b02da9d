//! The private profile line: one line of model-builder's `--profiles` JSONL, stored in KV as
//! `profile:<customer id>`. The one reader of that format: the cookie's traits (`profile.rs`),
//! the journeys' traits (the visitor object) and the publishing tool (`kv.rs`) start here. It
//! lives at the edge, not in the engine, because reading it takes a JSON parser the engine
//! does not link (the browser never sees a profile line).

use vitrine_engine::civil;
use vitrine_engine::journey::{Channel, ChurnRisk};
use vitrine_engine::Value;

/// One line of model-builder's private `--profiles` JSONL (KV `profile:<customer id>`): a JSON
/// object of traits with the customer id. The one reader of that format: the cookie's traits,
/// the journeys' traits and the publishing tool all start here.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileLine {
    /// Empty when the line has none (the KV key names the customer).
    pub customer_id: String,
    /// Everything but the customer id, which claims and keys carry separately.
    pub traits: Value,
}

impl ProfileLine {
    pub fn parse(json: &str) -> Result<ProfileLine, String> {
        let mut v: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
        let Value::Object(m) = &mut v else { return Err("not a JSON object".into()) };
        let customer_id = match m.remove("customer_id") {
            Some(Value::String(id)) => id,
            None | Some(Value::Null) => String::new(),
            Some(_) => return Err("\"customer_id\" is not a string".into()),
        };
        Ok(ProfileLine { customer_id, traits: v })
    }

    /// The line as KV keeps it (`profile:<id>`): the traits with the customer id, one JSON
    /// object that `parse` reads back.
    pub fn to_json(&self) -> String {
        let mut v = self.traits.clone();
        if !self.customer_id.is_empty() {
            v.set("customer_id", self.customer_id.as_str());
        }
        serde_json::to_string(&v).expect("a Value always serializes")
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.traits.path(key).and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    pub fn segment(&self) -> Option<&str> {
        self.text("segment")
    }

    /// Total spend (`monetary`), 0 when unknown.
    pub fn spend(&self) -> f64 {
        self.traits.path("monetary").and_then(Value::as_f64).unwrap_or(0.0)
    }

    /// The store's own record of marketing consent (the customers export's `consent`): each
    /// channel it answered, and when (the day of `consent.at`, unix seconds; 0 when unknown, so
    /// any answer the visitor gave us counts as later).
    pub fn store_consent(&self) -> (Vec<(Channel, bool)>, i64) {
        let answers = [(Channel::Email, "consent.email"), (Channel::Sms, "consent.sms")]
            .into_iter()
            .filter_map(|(c, key)| Some((c, self.traits.path(key)?.as_bool()?)))
            .collect();
        let at = self.text("consent.at").and_then(|t| civil::parse_day_unix(t.get(..10)?)).unwrap_or(0);
        (answers, at)
    }

    /// The traits journey conditions read as `traits.*`: the line without its contacts and
    /// consent (they stay in the profile's own fields, never in a condition's input).
    pub fn condition_traits(&self) -> Value {
        let mut t = self.traits.clone();
        if let Value::Object(m) = &mut t {
            for key in ["email", "phone", "first_name", "consent"] {
                m.remove(key);
            }
        }
        t
    }

    /// What the journeys need: the typical gap between orders and the last order
    /// (`"last_order": "YYYY-MM-DD"`, read as that day's midnight UTC), the predicted churn risk
    /// and next order (`"churn_risk"`, `"expected_next_order": "YYYY-MM-DD"`), the first name,
    /// and the email and phone of the customers export (the store's own: confirmed, as with
    /// any identify with proof). A trait absent or not as the builder writes it is no fit: the
    /// journeys fall back (no `predicted_churn`, win-back on the typical gap).
    pub fn journey_traits(&self) -> vitrine_engine::journey::Traits {
        let gap = self.traits.path("typical_gap_days").and_then(Value::as_f64).filter(|d| *d > 0.0 && *d < 3650.0).map(|d| d as f32);
        let day = |key: &str| self.text(key).and_then(|d| civil::parse_day_unix(d.get(..10)?));
        vitrine_engine::journey::Traits {
            typical_gap_days: gap,
            last_order_at: day("last_order"),
            churn_risk: self.text("churn_risk").and_then(ChurnRisk::from_name),
            expected_next_order_at: day("expected_next_order"),
            first_name: self.text("first_name").map(str::to_string),
            email: self.text("email").map(str::to_string),
            phone: self.text("phone").map(str::to_string),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_give_the_journeys_the_gap_and_the_last_order() {
        let t =
            ProfileLine::parse(r#"{"customer_id":"17850","typical_gap_days":30.0,"last_order":"2011-05-20","segment":"At risk"}"#).unwrap().journey_traits();
        assert_eq!((t.typical_gap_days, t.last_order_at), (Some(30.0), Some(1_305_849_600)));
        assert_eq!(civil::parse_day_unix("1970-01-01"), Some(0));
        assert_eq!(civil::parse_day_unix("2000-03-01"), Some(951_868_800));
        assert_eq!(ProfileLine::parse(r#"{"typical_gap_days":null}"#).unwrap().journey_traits().typical_gap_days, None);
    }

    #[test]
    fn predicted_traits_reach_the_journeys_and_a_missing_or_odd_one_is_no_fit() {
        let line = ProfileLine::parse(
            r#"{"customer_id":"17850","p_alive":0.21,"expected_orders_30":0.04,"expected_orders_90":0.11,"expected_orders_365":0.35,"expected_next_order":"2026-12-14","clv":182.4,"churn_risk":"high","last_order":"2026-03-02"}"#,
        )
        .unwrap();
        let t = line.journey_traits();
        assert_eq!((t.churn_risk, t.expected_next_order_at), (Some(ChurnRisk::High), civil::parse_day_unix("2026-12-14")));
        // Conditions see every predicted trait as written.
        let c = line.condition_traits();
        assert_eq!((c.path("churn_risk").and_then(Value::as_str), c.path("p_alive").and_then(Value::as_f64)), (Some("high"), Some(0.21)));
        for odd in [r#"{"customer_id":"1"}"#, r#"{"churn_risk":"HIGH","expected_next_order":"soon"}"#, r#"{"churn_risk":3,"expected_next_order":null}"#] {
            let t = ProfileLine::parse(odd).unwrap().journey_traits();
            assert_eq!((t.churn_risk, t.expected_next_order_at), (None, None), "{odd}");
        }
    }

    #[test]
    fn the_customers_export_gives_journeys_its_contacts_and_consent() {
        let line = ProfileLine::parse(
            r#"{"customer_id":"1","email":"jane@example.com","phone":"+447400123456","consent":{"email":true,"sms":false,"at":"2010-02-02T10:00:00Z","source":"checkout"}}"#,
        )
        .unwrap();
        let t = line.journey_traits();
        assert_eq!((t.email.as_deref(), t.phone.as_deref()), (Some("jane@example.com"), Some("+447400123456")));
        assert_eq!(line.store_consent(), (vec![(Channel::Email, true), (Channel::Sms, false)], 1_265_068_800));
        let unanswered = ProfileLine::parse(r#"{"customer_id":"2","consent":{"source":"checkout"}}"#).unwrap();
        assert_eq!(unanswered.store_consent(), (vec![], 0));
    }

    #[test]
    fn profile_lines_become_traits() {
        let line = ProfileLine::parse(r#"{"customer_id":"12346","segment":"At risk","frequency":3,"monetary":12.5}"#).unwrap();
        assert_eq!((line.customer_id.as_str(), line.segment(), line.spend()), ("12346", Some("At risk"), 12.5));
        assert!(line.traits.path("customer_id").is_none());
        assert_eq!(ProfileLine::parse("[1]").unwrap_err(), "not a JSON object");
        assert!(ProfileLine::parse("{").unwrap_err().starts_with("not JSON"));
        assert!(ProfileLine::parse("nope").is_err());
        assert!(ProfileLine::parse(r#"{"customer_id":7}"#).unwrap_err().contains("not a string"));
    }
}
