//! The operations endpoint on `[metrics] listen`: `/metrics` for Prometheus, `/healthz` for
//! liveness and `/readyz` for readiness (see [`super::health`]).

use super::health::Health;
use super::metrics::Metrics;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// The listener could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {address} ([metrics] listen): {source}")]
pub struct ListenError {
    /// The configured address.
    pub address: SocketAddr,
    /// Why (address in use, permission denied, ...).
    #[source]
    pub source: std::io::Error,
}

/// A bound listener, ready to serve.
#[derive(Debug)]
pub struct Endpoint {
    listener: TcpListener,
}

#[derive(Clone, Copy)]
struct Shared {
    metrics: &'static Metrics,
    health: &'static Health,
}

impl Endpoint {
    /// Binds `address` now, so that a port in use is reported before the pipeline starts.
    pub async fn bind(address: SocketAddr) -> Result<Self, ListenError> {
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| ListenError { address, source })?;
        Ok(Endpoint { listener })
    }

    /// The bound address (the port the system chose for port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves until the runtime stops; meant to be spawned.
    pub async fn serve(self, metrics: &'static Metrics, health: &'static Health) {
        self.serve_with(metrics, health, Router::new()).await
    }

    /// [`Endpoint::serve`] with more routes (the reports' `/reports`), merged in by the
    /// binary so that this module imports no stage.
    pub async fn serve_with(
        self,
        metrics: &'static Metrics,
        health: &'static Health,
        more: Router,
    ) {
        let app = Router::new()
            .route("/metrics", get(render_metrics))
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(readiness))
            .with_state(Shared { metrics, health })
            .merge(more);
        if let Err(e) = axum::serve(self.listener, app).await {
            tracing::error!(error = %e, "the metrics and health endpoint stopped");
        }
    }
}

async fn render_metrics(State(shared): State<Shared>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        shared.metrics.render(),
    )
        .into_response()
}

async fn readiness(State(shared): State<Shared>) -> Response {
    let readiness = shared.health.readiness();
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let checks: serde_json::Map<String, serde_json::Value> = readiness
        .checks
        .iter()
        .map(|c| (c.name.to_string(), c.detail.clone().into()))
        .collect();
    let body = serde_json::json!({ "ready": readiness.ready, "checks": checks });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::metrics::metrics;
    use std::time::Duration;

    #[tokio::test]
    async fn serves_metrics_liveness_and_readiness() {
        let health: &'static Health = Box::leak(Box::new(Health::new(Duration::from_secs(60))));
        let endpoint = Endpoint::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let base = format!("http://{}", endpoint.local_addr().unwrap());
        tokio::spawn(endpoint.serve(metrics(), health));
        let client = reqwest::Client::new();
        let get = |path: &str| client.get(format!("{base}{path}")).send();

        let live = get("/healthz").await.unwrap();
        assert_eq!(live.status(), 200);

        let not_ready = get("/readyz").await.unwrap();
        assert_eq!(not_ready.status(), 503);
        let body: serde_json::Value = not_ready.json().await.unwrap();
        assert_eq!(body["ready"], false);
        assert_eq!(body["checks"]["sink"], "not contacted yet");

        health.config_loaded();
        health.source_connected();
        health.sink_reachable();
        let ready = get("/readyz").await.unwrap();
        assert_eq!(ready.status(), 200);

        let text = get("/metrics").await.unwrap().text().await.unwrap();
        assert!(text.contains("iotc_adx_build_info{version="), "{text}");
        assert_eq!(get("/nothing").await.unwrap().status(), 404);
    }

    #[tokio::test]
    async fn a_port_in_use_names_the_config_key() {
        let taken = Endpoint::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let address = taken.local_addr().unwrap();
        let error = Endpoint::bind(address).await.unwrap_err().to_string();
        assert!(error.contains("[metrics] listen"), "{error}");
        assert!(error.contains(&address.to_string()), "{error}");
    }
}
