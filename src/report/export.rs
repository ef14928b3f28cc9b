//! The export step: a report's rows also written elsewhere. To a table, by
//! `.set-or-append <table> <| <query>` run by the cluster itself (the rows never travel
//! through iotc-adx, and the same query parameters apply); to a URL, as `{"rows":[...]}`
//! pages POSTed with retries (Power BI push datasets take this shape), never one request
//! per row.

use super::deliver::post::delivery_policy;
use super::deliver::post_json;
use super::outcome::{RunFailure, Step};
use super::query::Window;
use super::result::ReportResult;
use super::settings::{ExportSettings, ReportSettings};
use crate::retry::RetryPolicy;
use iotc_adx_kusto::{KustoClient, RequestProperties};
use serde_json::json;

/// Writes `result` to every export of `report`.
pub async fn export_all(
    client: &KustoClient,
    http: &reqwest::Client,
    report: &ReportSettings,
    window: Window,
    result: &ReportResult,
) -> Result<(), RunFailure> {
    for (i, e) in report.exports.iter().enumerate() {
        let failed = |m: String| RunFailure::failed(Step::Export, format!("export[{i}]: {m}"));
        match e {
            ExportSettings::Table(table) => set_or_append(client, report, table, window)
                .await
                .map_err(failed)?,
            ExportSettings::Url {
                url,
                page_rows,
                attempts,
            } => {
                let policy = delivery_policy();
                post_pages(http, url, result, *page_rows, *attempts, &policy)
                    .await
                    .map_err(|e| failed(e.to_string()))?
            }
        }
    }
    Ok(())
}

/// `.set-or-append <table> <| <query>` with the run's parameters.
async fn set_or_append(
    client: &KustoClient,
    report: &ReportSettings,
    table: &str,
    window: Window,
) -> Result<(), String> {
    let command = format!(
        ".set-or-append ['{}'] <| {}",
        table.replace('\'', "\\'"),
        report.text.text()
    );
    let props = RequestProperties {
        parameters: window.parameters(),
        timeout: Some(report.timeout),
        server_timeout: Some(report.timeout),
        ..Default::default()
    };
    client
        .run_with(&report.database, &command, false, &props)
        .await
        .map(|_| ())
        .map_err(|e| format!(".set-or-append into {table}: {e}"))
}

/// The rows as `{"rows": [...]}` pages of `page_rows`.
pub async fn post_pages(
    http: &reqwest::Client,
    url: &super::settings::SecretUrl,
    result: &ReportResult,
    page_rows: usize,
    attempts: u32,
    policy: &RetryPolicy,
) -> Result<(), super::deliver::DeliveryError> {
    let objects = result.objects();
    for page in objects.chunks(page_rows.max(1)) {
        post_json(http, url, &json!({ "rows": page }), attempts, policy).await?;
    }
    Ok(())
}
