//! Reports: the data model, redaction, and one module per output format.

pub mod checks_list;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod output;
pub mod progress;
pub mod redact;
pub mod text;
