//! The API's description: `openapi.json` at the repository's root (OpenAPI 3.1), one file
//! for every `/v1` route, its parameters, bodies, answers and examples. The worker serves it
//! at [`PATH`]; `scripts/test.sh` lints it with Redocly's CLI; `tests/tests/edge_pages.rs`
//! sends its request examples to the real worker and checks each answer against the schema
//! documented for its status. Here: every route of `routes.rs` is documented and every
//! documented path is a route, and the decision shapes are the engine's `FIELDS`.

use crate::routes::Route;

pub const PATH: &str = "/v1/openapi.json";
pub const DOCUMENT: &str = include_str!("../../openapi.json");
/// Seconds a cache may keep it before revalidating (it changes with a deploy).
pub const MAX_AGE: u32 = 300;

/// The path template under which `openapi.json` documents the route that answered `path`;
/// `None` for what is not the `/v1` API (store pages, SDK files, the staff page), or no route
/// at all. Exhaustive on purpose: a new route does not compile until it says where its
/// description is.
pub fn documented_path(route: &Route, path: &str) -> Option<&'static str> {
    Some(match route {
        Route::Events => "/v1/events",
        Route::VisitorMessages(_) => "/v1/visitors/{key}/messages",
        Route::AdminCustomer(_) => "/v1/admin/customers/{id}",
        Route::AdminMeasureList => "/v1/admin/measure",
        Route::AdminMeasureFile(_) => "/v1/admin/measure/{key}",
        Route::Click => "/v1/click",
        Route::AdminReport => "/v1/admin/report",
        Route::CatalogPublish => crate::watch::PUBLISH_PATH,
        Route::Unsubscribe => "/v1/unsubscribe",
        Route::Confirm => "/v1/confirm",
        Route::CodeVerify => crate::codes::VERIFY_PATH,
        Route::CodeRedeem => crate::codes::REDEEM_PATH,
        Route::SmsInbound => "/v1/sms/inbound",
        Route::SendgridEvents => "/v1/providers/sendgrid/events",
        Route::TwilioStatus => "/v1/providers/twilio/status",
        Route::Decide => "/v1/decide",
        Route::ExitOffer => "/v1/exit-offer",
        Route::PushKey => crate::routes::PUSH_KEY_PATH,
        Route::PushReport => crate::routes::PUSH_REPORT_PATH,
        Route::Health => "/v1/health",
        Route::OpenApi => PATH,
        Route::Slice => "/v1/slice",
        Route::Bundle if path.trim_end_matches('/') == "/v1/bundle" => "/v1/bundle",
        Route::Bundle => "/v1/bundle/{version}",
        Route::Preflight if path == "/v1/decide" => "/v1/decide",
        Route::Preflight if path == "/v1/exit-offer" => "/v1/exit-offer",
        Route::Preflight if path == crate::routes::PUSH_KEY_PATH => crate::routes::PUSH_KEY_PATH,
        // A method the route does not take: documented with the route's own answers.
        Route::Preflight | Route::UseGet | Route::StaffReport | Route::NotFound | Route::Asset | Route::Page => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const METHODS: [&str; 5] = ["get", "post", "put", "delete", "options"];

    fn document() -> Value {
        serde_json::from_str(DOCUMENT).expect("openapi.json is JSON")
    }

    /// A documented path with each `{param}` replaced by its parameter's example.
    fn example_path(template: &str, operation: &Value) -> String {
        let mut path = template.to_string();
        for p in operation["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "path") {
            let name = p["name"].as_str().unwrap();
            let example = p["example"].as_str().unwrap_or_else(|| panic!("{template}: path parameter {name} needs an example"));
            path = path.replace(&format!("{{{name}}}"), example);
        }
        assert!(!path.contains('{'), "{template}: a path parameter without its description");
        path
    }

    fn route(method: &str, path: &str) -> Route {
        Route::of(path, method == "get", method == "options")
    }

    #[test]
    fn every_documented_operation_is_a_route_of_its_path() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.contains_key(PATH), "the document describes itself");
        let mut operations = 0;
        for (template, item) in paths {
            assert!(template.starts_with("/v1/"), "{template}: only the /v1 API");
            for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
                let path = example_path(template, &item[*method]);
                let r = route(method, &path);
                assert_eq!(documented_path(&r, &path), Some(template.as_str()), "{method} {path} routes to {r:?}");
                operations += 1;
            }
        }
        assert!(operations >= 25, "{operations}");
    }

    #[test]
    fn every_route_is_documented() {
        let doc = document();
        // One request per route of `Route::of` (the API's, and the ones outside it).
        let requests = [
            ("post", "/v1/events"),
            ("options", "/v1/events"),
            ("get", "/v1/visitors/a%3A1/messages"),
            ("get", "/v1/admin/customers/17850"),
            ("delete", "/v1/admin/customers/17850"),
            ("get", "/v1/admin/measure"),
            ("get", "/v1/admin/measure/events/day=2026-12-02/ab.jsonl.gz"),
            ("get", "/v1/click"),
            ("put", "/v1/admin/report"),
            ("get", "/v1/unsubscribe"),
            ("post", "/v1/unsubscribe"),
            ("get", "/v1/confirm"),
            ("post", "/v1/confirm"),
            ("post", "/v1/codes/verify"),
            ("post", "/v1/codes/redeem"),
            ("post", "/v1/sms/inbound"),
            ("post", "/v1/providers/sendgrid/events"),
            ("post", "/v1/providers/twilio/status"),
            ("get", "/v1/decide"),
            ("options", "/v1/decide"),
            ("get", "/v1/exit-offer"),
            ("options", "/v1/exit-offer"),
            ("get", "/v1/health"),
            ("get", "/v1/push/key"),
            ("options", "/v1/push/key"),
            ("post", "/v1/push/report"),
            ("get", PATH),
            ("get", "/v1/slice"),
            ("get", "/v1/bundle"),
            ("get", "/v1/bundle/0123456789abcdef0123456789abcdef"),
        ];
        for (method, path) in requests {
            let r = route(method, path);
            let template = documented_path(&r, path).unwrap_or_else(|| panic!("{method} {path} ({r:?}) is the API's"));
            assert!(doc["paths"][template][method].is_object(), "{method} {template} ({r:?}) is not in openapi.json");
        }
        for (method, path) in
            [("get", "/staff/report"), ("get", "/vitrine/sdk/vitrine.js"), ("get", "/products/1"), ("get", "/v1/nope"), ("post", "/v1/decide")]
        {
            assert_eq!(documented_path(&route(method, path), path), None, "{method} {path}");
        }
    }

    #[test]
    fn decision_shapes_are_the_engines_fields() {
        use vitrine_engine::{DecidedItem, Decision, ExperimentArm, Explain, MerchandisingUse, OfferDecision, SourceUse};
        let doc = document();
        let keys = |schema: &str| -> Vec<String> {
            let mut k: Vec<String> =
                doc["components"]["schemas"][schema]["properties"].as_object().unwrap_or_else(|| panic!("{schema}")).keys().cloned().collect();
            k.sort();
            k
        };
        let sorted = |fields: &[&str], extra: &[&str]| -> Vec<String> {
            let mut k: Vec<String> = fields.iter().chain(extra).map(|s| s.to_string()).collect();
            k.sort();
            k
        };
        assert_eq!(keys("Decision"), sorted(&Decision::FIELDS, &["bundle", "now", "context"]), "`explain=1` adds bundle, now, context");
        assert_eq!(keys("DecidedItem"), sorted(&DecidedItem::FIELDS, &[]));
        assert_eq!(keys("Explain"), sorted(&Explain::FIELDS, &Explain::SERVER_FIELDS), "the edge adds what the SDK leaves out");
        assert_eq!(keys("ExperimentArm"), sorted(&ExperimentArm::FIELDS, &[]));
        assert_eq!(keys("SourceUse"), sorted(&SourceUse::FIELDS, &[]));
        assert_eq!(keys("MerchandisingUse"), sorted(&MerchandisingUse::FIELDS, &[]));
        assert_eq!(keys("OfferDecision"), sorted(&OfferDecision::FIELDS, &[]));
        let statuses: Vec<&str> =
            doc["components"]["schemas"]["Decision"]["properties"]["status"]["enum"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
        use vitrine_engine::Status;
        assert_eq!(statuses, [Status::Filled, Status::NotTargeted, Status::Holdout, Status::Empty].map(Status::as_str));
    }
}
