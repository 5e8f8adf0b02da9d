//! Vitrine edge worker.
pub mod messaging;
pub mod visitor_do;
