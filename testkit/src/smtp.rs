//! A real SMTP server for tests: Python's `aiosmtpd` (from the testkit's venv), started on a
//! free port, with STARTTLS or TLS (a certificate for `127.0.0.1` signed by a throw-away CA
//! the test trusts), AUTH when a login is given, and transient `451` answers to the first
//! messages when asked. Every accepted message is kept as received, with its envelope.

use crate::identity::{certificates, TestCertificates, TlsError};
use crate::python::{python, PythonError};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SCRIPT: &str = include_str!("smtp_server.py");

/// How the server secures connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpTls {
    /// Plain SMTP.
    #[default]
    None,
    /// Plain, and STARTTLS is required before mail.
    StartTls,
    /// TLS from the first byte.
    Implicit,
}

/// What the server requires and does.
#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    /// TLS mode.
    pub tls: SmtpTls,
    /// The user name and password AUTH must present (none: no AUTH).
    pub login: Option<(String, String)>,
    /// Messages answered `451` before the server accepts any.
    pub fail_first: u32,
    /// The port on 127.0.0.1 (none: a free one).
    pub port: Option<u16>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// The Python venv is not there.
    #[error(transparent)]
    Python(#[from] PythonError),
    /// Certificates could not be made.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// Files or the process failed.
    #[error("the SMTP server could not start: {0}")]
    Io(#[from] std::io::Error),
    /// It did not say it was ready.
    #[error("the SMTP server did not start: {0}")]
    NotReady(String),
}

/// One accepted message.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// `MAIL FROM`.
    pub mail_from: String,
    /// `RCPT TO`s.
    pub rcpt_tos: Vec<String>,
    /// The AUTH login used, if any.
    pub login: Option<String>,
    /// The message as received (headers and MIME body).
    pub data: Vec<u8>,
}

/// A running server; stopped when dropped.
pub struct SmtpServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    certs: Option<TestCertificates>,
}

impl SmtpServer {
    /// Starts a server with `opts` (blocks until it listens).
    pub fn start(opts: SmtpOptions) -> Result<Self, SmtpError> {
        let dir = tempfile::tempdir()?;
        let script = dir.path().join("smtp_server.py");
        std::fs::write(&script, SCRIPT)?;
        let mail = dir.path().join("mail");
        std::fs::create_dir(&mail)?;
        let port = match opts.port {
            Some(p) => p,
            None => std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port(),
        };
        let mut cmd = Command::new(python()?);
        cmd.arg(&script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--dir")
            .arg(&mail)
            .arg("--fail-first")
            .arg(opts.fail_first.to_string());
        let certs = match opts.tls {
            SmtpTls::None => None,
            tls => {
                let certs = certificates()?;
                let cert = dir.path().join("cert.pem");
                let key = dir.path().join("key.pem");
                std::fs::write(&cert, &certs.cert_pem)?;
                std::fs::write(&key, &certs.key_pem)?;
                let mode = if tls == SmtpTls::StartTls {
                    "starttls"
                } else {
                    "implicit"
                };
                cmd.arg("--tls")
                    .arg(mode)
                    .arg("--cert")
                    .arg(cert)
                    .arg("--key")
                    .arg(key);
                Some(certs)
            }
        };
        if let Some((user, password)) = &opts.login {
            cmd.arg("--user").arg(user).arg("--password").arg(password);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| SmtpError::NotReady("no stdout".into()))?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        if !line.starts_with("READY") {
            let _ = child.kill();
            return Err(SmtpError::NotReady(format!("it printed {line:?}")));
        }
        Ok(SmtpServer {
            child,
            port,
            dir,
            certs,
        })
    }

    /// The port it listens on (at 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The CA certificate (PEM) its TLS certificate chains to, when it serves TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.certs.as_ref().map(|c| c.ca_pem.as_str())
    }

    /// Every message accepted so far, in order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let mail = self.dir.path().join("mail");
        let mut stems: Vec<PathBuf> = std::fs::read_dir(&mail)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        stems.sort();
        stems
            .iter()
            .filter_map(|json| {
                let envelope: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(json).ok()?).ok()?;
                Some(ReceivedMail {
                    mail_from: envelope["mail_from"].as_str()?.to_string(),
                    rcpt_tos: envelope["rcpt_tos"]
                        .as_array()?
                        .iter()
                        .filter_map(|r| r.as_str().map(str::to_string))
                        .collect(),
                    login: envelope["login"].as_str().map(str::to_string),
                    data: std::fs::read(json.with_extension("eml")).ok()?,
                })
            })
            .collect()
    }

    /// Waits until `n` messages have arrived (or `timeout` passed) and returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let until = Instant::now() + timeout;
        loop {
            let got = self.messages();
            if got.len() >= n || Instant::now() >= until {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl ReceivedMail {
    /// A few lines for a person: sender, recipients, subject and the MIME parts' types.
    pub fn summary(&self) -> String {
        let text = String::from_utf8_lossy(&self.data);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let header = |name: &str| {
            head.lines()
                .find(|l| {
                    l.len() > name.len()
                        && l[..name.len()].eq_ignore_ascii_case(name)
                        && l[name.len()..].starts_with(':')
                })
                .map(|l| l[name.len() + 1..].trim().to_string())
                .unwrap_or_default()
        };
        let parts: Vec<&str> = body
            .lines()
            .filter_map(|l| l.strip_prefix("Content-Type: "))
            .map(|t| t.split(';').next().unwrap_or(t))
            .collect();
        format!(
            "from {} to {}\nsubject: {}\nparts: {}\n",
            self.mail_from,
            self.rcpt_tos.join(", "),
            header("Subject"),
            parts.join(", ")
        )
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
