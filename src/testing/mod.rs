//! Helpers shared by the crate's own test modules (compiled for tests only).

pub(crate) mod targets_support;
