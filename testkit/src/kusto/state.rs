//! The cluster's contents: databases, tables (ordered typed columns and rows), ingestion
//! mappings, streaming and batching policies, ingested tags and recorded ingestion failures.
//! Shared behind a mutex that is never held across an await.

use super::kql::{Catalog, Column, ColumnStore, DataTable};
use super::mapping::MappingColumn;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The `ingestionbatching` policy (only the time matters to the emulator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchingPolicy {
    /// How long queued data waits before it is committed.
    pub maximum_batching_time_span: Duration,
    /// Items per batch (recorded, not enforced).
    pub maximum_number_of_items: u64,
    /// Raw megabytes per batch (recorded, not enforced).
    pub maximum_raw_data_size_mb: u64,
}

impl Default for BatchingPolicy {
    fn default() -> Self {
        BatchingPolicy {
            maximum_batching_time_span: Duration::from_secs(300),
            maximum_number_of_items: 500,
            maximum_raw_data_size_mb: 1024,
        }
    }
}

/// One extent (data shard): what one committed ingestion added, as `.show table T extents`
/// lists it.
#[derive(Debug, Clone)]
pub struct Extent {
    /// The extent's id (a GUID).
    pub id: String,
    /// When it was committed.
    pub created: chrono::DateTime<chrono::Utc>,
    /// Rows it holds.
    pub rows: u64,
    /// Bytes of the data as ingested (uncompressed).
    pub original_size: u64,
    /// Its tags, e.g. `ingest-by:batch-1`.
    pub tags: Vec<String>,
}

/// A table with its policies and mappings.
#[derive(Debug, Clone)]
pub struct Table {
    /// Schema and rows.
    pub data: DataTable,
    /// The same rows decoded into typed columns when they were committed, which queries read
    /// instead of decoding `data.rows` again. Rows appended to `data.rows` directly are
    /// caught up by the next commit or query ([`Table::sync_store`]); rows changed in place
    /// must be followed by a call to it.
    pub store: ColumnStore,
    /// JSON ingestion mappings by name.
    pub json_mappings: BTreeMap<String, Vec<MappingColumn>>,
    /// The table's streaming ingestion policy (`None`: inherit the database's).
    pub streaming: Option<bool>,
    /// The table's batching policy (`None`: the database's or the default).
    pub batching: Option<BatchingPolicy>,
    /// Tags of committed ingestions (`ingest-by:` values), for `ingestIfNotExists`.
    pub ingested_tags: BTreeSet<String>,
    /// One per committed ingestion, in commit order.
    pub extents: Vec<Extent>,
}

impl Table {
    /// An empty table with the given (name, kind) columns.
    pub fn new(name: &str, columns: &[(String, String)]) -> Table {
        let columns: Vec<Column> = columns
            .iter()
            .map(|(n, k)| Column {
                name: n.clone(),
                kind: k.clone(),
            })
            .collect();
        Table {
            store: ColumnStore::new(&columns),
            data: DataTable {
                name: name.into(),
                columns,
                rows: Vec::new(),
            },
            json_mappings: BTreeMap::new(),
            streaming: None,
            batching: None,
            ingested_tags: BTreeSet::new(),
            extents: Vec::new(),
        }
    }

    /// Commits one ingestion: appends its rows as a new extent carrying `tags` (the
    /// `ingest-by:` ones then count for `ingestIfNotExists`).
    pub fn commit(
        &mut self,
        rows: Vec<Vec<serde_json::Value>>,
        original_size: u64,
        tags: Vec<String>,
    ) {
        self.ingested_tags.extend(
            tags.iter()
                .filter_map(|t| t.strip_prefix("ingest-by:"))
                .map(str::to_string),
        );
        self.extents.push(Extent {
            id: uuid::Uuid::new_v4().to_string(),
            created: chrono::Utc::now(),
            rows: rows.len() as u64,
            original_size,
            tags,
        });
        self.data.rows.extend(rows);
        self.sync_store();
    }

    /// Brings [`Table::store`] up to `data`: decodes the rows appended since it was last
    /// synced (or all of them, when the columns changed or rows were removed).
    pub fn sync_store(&mut self) {
        self.store.sync(&self.data);
    }

    /// `a:string,ts:datetime`, as `.show table T cslschema` prints it.
    pub fn csl_schema(&self) -> String {
        self.data
            .columns
            .iter()
            .map(|c| format!("{}:{}", c.name, c.kind))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A database.
#[derive(Debug, Clone, Default)]
pub struct Database {
    /// Tables by name.
    pub tables: BTreeMap<String, Table>,
    /// The database's streaming ingestion policy.
    pub streaming: Option<bool>,
    /// The database's batching policy.
    pub batching: Option<BatchingPolicy>,
    /// Materialized views by name.
    pub views: BTreeMap<String, MaterializedView>,
}

/// A materialized view: answered by running its query over its source table when queried, which
/// is what the service's view returns once materialization has caught up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterializedView {
    /// The table the view aggregates.
    pub source: String,
    /// The view's query, as created (`Source | summarize ...`).
    pub query: String,
}

impl Database {
    /// Whether streaming ingestion into `table` is enabled (table policy, else database's).
    pub fn streaming_enabled(&self, table: &str) -> bool {
        self.tables
            .get(table)
            .and_then(|t| t.streaming)
            .or(self.streaming)
            .unwrap_or(false)
    }

    /// The batching policy in force for `table`.
    pub fn batching(&self, table: &str) -> BatchingPolicy {
        self.tables
            .get(table)
            .and_then(|t| t.batching.clone())
            .or_else(|| self.batching.clone())
            .unwrap_or_default()
    }
}

impl Database {
    /// Syncs every table's column store ([`Table::sync_store`]) before a query reads them.
    pub fn sync_stores(&mut self) {
        self.tables.values_mut().for_each(Table::sync_store);
    }
}

impl Catalog for Database {
    fn table(&self, name: &str) -> Option<&DataTable> {
        self.tables.get(name).map(|t| &t.data)
    }

    fn store(&self, name: &str) -> Option<&ColumnStore> {
        let t = self.tables.get(name)?;
        t.store.in_sync(&t.data).then_some(&t.store)
    }
}

/// A failed (or skipped) ingestion, as `.show ingestion failures` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestionFailure {
    /// Operation id.
    pub operation_id: String,
    /// Database.
    pub database: String,
    /// Table.
    pub table: String,
    /// When it failed.
    pub failed_on: chrono::DateTime<chrono::Utc>,
    /// The source (blob path or `stream`).
    pub ingestion_source_path: String,
    /// The source id from the queue message.
    pub ingestion_source_id: String,
    /// What went wrong.
    pub details: String,
    /// Kusto error code (e.g. `BadRequest_InvalidBlob`).
    pub error_code: String,
    /// `Permanent` or `Transient`.
    pub failure_kind: String,
}

/// Everything the cluster holds.
#[derive(Debug, Clone, Default)]
pub struct ClusterState {
    /// Databases by name.
    pub databases: BTreeMap<String, Database>,
    /// Recorded ingestion failures, oldest first.
    pub failures: Vec<IngestionFailure>,
}

impl ClusterState {
    /// The rows of `db.table` (empty when either is missing), for assertions.
    pub fn rows(&self, db: &str, table: &str) -> Vec<Vec<serde_json::Value>> {
        self.databases
            .get(db)
            .and_then(|d| d.tables.get(table))
            .map(|t| t.data.rows.clone())
            .unwrap_or_default()
    }

    /// The table `db.table`.
    pub fn table(&self, db: &str, table: &str) -> Option<&Table> {
        self.databases.get(db)?.tables.get(table)
    }

    /// The table `db.table`, mutable.
    pub fn table_mut(&mut self, db: &str, table: &str) -> Option<&mut Table> {
        self.databases.get_mut(db)?.tables.get_mut(table)
    }
}
