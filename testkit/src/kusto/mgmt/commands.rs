//! Runs parsed control commands against the cluster state and builds their result tables.

use super::super::errors::ApiError;
use super::super::frames::table;
use super::super::kql::{Column, DataTable};
use super::super::mapping;
use super::super::shared::Shared;
use super::super::state::{BatchingPolicy, ClusterState, Database, Table};
use super::super::values;
use super::parse::{Command, PolicyTarget, StreamingSetting, TagFilter};
use serde_json::{json, Value};
use std::time::Duration;

/// Runs `command` in database `db`.
pub(super) fn execute(shared: &Shared, db: &str, command: Command) -> Result<DataTable, ApiError> {
    match command {
        Command::ShowVersion => Ok(table(
            "Table_0",
            &[
                ("BuildVersion", "string"),
                ("BuildTime", "datetime"),
                ("ServiceType", "string"),
                ("ProductVersion", "string"),
            ],
            vec![vec![
                json!("1.0.9999.0"),
                json!("2026-01-01T00:00:00.0000000Z"),
                json!("Engine"),
                json!("iotc-adx-testkit emulator"),
            ]],
        )),
        Command::GetIngestionResources => {
            let storage = shared.storage.as_ref().ok_or_else(|| {
                ApiError::bad_request(
                    "Kusto.Common.Svc.Exceptions.BadRequestException",
                    "queued ingestion is not configured on this emulator (no storage)",
                )
            })?;
            let lifetime = shared
                .faults
                .sas_lifetime()
                .unwrap_or(shared.options.sas_lifetime);
            let rows = storage
                .resources(lifetime)
                .into_iter()
                .map(|(k, v)| vec![json!(k), json!(v)])
                .collect();
            Ok(table(
                "Table_0",
                &[("ResourceTypeName", "string"), ("StorageRoot", "string")],
                rows,
            ))
        }
        Command::GetIdentityToken => Ok(table(
            "Table_0",
            &[("AuthorizationContext", "string")],
            vec![vec![json!(shared.identity_token)]],
        )),
        Command::ShowIngestionFailures => {
            let state = shared.state();
            let rows = state
                .failures
                .iter()
                .filter(|f| db.is_empty() || f.database == db || db == "NetDefaultDB")
                .map(|f| {
                    vec![
                        json!(f.operation_id),
                        json!(f.database),
                        json!(f.table),
                        json!(values::format_datetime(&f.failed_on)),
                        json!(f.ingestion_source_path),
                        json!(f.details),
                        json!(f.failure_kind),
                        json!(f.error_code),
                        json!(f.ingestion_source_id),
                    ]
                })
                .collect();
            Ok(table(
                "Table_0",
                &[
                    ("OperationId", "string"),
                    ("Database", "string"),
                    ("Table", "string"),
                    ("FailedOn", "datetime"),
                    ("IngestionSourcePath", "string"),
                    ("Details", "string"),
                    ("FailureKind", "string"),
                    ("ErrorCode", "string"),
                    ("IngestionSourceId", "string"),
                ],
                rows,
            ))
        }
        Command::ShowDatabases => {
            let state = shared.state();
            let rows = state
                .databases
                .keys()
                .map(|name| vec![json!(name), json!(name), json!("ReadWrite")])
                .collect();
            Ok(table(
                "Table_0",
                &[
                    ("DatabaseName", "string"),
                    ("PrettyName", "string"),
                    ("PersistentStorage", "string"),
                ],
                rows,
            ))
        }
        other => {
            let mut state = shared.state();
            on_database(&mut state, db, other)
        }
    }
}

fn database<'a>(state: &'a mut ClusterState, db: &str) -> Result<&'a mut Database, ApiError> {
    state
        .databases
        .get_mut(db)
        .ok_or_else(|| ApiError::not_found(format!("Database '{db}' was not found.")))
}

fn existing<'a>(
    database: &'a mut Database,
    db: &str,
    name: &str,
) -> Result<&'a mut Table, ApiError> {
    database.tables.get_mut(name).ok_or_else(|| {
        ApiError::not_found(format!("Table '{name}' was not found in database '{db}'."))
    })
}

fn schema_table(db: &str, t: &Table) -> DataTable {
    table(
        "Table_0",
        &[
            ("TableName", "string"),
            ("Schema", "string"),
            ("DatabaseName", "string"),
            ("Folder", "string"),
            ("DocString", "string"),
        ],
        vec![vec![
            json!(t.data.name),
            json!(t.csl_schema()),
            json!(db),
            Value::Null,
            Value::Null,
        ]],
    )
}

/// `.show table T extents`: the documented columns, one row per extent whose tags pass every
/// filter. Tags are listed one per line (`\r\n`), which is how Kusto's tools display them;
/// the emulator keeps no compression or index, so the sizes are the original size.
fn extents_table(db: &str, t: &Table, filters: &[TagFilter]) -> DataTable {
    let rows = t
        .extents
        .iter()
        .filter(|e| filters.iter().all(|f| f.accepts(&e.tags)))
        .map(|e| {
            let created = values::format_datetime(&e.created);
            let size = e.original_size as f64;
            vec![
                json!(e.id),
                json!(db),
                json!(t.data.name),
                json!(created),
                json!(size),
                json!(size),
                json!(size),
                json!(0.0),
                json!(1),
                json!(1),
                json!(""),
                json!(e.rows),
                json!(created),
                json!(e.tags.join("\r\n")),
                json!("StorageV3"),
                json!(0),
            ]
        })
        .collect();
    table(
        "Table_0",
        &[
            ("ExtentId", "guid"),
            ("DatabaseName", "string"),
            ("TableName", "string"),
            ("MaxCreatedOn", "datetime"),
            ("OriginalSize", "real"),
            ("ExtentSize", "real"),
            ("CompressedSize", "real"),
            ("IndexSize", "real"),
            ("Blocks", "long"),
            ("Segments", "long"),
            ("ExtentContainerId", "string"),
            ("RowCount", "long"),
            ("MinCreatedOn", "datetime"),
            ("Tags", "string"),
            ("Kind", "string"),
            ("DeletedRowCount", "long"),
        ],
        rows,
    )
}

fn mappings_table(name: &str, t: &Table) -> DataTable {
    let rows = t
        .json_mappings
        .iter()
        .map(|(m, cols)| {
            let definition: Vec<Value> = cols
                .iter()
                .map(|c| {
                    let mut props = serde_json::Map::new();
                    if let Some(p) = &c.path {
                        props.insert("Path".into(), json!(p.as_str()));
                    }
                    if let Some(v) = &c.const_value {
                        props.insert("ConstValue".into(), json!(v));
                    }
                    if let Some(tr) = &c.transform {
                        props.insert("Transform".into(), json!(format!("{tr:?}")));
                    }
                    json!({"column": c.column, "datatype": c.datatype.clone().unwrap_or_default(), "Properties": props})
                })
                .collect();
            vec![json!(m), json!("Json"), json!(Value::Array(definition).to_string()), json!(name)]
        })
        .collect();
    table(
        "Table_0",
        &[
            ("Name", "string"),
            ("Kind", "string"),
            ("Mapping", "string"),
            ("Table", "string"),
        ],
        rows,
    )
}

fn on_database(
    state: &mut ClusterState,
    db: &str,
    command: Command,
) -> Result<DataTable, ApiError> {
    let database = database(state, db)?;
    match command {
        Command::ShowTables => {
            let rows = database
                .tables
                .keys()
                .map(|t| vec![json!(t), json!(db), json!(""), json!("")])
                .collect();
            Ok(table(
                "Table_0",
                &[
                    ("TableName", "string"),
                    ("DatabaseName", "string"),
                    ("Folder", "string"),
                    ("DocString", "string"),
                ],
                rows,
            ))
        }
        Command::ShowTableCslSchema(name) => Ok(schema_table(db, existing(database, db, &name)?)),
        Command::ShowJsonMappings(name) => {
            Ok(mappings_table(&name, existing(database, db, &name)?))
        }
        Command::ShowExtents {
            table: name,
            filters,
        } => Ok(extents_table(db, existing(database, db, &name)?, &filters)),
        Command::CreateTable {
            table: name,
            columns,
            merge,
        } => {
            match database.tables.get_mut(&name) {
                None => {
                    database
                        .tables
                        .insert(name.clone(), Table::new(&name, &columns));
                }
                Some(t) => {
                    for (column, kind) in &columns {
                        match t.data.columns.iter().find(|c| &c.name == column) {
                            Some(c) if &c.kind != kind => {
                                return Err(ApiError::bad_request(
                                    "Kusto.Data.Exceptions.EntityAlreadyExistsException",
                                    format!("Column '{column}' of table '{name}' already exists with type '{}', not '{kind}'.", c.kind),
                                ));
                            }
                            Some(_) => {}
                            None if merge => {
                                t.data.columns.push(Column {
                                    name: column.clone(),
                                    kind: kind.clone(),
                                });
                                for row in &mut t.data.rows {
                                    row.push(Value::Null);
                                }
                            }
                            None => {
                                return Err(ApiError::bad_request(
                                    "Kusto.Data.Exceptions.EntityAlreadyExistsException",
                                    format!("Table '{name}' already exists with a different schema ({}).", t.csl_schema()),
                                ));
                            }
                        }
                    }
                }
            }
            Ok(schema_table(db, existing(database, db, &name)?))
        }
        Command::DropTable {
            table: name,
            if_exists,
        } => {
            if database.tables.remove(&name).is_none() && !if_exists {
                return Err(ApiError::not_found(format!(
                    "Table '{name}' was not found in database '{db}'."
                )));
            }
            let rows = database
                .tables
                .keys()
                .map(|t| vec![json!(t), json!(db)])
                .collect();
            Ok(table(
                "Table_0",
                &[("TableName", "string"), ("DatabaseName", "string")],
                rows,
            ))
        }
        Command::CreateJsonMapping {
            table: name,
            name: mapping_name,
            definition,
            or_alter,
        } => {
            let t = existing(database, db, &name)?;
            let columns = mapping::parse_mapping(&definition).map_err(|m| {
                ApiError::bad_request(
                    "Kusto.Data.Exceptions.IngestionMappingException",
                    format!("Mapping '{mapping_name}' is invalid: {m}"),
                )
            })?;
            if let Some(missing) = columns
                .iter()
                .find(|c| !t.data.columns.iter().any(|tc| tc.name == c.column))
            {
                return Err(ApiError::bad_request(
                    "Kusto.Data.Exceptions.IngestionMappingException",
                    format!("Mapping '{mapping_name}' refers to column '{}', which table '{name}' does not have.", missing.column),
                ));
            }
            if !or_alter && t.json_mappings.contains_key(&mapping_name) {
                return Err(ApiError::bad_request(
                    "Kusto.Data.Exceptions.EntityAlreadyExistsException",
                    format!("Mapping '{mapping_name}' already exists on table '{name}'."),
                ));
            }
            t.json_mappings.insert(mapping_name.clone(), columns);
            Ok(table(
                "Table_0",
                &[
                    ("Name", "string"),
                    ("Kind", "string"),
                    ("Mapping", "string"),
                ],
                vec![vec![json!(mapping_name), json!("Json"), json!(definition)]],
            ))
        }
        Command::AlterStreaming(target, setting) => {
            let enabled = match setting {
                StreamingSetting::Enable => true,
                StreamingSetting::Disable => false,
                StreamingSetting::Json(text) => {
                    let v: Value = serde_json::from_str(&text).map_err(|e| {
                        ApiError::bad_command(format!(
                            "the streaming ingestion policy is not valid JSON: {e}"
                        ))
                    })?;
                    v.get("IsEnabled").and_then(Value::as_bool).ok_or_else(|| {
                        ApiError::bad_command(
                            "the streaming ingestion policy needs a boolean 'IsEnabled'",
                        )
                    })?
                }
            };
            let policy = json!({"IsEnabled": enabled, "HintAllocatedRate": null}).to_string();
            let entity = match target {
                PolicyTarget::Table(name) => {
                    existing(database, db, &name)?.streaming = Some(enabled);
                    format!("[{db}].[{name}]")
                }
                PolicyTarget::Database(name) => {
                    if name != db {
                        return Err(ApiError::bad_command(format!("policy target database '{name}' differs from the request's database '{db}'")));
                    }
                    database.streaming = Some(enabled);
                    format!("[{db}]")
                }
            };
            Ok(policy_table("StreamingIngestionPolicy", &entity, policy))
        }
        Command::AlterBatching(target, text) => {
            let policy = batching_policy(&text)?;
            let entity = match target {
                PolicyTarget::Table(name) => {
                    existing(database, db, &name)?.batching = Some(policy);
                    format!("[{db}].[{name}]")
                }
                PolicyTarget::Database(name) => {
                    if name != db {
                        return Err(ApiError::bad_command(format!("policy target database '{name}' differs from the request's database '{db}'")));
                    }
                    database.batching = Some(policy);
                    format!("[{db}]")
                }
            };
            Ok(policy_table("IngestionBatchingPolicy", &entity, text))
        }
        Command::ShowVersion
        | Command::ShowDatabases
        | Command::GetIngestionResources
        | Command::GetIdentityToken
        | Command::ShowIngestionFailures => Err(ApiError::bad_command(
            "internal: cluster command routed to a database",
        )),
    }
}

fn policy_table(policy_name: &str, entity: &str, policy: String) -> DataTable {
    table(
        "Table_0",
        &[
            ("PolicyName", "string"),
            ("EntityName", "string"),
            ("Policy", "string"),
            ("ChildEntities", "string"),
            ("EntityType", "string"),
        ],
        vec![vec![
            json!(policy_name),
            json!(entity),
            json!(policy),
            Value::Null,
            json!(""),
        ]],
    )
}

/// Parses a batching policy; omitted fields take the defaults, as in the service.
fn batching_policy(text: &str) -> Result<BatchingPolicy, ApiError> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        ApiError::bad_command(format!("the batching policy is not valid JSON: {e}"))
    })?;
    let mut policy = BatchingPolicy::default();
    if let Some(span) = v.get("MaximumBatchingTimeSpan") {
        let ticks = span
            .as_str()
            .and_then(values::parse_timespan)
            .filter(|t| *t >= 0)
            .ok_or_else(|| {
                ApiError::bad_command(format!("MaximumBatchingTimeSpan {span} is not a timespan"))
            })?;
        policy.maximum_batching_time_span = Duration::from_nanos((ticks * 100) as u64);
    }
    if let Some(n) = v.get("MaximumNumberOfItems").and_then(Value::as_u64) {
        policy.maximum_number_of_items = n;
    }
    if let Some(n) = v.get("MaximumRawDataSizeMB").and_then(Value::as_u64) {
        policy.maximum_raw_data_size_mb = n;
    }
    Ok(policy)
}
