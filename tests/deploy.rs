//! `deploy/` stays true to the service: the image's default configuration validates, every
//! manifest parses and points at files that exist, the probes and the grace period match the
//! service's endpoints and shutdown timeout, and every metric the Grafana dashboard and the
//! alert rules use is one the service exports (a renamed metric must not leave a blank panel
//! or a silent alert). There is no Docker engine in CI, so the Dockerfile is checked for the
//! properties the operations guide promises rather than built.

mod support;

use iotc_adx::config::{load_str, Settings, SinkSettings};
use iotc_adx::telemetry::metrics::metrics;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

fn deploy() -> PathBuf {
    support::repo().join("deploy")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file under `dir` whose name ends with `suffix`.
fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path, suffix));
        } else if path.to_string_lossy().ends_with(suffix) {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Every YAML document of every manifest, with its file.
fn manifests() -> Vec<(PathBuf, Yaml)> {
    let mut out = Vec::new();
    for path in files(&deploy().join("kubernetes"), ".yaml") {
        let docs = YamlLoader::load_from_str(&read(&path))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.extend(
            docs.into_iter()
                .filter(|d| !d.is_null())
                .map(|d| (path.clone(), d)),
        );
    }
    assert!(
        out.len() >= 8,
        "expected the kustomize base and the KEDA overlay"
    );
    out
}

fn kind(doc: &Yaml) -> &str {
    doc["kind"].as_str().unwrap_or("")
}

/// The image's default configuration, with its transform paths resolved as in the image
/// (`/etc/iotc-adx/transforms` is the repository's `transforms/`).
fn default_config() -> Settings {
    load_str(
        &read(&deploy().join("kubernetes/base/config.toml")),
        &support::repo(),
    )
    .unwrap_or_else(|e| panic!("deploy/kubernetes/base/config.toml: {e}"))
}

#[test]
fn the_default_configuration_validates() {
    let settings = default_config();
    assert_eq!(settings.metrics.listen.port(), 9464);
    assert!(
        settings.destinations.len() >= 6,
        "the transform library's tables"
    );
}

#[test]
fn every_manifest_parses_and_names_files_that_exist() {
    for (path, doc) in manifests() {
        if kind(&doc) == "Kustomization" || path.ends_with("kustomization.yaml") {
            let dir = path.parent().unwrap();
            for list in ["resources", "components"] {
                for item in doc[list].as_vec().into_iter().flatten() {
                    let target = dir.join(item.as_str().unwrap());
                    assert!(
                        target.exists(),
                        "{}: {} is missing",
                        path.display(),
                        target.display()
                    );
                }
            }
            for generator in doc["configMapGenerator"].as_vec().into_iter().flatten() {
                for file in generator["files"].as_vec().into_iter().flatten() {
                    let file = file.as_str().unwrap();
                    let file = file.split_once('=').map_or(file, |(_, f)| f);
                    assert!(
                        dir.join(file).exists(),
                        "{}: {file} is missing",
                        path.display()
                    );
                }
            }
            continue;
        }
        assert!(
            doc["apiVersion"].as_str().is_some() && !kind(&doc).is_empty(),
            "{}: a manifest without apiVersion or kind",
            path.display()
        );
    }
}

#[test]
fn probes_and_grace_period_match_the_service() {
    let settings = default_config();
    let Some(SinkSettings::Kusto(kusto)) = &settings.sink else {
        panic!("the default configuration ingests into Data Explorer")
    };
    let port = i64::from(settings.metrics.listen.port());
    let deployments: Vec<Yaml> = manifests()
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| kind(d) == "Deployment")
        .collect();
    assert_eq!(deployments.len(), 1);
    let spec = &deployments[0]["spec"]["template"]["spec"];
    let grace = spec["terminationGracePeriodSeconds"]
        .as_i64()
        .expect("terminationGracePeriodSeconds");
    assert!(
        grace as u64 >= kusto.shutdown_grace.as_secs() + 5,
        "Kubernetes would kill the process ({grace} s) before its shutdown grace ({:?}) ends",
        kusto.shutdown_grace
    );
    let container = &spec["containers"][0];
    let ports: Vec<i64> = container["ports"]
        .as_vec()
        .into_iter()
        .flatten()
        .filter_map(|p| p["containerPort"].as_i64())
        .collect();
    assert!(ports.contains(&port), "{ports:?} should hold {port}");
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        assert_eq!(
            container[probe]["httpGet"]["path"].as_str(),
            Some(path),
            "{probe}"
        );
    }
    let scaled: Vec<Yaml> = manifests()
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| kind(d) == "ScaledObject")
        .collect();
    assert_eq!(scaled.len(), 1, "the KEDA overlay's ScaledObject");
    let trigger = &scaled[0]["spec"]["triggers"][0];
    assert_eq!(trigger["type"].as_str(), Some("azure-eventhub"));
    assert_eq!(
        trigger["metadata"]["checkpointStrategy"].as_str(),
        Some("blobMetadata"),
        "KEDA reads the checkpoints iotc-adx writes"
    );
}

/// The `iotc_adx_…` names in `text`, with histogram suffixes taken off.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("iotc_adx_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    names
}

fn exported(name: &str) -> bool {
    let known = metrics().names();
    known.iter().any(|k| k == name)
        || ["_bucket", "_sum", "_count"].iter().any(|s| {
            name.strip_suffix(s)
                .is_some_and(|base| known.iter().any(|k| k == base))
        })
}

#[test]
fn the_dashboard_uses_only_exported_metrics() {
    let path = files(&deploy().join("grafana"), ".json")
        .pop()
        .expect("a dashboard");
    let dashboard: serde_json::Value = serde_json::from_str(&read(&path)).expect("JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    let mut exprs = Vec::new();
    for panel in panels {
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                exprs.push(expr.to_string());
            }
        }
    }
    let used = metric_names(&exprs.join("\n"));
    for name in &used {
        assert!(
            exported(name),
            "the dashboard uses {name}, which the service does not export"
        );
    }
    for needed in [
        "iotc_adx_events_received_total",
        "iotc_adx_rows_ingested_total",
        "iotc_adx_end_to_end_latency_seconds_bucket",
        "iotc_adx_partition_lag_events",
        "iotc_adx_dead_letters_total",
        "iotc_adx_throttled_responses_total",
    ] {
        assert!(used.contains(needed), "no panel shows {needed}");
    }
}

/// GitHub's anchor for a Markdown heading.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn every_alert_uses_exported_metrics_and_has_a_runbook() {
    let guide = read(&support::repo().join("docs/operations.md"));
    let anchors: BTreeSet<String> = guide
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|h| anchor(h.trim_start_matches('#')))
        .collect();
    let mut alerts = 0;
    for (path, doc) in manifests() {
        if kind(&doc) != "PrometheusRule" {
            continue;
        }
        for group in doc["spec"]["groups"].as_vec().into_iter().flatten() {
            for rule in group["rules"].as_vec().into_iter().flatten() {
                let Some(alert) = rule["alert"].as_str() else {
                    continue;
                };
                alerts += 1;
                let expr = rule["expr"].as_str().expect("an expression");
                let used = metric_names(expr);
                // Prometheus's own `up` for the scrape target, or the service's metrics.
                let scrape_up = expr.contains("up{job=\"iotc-adx\"}");
                assert!(
                    !used.is_empty() || scrape_up,
                    "{alert} uses no iotc_adx metric: {expr}"
                );
                for name in used {
                    assert!(
                        exported(&name),
                        "{}: alert {alert} uses {name}",
                        path.display()
                    );
                }
                let runbook = rule["annotations"]["runbook_url"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{alert} has no runbook_url"));
                let (_, fragment) = runbook
                    .split_once("docs/operations.md#")
                    .unwrap_or_else(|| panic!("{alert}: {runbook} is not in the operations guide"));
                assert!(
                    anchors.contains(fragment),
                    "{alert}: docs/operations.md has no heading #{fragment}"
                );
                assert!(rule["annotations"]["summary"].as_str().is_some(), "{alert}");
            }
        }
    }
    assert!(
        alerts >= 4,
        "lag, no ingestion, dead letters and throttling at least"
    );
}

#[test]
fn the_dockerfile_builds_locked_and_runs_unprivileged_with_a_health_check() {
    let text = read(&deploy().join("Dockerfile"));
    let stages = text.lines().filter(|l| l.starts_with("FROM ")).count();
    assert!(stages >= 2, "a multi-stage build");
    assert!(text.contains("--locked"), "built from Cargo.lock");
    let user = text
        .lines()
        .filter_map(|l| l.strip_prefix("USER "))
        .next_back()
        .expect("a USER line");
    assert!(
        !user.trim().starts_with("root") && user.trim() != "0",
        "runs as {user}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("HEALTHCHECK") && l.contains("healthcheck")),
        "a HEALTHCHECK through `iotc-adx healthcheck` (the image has no curl)"
    );
    assert!(text.contains("9464"), "the metrics port");
}
