//! One management command of a provisioning plan, shown by `provision --dry-run` and run in
//! order by `provision`.

use std::fmt;

/// One management command of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The database it runs in.
    pub database: String,
    /// The command text.
    pub csl: String,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "// database {}\n{}", self.database, self.csl)
    }
}
