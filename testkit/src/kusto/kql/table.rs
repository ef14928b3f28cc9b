//! The tables a query reads and returns.

/// A table's data as the emulator stores it, values in Data Explorer's JSON wire forms
/// (datetime "2020-08-05T22:26:55.4550000Z", timespan "1.02:03:04.5000000", numbers,
/// "NaN"/"Infinity"/"-Infinity" for reals, strings for guid and decimal, any JSON for dynamic).
#[derive(Debug, Clone, PartialEq)]
pub struct DataTable {
    /// Table name ("PrimaryResult" for query results).
    pub name: String,
    /// Column names and Kusto types, in order.
    pub columns: Vec<Column>,
    /// Rows, each with one wire-form value per column.
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// One column of a [`DataTable`].
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Kusto type name: bool, int, long, real, decimal, string, datetime, timespan, guid, dynamic.
    pub kind: String,
}
