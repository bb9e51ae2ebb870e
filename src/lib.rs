//! acme-doctor: diagnoses network connectivity for ACME certificate issuance.
//!
//! The engine (`engine`, `checks`, `net`) knows nothing of the command line; `cli` turns
//! arguments into a `plan::Plan`, `doctor::diagnose` runs it, and `report` renders the result.

pub mod ca;
pub mod caa;
pub mod catalogue;
pub mod checks;
pub mod cli;
pub mod doctor;
pub mod engine;
pub mod identifier;
pub mod net;
pub mod perspectives;
pub mod plan;
pub mod report;
pub mod trace_command;
