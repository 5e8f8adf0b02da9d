//! Vitrine's model builder: compiles a store's exports and rules into a bundle.
//! The binary (`main.rs`) is a thin CLI over these modules.

pub mod aggregates;
pub mod build;
pub mod check;
pub mod config;
pub mod data;
pub mod diff;
pub mod error;
pub mod eval;
pub mod events;
pub mod fmt;
pub mod generate;
pub mod ingest;
pub mod init;
pub mod inspect;
pub mod lines;
pub mod predict;
pub mod progress;
pub mod recommend;
pub mod recs;
pub mod report;
pub mod rfm;
pub mod rng;
pub mod sample;
pub mod schema;
pub mod simulate;
pub mod summary;
pub mod tables;
