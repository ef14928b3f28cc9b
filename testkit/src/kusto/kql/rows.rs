//! [`Rows`]: the data flowing between tabular operators, in a file of its own so the
//! operators and the files they delegate to (`join`, inline sources) share it without a cycle.

use super::compile::Schema;
use super::value::Value;

/// Rows flowing between operators: a schema and decoded values.
pub struct Rows {
    /// (name, type) of each column.
    pub schema: Schema,
    /// One value per column.
    pub rows: Vec<Vec<Value>>,
}
