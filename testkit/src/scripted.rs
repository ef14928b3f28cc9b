//! A scripted HTTP server on loopback, for unit tests of HTTP clients: it answers each request
//! (one per connection) as a closure says, and keeps what it saw. For tests that need exact
//! control of statuses and headers (Retry-After, error codes) that no emulator gives on cue.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A request as the server saw it: request line and lowercased headers.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `METHOD /path?query HTTP/1.1`.
    pub line: String,
    /// Header names lowercased, values trimmed, in order.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An answer: status, extra headers, body.
pub type Reply = (u16, Vec<(&'static str, String)>, String);

/// Every request seen so far, in order.
pub type Log = Arc<Mutex<Vec<Seen>>>;

/// Serves one request per connection with `answer` (given the request and its number, from
/// 1); returns the base URL (`http://127.0.0.1:PORT`) and the log.
///
/// # Panics
/// When no loopback port can be bound (a test set-up failure).
pub async fn serve(
    answer: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static,
) -> (String, Log) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    let log: Log = Arc::default();
    let server_log = log.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = read_head(&mut socket).await;
            let n = {
                let mut log = server_log.lock().unwrap_or_else(|p| p.into_inner());
                log.push(seen.clone());
                log.len()
            };
            let (status, headers, body) = answer(&seen, n);
            let mut out = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            let _ = socket.write_all(out.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    (base, log)
}

/// Reads a request's line and headers (the body, if any, is not needed by these tests).
async fn read_head(socket: &mut tokio::net::TcpStream) -> Seen {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buf).to_string();
    let mut lines = text.split("\r\n");
    let line = lines.next().unwrap_or_default().to_string();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Seen { line, headers }
}
