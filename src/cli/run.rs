//! `iotc-adx run`: loads the configuration, runs the pipeline to the end of the source (or a
//! shutdown signal) and prints the summary.

use anyhow::Context;
use azure_core::credentials::TokenCredential;
use iotc_adx::auth::AuthSettings;
use iotc_adx::config::{self, KustoSinkSettings, Settings, SinkSettings, SourceSettings};
use iotc_adx::deadletter::LocalDirStore;
use iotc_adx::pipeline::Pipeline;
use iotc_adx::pipeline::Summary;
use iotc_adx::sink::file::FileSink;
use iotc_adx::sink::kusto::KustoSink;
use iotc_adx::source::eventhubs::EventHubsSource;
use iotc_adx::source::file::FileSource;
use iotc_adx::source::Source;
use iotc_adx::telemetry::health::health;
use iotc_adx::telemetry::metrics::metrics;
use iotc_adx::telemetry::server::Endpoint;
use iotc_adx_kusto::KustoClient;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// Exit code of a run that stopped before the sink confirmed every batch (nothing is lost:
/// the source replays from its checkpoints).
const EXIT_UNCLEAN: u8 = 3;

pub fn run(config_path: &Path) -> anyhow::Result<ExitCode> {
    let settings = config::load(config_path)?;
    iotc_adx::telemetry::log::init(&settings.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let summary = runtime.block_on(async {
        // Catch SIGTERM and SIGINT from here on: a signal during start-up must not kill the
        // process with batches half written.
        let shutdown = ShutdownSignal::install()?;
        let credential = iotc_adx::auth::credential(&settings.auth, Default::default())?;
        let reports = super::report::start(&settings, credential.clone())?;
        serve_operations(&settings, reports.router()).await?;
        let Some((source, _)) = settings.pipeline() else {
            tracing::info!(reports = reports.scheduled(), "no pipeline configured: running reports until a shutdown signal");
            shutdown.wait().await;
            reports.stop().await;
            return Ok(None);
        };
        let summary = match source {
            SourceSettings::File { input } => {
                let source = FileSource::open(input)?;
                health().source_connected();
                run_with(source, &settings, credential, config_path, shutdown).await
            }
            SourceSettings::EventHubs(eventhubs) => {
                let settle = handover_settle(&settings);
                let source =
                    EventHubsSource::connect_settling(eventhubs, credential.clone(), settle)
                        .await?;
                health().source_connected();
                tracing::info!(namespace = %eventhubs.namespace, event_hub = %eventhubs.event_hub, "connected to Event Hubs");
                run_with(source, &settings, credential, config_path, shutdown).await
            }
        };
        reports.stop().await;
        summary.map(Some)
    });
    // A source may still sit in a blocking read (standard input that never closes); the run
    // is over, so do not wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    let Some(summary) = summary? else {
        return Ok(ExitCode::SUCCESS);
    };
    println!("{summary}");
    if summary.unconfirmed_batches > 0 {
        eprintln!(
            "warning: stopped with {} batches unconfirmed by the sink; their events are read again from the last checkpoint",
            summary.unconfirmed_batches
        );
        return Ok(ExitCode::from(EXIT_UNCLEAN));
    }
    Ok(ExitCode::SUCCESS)
}

/// How long a partition taken from another owner waits before it is read: the longest
/// batching time of the queued destinations with dedupe (Data Explorer's default, 300 s, when
/// unset), plus a margin; zero when no destination needs it (see
/// `iotc_adx::source::eventhubs::handover`).
fn handover_settle(settings: &Settings) -> std::time::Duration {
    const SERVICE_DEFAULT: std::time::Duration = std::time::Duration::from_secs(300);
    const MARGIN: std::time::Duration = std::time::Duration::from_secs(5);
    let Some(SinkSettings::Kusto(kusto)) = &settings.sink else {
        return std::time::Duration::ZERO;
    };
    if !kusto.dedupe {
        return std::time::Duration::ZERO;
    }
    settings
        .destinations
        .iter()
        .filter(|d| d.ingestion == iotc_adx::sink::IngestionMode::Queued)
        .map(|d| {
            d.batching_policy
                .as_ref()
                .and_then(|p| p.max_time)
                .unwrap_or(SERVICE_DEFAULT)
                + MARGIN
        })
        .max()
        .unwrap_or_default()
}

/// Opens `[metrics] listen` and serves `/metrics`, `/healthz`, `/readyz` and `/reports`
/// there for the rest of the run.
async fn serve_operations(settings: &Settings, reports: axum::Router) -> anyhow::Result<()> {
    let endpoint = Endpoint::bind(settings.metrics.listen).await?;
    if let Some(address) = endpoint.local_addr() {
        tracing::info!(%address, "serving /metrics, /healthz, /readyz and /reports");
    }
    tokio::spawn(endpoint.serve_with(metrics(), health(), reports));
    health().config_loaded();
    Ok(())
}

/// Runs the pipeline from `source` into the configured sink.
async fn run_with<S: Source>(
    source: S,
    settings: &Settings,
    credential: Option<Arc<dyn TokenCredential>>,
    config_path: &Path,
    shutdown: ShutdownSignal,
) -> anyhow::Result<Summary> {
    let dead_letters = Box::new(LocalDirStore::new(
        &settings.dead_letter.dir,
        settings.dead_letter.max_file_bytes,
    ));
    let destinations = settings.destinations.clone();
    tracing::info!(config = %config_path.display(), destinations = destinations.len(), "pipeline starting");
    let Some(sink) = &settings.sink else {
        anyhow::bail!("no [sink] is configured");
    };
    match sink {
        SinkSettings::File { dir, gzip } => {
            let names: Vec<String> = destinations.iter().map(|d| d.name.clone()).collect();
            let sink = FileSink::new(dir, &names, *gzip);
            health().sink_reachable();
            Ok(Pipeline::new(destinations, sink, dead_letters)
                .run(source, shutdown.wait())
                .await?)
        }
        SinkSettings::Kusto(kusto) => {
            let client = iotc_adx::sink::kusto::client(kusto, credential)?;
            let sink = KustoSink::connect(client, kusto, &destinations).await?;
            health().sink_reachable();
            tracing::info!(cluster = %kusto.cluster, auth = %settings.auth.describe(), "connected to Data Explorer");
            let pipeline = Pipeline::new(destinations, sink, dead_letters)
                .with_drain_grace(kusto.shutdown_grace);
            Ok(pipeline.run(source, shutdown.wait()).await?)
        }
    }
}

/// The Kusto client for the sink's cluster, signed in as `[auth]` says.
pub fn kusto_client(
    settings: &KustoSinkSettings,
    auth: &AuthSettings,
) -> anyhow::Result<KustoClient> {
    let credential = iotc_adx::auth::credential(auth, Default::default())?;
    Ok(iotc_adx::sink::kusto::client(settings, credential)?)
}

/// SIGTERM (Kubernetes) and SIGINT (Ctrl-C), registered when installed.
struct ShutdownSignal {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    fn install() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(ShutdownSignal {
                terminate: signal(SignalKind::terminate()).context("cannot catch SIGTERM")?,
                interrupt: signal(SignalKind::interrupt()).context("cannot catch SIGINT")?,
            })
        }
        #[cfg(not(unix))]
        Ok(ShutdownSignal {})
    }

    /// Completes when either signal arrives.
    async fn wait(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received: stopping the source and flushing batches; report runs in progress finish");
    }
}
