//! Reports: the data model and one module per output format.

pub mod checks_list;
pub mod json;
pub mod model;
pub mod text;
