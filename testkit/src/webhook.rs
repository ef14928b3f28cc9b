//! A webhook receiver: a real HTTP server on 127.0.0.1 that accepts POSTs on any path, records
//! each request (path, query, headers, body, the body as JSON when it is), and answers as
//! scripted per path: 200 by default, or a queue of replies such as 429 with `Retry-After`,
//! 500, a delay, or Slack's `ok` / Teams' `1`, so tests prove retries and `Retry-After`.
//! `iotc-adx-testkit webhook` runs one that prints what it gets, for people trying reports.

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// When it arrived.
    pub at: chrono::DateTime<chrono::Utc>,
    /// `POST`, ...
    pub method: String,
    /// The path, such as `/alerts`.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body as sent.
    pub body: Bytes,
    /// The body parsed, when it is JSON.
    pub json: Option<Value>,
    /// The status answered.
    pub status: u16,
}

/// A scripted answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status.
    pub status: u16,
    /// A `Retry-After` header, in seconds.
    pub retry_after: Option<u64>,
    /// The body.
    pub body: String,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Reply {
    /// 200 with an empty body.
    pub fn ok() -> Self {
        Reply::status(200)
    }

    /// This status with a short body.
    pub fn status(status: u16) -> Self {
        Reply {
            status,
            retry_after: None,
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    /// 429 with `Retry-After: seconds`.
    pub fn throttle(seconds: u64) -> Self {
        Reply {
            retry_after: Some(seconds),
            body: "rate limited".into(),
            ..Reply::status(429)
        }
    }

    /// 200 after `delay`.
    pub fn delayed(delay: Duration) -> Self {
        Reply {
            delay,
            ..Reply::ok()
        }
    }

    /// 200 `ok`, as Slack's incoming webhooks answer.
    pub fn slack() -> Self {
        Reply {
            body: "ok".into(),
            ..Reply::ok()
        }
    }

    /// 200 `1`, as Teams' incoming webhooks answer.
    pub fn teams() -> Self {
        Reply {
            body: "1".into(),
            ..Reply::ok()
        }
    }
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    scripts: HashMap<String, VecDeque<Reply>>,
    defaults: HashMap<String, Reply>,
    print: bool,
}

type Shared = Arc<Mutex<Inner>>;

/// A running receiver; stops when dropped.
pub struct WebhookReceiver {
    addr: SocketAddr,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    /// Starts a receiver on a free port.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on(0, false).await
    }

    /// Starts a receiver on `port` (0: a free one); `print` writes each request to stdout.
    pub async fn start_on(port: u16, print: bool) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let shared: Shared = Arc::new(Mutex::new(Inner {
            print,
            ..Inner::default()
        }));
        let app = Router::new().fallback(receive).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(WebhookReceiver { addr, shared, task })
    }

    /// `http://127.0.0.1:PORT`, to which paths are appended.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// Answers the next requests to `path` with `replies`, in order; then the default.
    pub fn script(&self, path: &str, replies: Vec<Reply>) {
        self.lock()
            .scripts
            .entry(path.to_string())
            .or_default()
            .extend(replies);
    }

    /// Answers every unscripted request to `path` with `reply`.
    pub fn answer(&self, path: &str, reply: Reply) {
        self.lock().defaults.insert(path.to_string(), reply);
    }

    /// Waits until at least `n` requests arrived; false after `limit`.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> bool {
        let started = tokio::time::Instant::now();
        while self.lock().received.len() < n {
            if started.elapsed() > limit {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(shared): State<Shared>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let reply = {
        let mut inner = shared.lock().unwrap_or_else(|p| p.into_inner());
        let scripted = inner.scripts.get_mut(&path).and_then(VecDeque::pop_front);
        let reply = scripted
            .or_else(|| inner.defaults.get(&path).cloned())
            .unwrap_or_else(Reply::ok);
        let received = Received {
            at: chrono::Utc::now(),
            method: method.to_string(),
            path,
            query: uri.query().map(str::to_string),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
                .collect(),
            json: serde_json::from_slice(&body).ok(),
            body,
            status: reply.status,
        };
        if inner.print {
            print_request(&received);
        }
        inner.received.push(received);
        reply
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, reply.body).into_response();
    if let Some(s) = reply.retry_after {
        if let Ok(v) = s.to_string().parse() {
            response.headers_mut().insert("retry-after", v);
        }
    }
    response
}

/// `POST /alerts 2026-12-03T10:00:00Z` then the body, pretty when it is JSON.
fn print_request(r: &Received) {
    let query = r
        .query
        .as_deref()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    println!(
        "{} {}{query} {} ({} bytes)",
        r.method,
        r.path,
        r.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        r.body.len()
    );
    match &r.json {
        Some(v) => println!(
            "{}",
            serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
        ),
        None => println!("{}", String::from_utf8_lossy(&r.body)),
    }
    println!();
}
