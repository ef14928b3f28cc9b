//! Where the interpreter finds the tables a query names: a [`Catalog`] hands out each table's
//! wire-form rows and, when it keeps one in step, its column store.

use super::store::ColumnStore;
use super::table::DataTable;

/// Where [`execute`](super::execute) looks up the tables a query names.
pub trait Catalog {
    /// The table called `name` (exact, case-sensitive), if it exists.
    fn table(&self, name: &str) -> Option<&DataTable>;

    /// The typed columns of table `name`, when the catalog keeps them and they hold exactly
    /// the table's rows: queries then read cells without decoding wire-form JSON.
    fn store(&self, _name: &str) -> Option<&ColumnStore> {
        None
    }
}
