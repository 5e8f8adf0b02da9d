//! The TypeScript types against the engine's contracts, natively: `js/vitrine.d.ts` declares
//! exactly the event names of the engine's event table and exactly the fields of its JSON shape
//! for decisions and offers (`FIELDS`), which `/v1/decide`, `/v1/exit-offer` (edge/src/api.rs)
//! and the SDK's objects (tests/browser.rs) are held to as well.

#![cfg(not(target_arch = "wasm32"))]

use vitrine_engine::events;
use vitrine_engine::{DecidedItem, Decision, ExperimentArm, Explain, MerchandisingUse, OfferDecision, SourceUse};

const DTS: &str = include_str!("../js/vitrine.d.ts");

/// The member lines of `export interface <name> { … }`, comments left out.
fn members(name: &str) -> Vec<&'static str> {
    let head = format!("export interface {name} {{");
    let start = DTS.find(&head).unwrap_or_else(|| panic!("vitrine.d.ts declares no {name}")) + head.len();
    let body = &DTS[start..start + DTS[start..].find("\n}").unwrap()];
    let mut out = Vec::new();
    let mut in_comment = false;
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.starts_with("/**") || in_comment {
            in_comment = !line.ends_with("*/");
            continue;
        }
        out.push(line);
    }
    out
}

fn name_of(member: &str) -> String {
    member.split(':').next().unwrap().trim().trim_start_matches("readonly ").trim_end_matches('?').to_string()
}

fn sorted(fields: &[&str]) -> Vec<String> {
    let mut f: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
    f.sort();
    f
}

/// The field names of an interface.
fn fields(name: &str) -> Vec<String> {
    let mut f: Vec<String> = members(name).iter().map(|m| name_of(m)).collect();
    f.sort();
    f
}

/// The field names of the inline object type of `member` in `interface` (`{ key: string; … }`).
fn inline_fields(interface: &str, member: &str) -> Vec<String> {
    let line = members(interface).into_iter().find(|m| name_of(m) == member).unwrap_or_else(|| panic!("{interface}.{member}"));
    let inner = &line[line.find('{').unwrap() + 1..line.find('}').unwrap()];
    let mut f: Vec<String> = inner.split(';').map(str::trim).filter(|p| !p.is_empty()).map(name_of).collect();
    f.sort();
    f
}

#[test]
fn the_types_declare_the_event_tables_track_events() {
    let start = DTS.find("export type EcommerceEvent =").unwrap();
    let decl = &DTS[start..start + DTS[start..].find(';').unwrap()];
    let mut declared: Vec<&str> = decl.split('"').skip(1).step_by(2).collect();
    let mut table: Vec<&str> = events::names(true).collect();
    declared.sort();
    table.sort();
    assert_eq!(declared, table);
}

#[test]
fn the_types_declare_the_engines_json_shape() {
    assert_eq!(fields("Decision"), sorted(&Decision::FIELDS));
    assert_eq!(fields("DecidedItem"), sorted(&DecidedItem::FIELDS));
    assert_eq!(fields("Explain"), sorted(&Explain::FIELDS));
    assert_eq!(inline_fields("Explain", "experiment"), sorted(&ExperimentArm::FIELDS));
    assert_eq!(inline_fields("Explain", "sources"), sorted(&SourceUse::FIELDS));
    assert_eq!(inline_fields("Explain", "merchandising"), sorted(&MerchandisingUse::FIELDS));
    let mut offer = OfferDecision::FIELDS.to_vec();
    offer.push("trigger"); // the SDK's own: what showed it
    assert_eq!(fields("Offer"), sorted(&offer));
    let statuses = ["filled", "not_targeted", "holdout", "empty"];
    let decl = DTS.lines().find(|l| l.starts_with("export type DecisionStatus")).unwrap();
    assert_eq!(decl.split('"').skip(1).step_by(2).collect::<Vec<_>>(), statuses);
    use vitrine_engine::Status::*;
    assert_eq!([Filled, NotTargeted, Holdout, Empty].map(|s| s.as_str()), statuses);
}
