//! Vitrine's model builder: compiles a store's exports and rules into a bundle.
//! The binary (`main.rs`) is a thin CLI over these modules.

pub mod data;
pub mod recs;
pub mod simulate;
