//! The HTTP server: routes, the gate every request passes (request log, fault injection,
//! authentication, `x-ms-activity-id` / `x-ms-client-request-id` headers), and a listener whose
//! connections can be cut without an answer (the "reset" fault).

use super::errors::ApiError;
use super::faults::{FaultKind, RouteClass};
use super::log::{LoggedRequest, LOGGED_HEADERS};
use super::shared::Shared;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Serves until `stopped` turns true.
pub(super) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let body_limit = (shared.options.max_streaming_request_bytes * 2).max(64 * 1024 * 1024);
    let app = Router::new()
        .route("/v1/rest/mgmt", post(super::mgmt::handle))
        .route("/v1/rest/query", post(super::query::v1))
        .route("/v2/rest/query", post(super::query::v2))
        .route("/v1/rest/ingest/{db}/{table}", post(super::ingest::stream))
        .route("/v1/rest/auth/metadata", get(metadata))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), gate))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(shared);
    let server = axum::serve(
        KillableListener(listener),
        app.into_make_service_with_connect_info::<KillSwitch>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    });
    if let Err(e) = server.await {
        tracing::warn!(error = %e, "Data Explorer emulator stopped with an error");
    }
}

async fn metadata(State(shared): State<Arc<Shared>>) -> Response {
    match &shared.options.auth_metadata {
        Some(m) => axum::Json(m.clone()).into_response(),
        None => ApiError::not_found("no auth metadata is configured")
            .with_status(StatusCode::NOT_FOUND)
            .with_code("NotFound")
            .into_response(),
    }
}

async fn not_found(request: Request) -> ApiError {
    ApiError::not_found(format!(
        "no route for {} {}",
        request.method(),
        request.uri().path()
    ))
    .with_status(StatusCode::NOT_FOUND)
    .with_code("NotFound")
}

/// Logs, injects faults, authenticates, and adds the service's response headers.
async fn gate(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(kill): ConnectInfo<KillSwitch>,
    request: Request,
    next: Next,
) -> Response {
    let at = Instant::now();
    let time = SystemTime::now();
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let query = request.uri().query().map(str::to_string);
    let mut headers: BTreeMap<String, String> = LOGGED_HEADERS
        .iter()
        .filter_map(|h| {
            request
                .headers()
                .get(*h)
                .and_then(|v| v.to_str().ok())
                .map(|v| ((*h).to_string(), v.to_string()))
        })
        .collect();
    let authorized_header = request.headers().contains_key("authorization");
    let request_id = request.headers().get("x-ms-client-request-id").cloned();

    let fault = RouteClass::of_path(&path).and_then(|class| shared.faults.take(class));
    let mut response = match fault {
        Some(FaultKind::Reset) => {
            kill.0.store(true, Ordering::SeqCst);
            tracing::debug!(%path, "fault: resetting the connection");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Some(FaultKind::Throttle { retry_after_secs }) => ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "TooManyRequests".into(),
            type_name: "Kusto.DataNode.Exceptions.ThrottleException".into(),
            message: "The request was denied due to throttling (injected fault).".into(),
            permanent: false,
            retry_after: Some(retry_after_secs),
        }
        .into_response(),
        Some(FaultKind::Status(code)) => ApiError {
            status: StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            code: "ServiceUnavailable".into(),
            type_name: "Kusto.Common.Svc.Exceptions.ServiceUnavailableException".into(),
            message: format!("Injected fault: status {code}."),
            permanent: false,
            retry_after: None,
        }
        .into_response(),
        Some(FaultKind::Delay(d)) => {
            tokio::time::sleep(d).await;
            serve_checked(&shared, request, next).await
        }
        None => serve_checked(&shared, request, next).await,
    };
    let response_headers = response.headers_mut();
    response_headers.insert(
        "x-ms-activity-id",
        HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
            .unwrap_or(HeaderValue::from_static("0")),
    );
    if let Some(id) = request_id {
        response_headers.insert("x-ms-client-request-id", id);
    }
    if let Some(v) = response_headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
    {
        headers.insert("retry-after".into(), v.to_string());
    }
    let status = if kill.0.load(Ordering::SeqCst) {
        0
    } else {
        response.status().as_u16()
    };
    shared.log.push(LoggedRequest {
        method,
        path,
        query,
        at,
        time,
        status,
        authorized_header,
        headers,
    });
    response
}

async fn serve_checked(shared: &Shared, request: Request, next: Next) -> Response {
    if request.uri().path() != "/v1/rest/auth/metadata" {
        if let Err(e) = super::auth::check(shared, request.headers()) {
            return e.into_response();
        }
    }
    next.run(request).await
}

/// Per-connection switch: once set, the connection fails all I/O and closes unanswered.
#[derive(Debug, Clone)]
struct KillSwitch(Arc<AtomicBool>);

/// A TCP connection that can be cut by its [`KillSwitch`].
struct KillableStream {
    inner: TcpStream,
    kill: KillSwitch,
}

impl KillableStream {
    fn killed(&self) -> bool {
        let killed = self.kill.0.load(Ordering::SeqCst);
        if killed {
            // Answer with RST rather than FIN, like a dropped backend.
            let _ = self.inner.set_zero_linger();
        }
        killed
    }
}

fn reset() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "connection reset by fault injection",
    )
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(reset()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.killed() {
            return Poll::Ready(Err(reset()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(reset()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A TCP listener handing out [`KillableStream`]s.
struct KillableListener(TcpListener);

impl axum::serve::Listener for KillableListener {
    type Io = KillableStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((inner, addr)) => {
                    let _ = inner.set_nodelay(true);
                    return (
                        KillableStream {
                            inner,
                            kill: KillSwitch(Arc::new(AtomicBool::new(false))),
                        },
                        addr,
                    );
                }
                Err(e) => {
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

impl Connected<axum::serve::IncomingStream<'_, KillableListener>> for KillSwitch {
    fn connect_info(stream: axum::serve::IncomingStream<'_, KillableListener>) -> Self {
        stream.io().kill.clone()
    }
}
