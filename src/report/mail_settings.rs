//! `[reports.smtp]` and `[[report.email]]` as checked settings: the mail server (with its
//! password kept out of logs) and, per e-mail, the recipients, subject, what the body shows,
//! the charts and the attachments.

use iotc_adx_charts::ChartKind;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// How the connection to the mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which the server must offer.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS (a local relay; never across a network).
    None,
}

/// A password: shown as `***` in logs and debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(pub String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `[reports.smtp]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpSettings {
    /// The server's host name.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// STARTTLS, TLS or none.
    pub security: SmtpSecurity,
    /// The user name and password to sign in with.
    pub credentials: Option<(String, Password)>,
    /// The sender, as written (checked to be a mailbox).
    pub from: String,
    /// Extra CA certificates (PEM) the server's certificate may chain to.
    pub ca_pem: Option<Vec<u8>>,
    /// Where they were read from, for messages.
    pub ca_file: Option<PathBuf>,
    /// How long one connection may take.
    pub timeout: Duration,
}

/// The `Importance` an e-mail is marked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Importance {
    /// No header.
    Normal,
    /// `Importance: high`, `X-Priority: 1`.
    High,
    /// `Importance: low`, `X-Priority: 5`.
    Low,
}

/// What the HTML body shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailBody {
    /// The charts when there are any, else the table.
    Auto,
    /// The table.
    Table,
    /// The charts.
    Chart,
    /// The charts, then the table.
    Both,
}

/// What is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachKind {
    /// The whole result as CSV.
    Csv,
    /// Each chart as PNG.
    Png,
    /// Each chart as SVG.
    Svg,
}

/// One `[[report.email]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailSettings {
    /// Recipients (templates).
    pub to: Vec<String>,
    /// Copies (templates).
    pub cc: Vec<String>,
    /// Blind copies (templates).
    pub bcc: Vec<String>,
    /// The subject (a template); None: the message's title.
    pub subject: Option<String>,
    /// The importance.
    pub importance: Importance,
    /// What the body shows.
    pub body: EmailBody,
    /// The charts drawn; empty: the query's `render`, if it is a chart.
    pub charts: Vec<ChartKind>,
    /// The attachments.
    pub attach: Vec<AttachKind>,
    /// Rows shown in the body's table.
    pub max_rows: usize,
    /// A custom HTML body template: (file, its text).
    pub template: Option<(PathBuf, String)>,
    /// Attempts per e-mail.
    pub attempts: u32,
}
