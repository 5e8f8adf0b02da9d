//! Vitrine edge worker.
