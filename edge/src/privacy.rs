//! Privacy requests (`/v1/admin/customers/{id}`, `Authorization: Bearer <ADMIN_TOKEN>`):
//! export everything stored about a customer, or erase it. Also `scripts/privacy.sh`.
//!
//! A customer's data lives in their visitor object (`u:<id>`), the anonymous visitors folded
//! into it, their phone number's index object, and their private KV profile. Erasing removes
//! all of it and writes `erased:<id>` to KV: an old `vt_profile` cookie stops personalizing at
//! its next refresh (when the edge reads KV for it anyway: no extra read per page), and
//! `model-builder build --erased` leaves the customer out of the next profiles.

use serde_json::{json, Value};

use crate::events::bearer_matches;

/// The caller is the store's operator.
pub fn is_admin(authorization: Option<&str>, admin_token: Option<&str>) -> bool {
    bearer_matches(authorization, admin_token)
}

/// What is known about a customer: each object's export (by key) and the KV profile line.
/// `None` when nothing at all is stored.
pub fn export(customer_id: &str, objects: &[(String, Value)], kv_profile: Option<&str>) -> Option<Value> {
    let holds = |v: &Value| v["state"]["last_activity"].as_i64().unwrap_or(0) > 0 || v["messages"].as_array().is_some_and(|m| !m.is_empty());
    let objects: Vec<&(String, Value)> = objects.iter().filter(|(_, v)| holds(v)).collect();
    if objects.is_empty() && kv_profile.is_none() {
        return None;
    }
    let profile = kv_profile.map(|p| serde_json::from_str::<Value>(p).unwrap_or_else(|_| Value::String(p.into())));
    Some(json!({
        "customer_id": customer_id,
        "profile": profile,
        "visitors": objects.iter().map(|(k, v)| json!({ "key": k, "data": v })).collect::<Vec<_>>(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_admin_token_opens_the_privacy_api() {
        assert!(is_admin(Some("Bearer an-admin-token-0123"), Some("an-admin-token-0123")));
        assert!(!is_admin(Some("Bearer guess"), Some("an-admin-token-0123")));
        assert!(!is_admin(Some("Bearer "), None), "not configured: closed");
    }

    #[test]
    fn an_export_lists_what_each_place_holds_and_nothing_means_none() {
        let state = json!({ "state": { "last_activity": 5, "profile": { "email": "j@example.com" } }, "messages": [] });
        let empty = json!({ "state": { "last_activity": 0 }, "messages": [] });
        let e = export("9", &[("u:9".into(), state), ("a:x".into(), empty.clone())], Some(r#"{"customer_id":"9","segment":"Loyal"}"#)).unwrap();
        assert_eq!(e["visitors"].as_array().unwrap().len(), 1);
        assert_eq!(e["visitors"][0]["data"]["state"]["profile"]["email"], "j@example.com");
        assert_eq!(e["profile"]["segment"], "Loyal");
        assert_eq!(export("9", &[("u:9".into(), empty)], None), None);
    }
}
