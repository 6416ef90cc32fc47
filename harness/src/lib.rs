//! nsspec: declarative scenarios of Linux namespace behaviour, run in fresh namespaces.
//!
//! The pipeline: [`schema`] (what users type) → [`plan`] (validated, the only input of the
//! executor) → [`executor`] (forks, unshares, records raw observations) → [`report`] (checks
//! expectations, renders the normalised record that is snapshotted).

pub mod catalogue;
pub mod executor;
pub mod junit;
mod limits;
pub mod plan;
pub mod probe;
pub mod report;
pub mod runner;
pub mod schema;
pub mod timing;
