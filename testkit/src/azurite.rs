//! Azurite, the Azure Storage emulator (from the npm registry): installed on first use by
//! `scripts/ensure-azurite.sh`, started on free loopback ports with in-memory storage, and
//! killed when the handle drops. Blob and queue storage back the checkpoint store and queued
//! ingestion.
//!
//! Every URL handed out carries an account SAS signed with the emulator's well-known
//! development key: the Azure clients refuse credentials over plain HTTP, but accept a SAS URL.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The emulator's account name.
pub const ACCOUNT: &str = "devstoreaccount1";
/// The emulator's well-known account key (public, documented by Microsoft).
pub const ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const SAS_VERSION: &str = "2019-12-12";

/// Why Azurite could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AzuriteError {
    /// Installing or starting it failed.
    #[error("cannot start Azurite: {0}")]
    Start(String),
    /// A storage request failed.
    #[error("Azurite request {what} failed: {message}")]
    Request {
        /// What was asked.
        what: String,
        /// The answer.
        message: String,
    },
}

/// A running Azurite; stops on drop.
#[derive(Debug)]
pub struct Azurite {
    child: Child,
    blob: SocketAddr,
    queue: SocketAddr,
    table: SocketAddr,
    _data: tempfile::TempDir,
}

fn free_port() -> Result<SocketAddr, AzuriteError> {
    let l = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| AzuriteError::Start(format!("no free port: {e}")))?;
    l.local_addr()
        .map_err(|e| AzuriteError::Start(e.to_string()))
}

impl Azurite {
    /// Installs Azurite when missing, starts it, and waits until blob and queue services
    /// accept connections.
    pub fn start() -> Result<Azurite, AzuriteError> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/ensure-azurite.sh");
        let out = Command::new("bash")
            .arg(script)
            .output()
            .map_err(|e| AzuriteError::Start(format!("{script}: {e}")))?;
        if !out.status.success() {
            return Err(AzuriteError::Start(
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ));
        }
        let bin = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let data = tempfile::tempdir().map_err(|e| AzuriteError::Start(e.to_string()))?;
        let (blob, queue, table) = (free_port()?, free_port()?, free_port()?);
        let child = Command::new(&bin)
            .args([
                "--inMemoryPersistence",
                "--skipApiVersionCheck",
                "--loose",
                "--disableTelemetry",
                "--silent",
            ])
            .args([
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                &blob.port().to_string(),
            ])
            .args([
                "--queueHost",
                "127.0.0.1",
                "--queuePort",
                &queue.port().to_string(),
            ])
            .args([
                "--tableHost",
                "127.0.0.1",
                "--tablePort",
                &table.port().to_string(),
            ])
            // In-memory storage; the debug log still needs a directory of its own.
            .current_dir(data.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| AzuriteError::Start(format!("{bin}: {e}")))?;
        let mut azurite = Azurite {
            child,
            blob,
            queue,
            table,
            _data: data,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(blob).is_err() || TcpStream::connect(queue).is_err() {
            if let Ok(Some(status)) = azurite.child.try_wait() {
                return Err(AzuriteError::Start(format!("azurite exited with {status}")));
            }
            if Instant::now() > deadline {
                return Err(AzuriteError::Start(
                    "azurite did not listen within 30 s".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(azurite)
    }

    /// `http://127.0.0.1:<port>/devstoreaccount1`, the blob service endpoint.
    pub fn blob_endpoint(&self) -> String {
        format!("http://{}/{ACCOUNT}", self.blob)
    }

    /// The queue service endpoint.
    pub fn queue_endpoint(&self) -> String {
        format!("http://{}/{ACCOUNT}", self.queue)
    }

    /// The table service endpoint.
    pub fn table_endpoint(&self) -> String {
        format!("http://{}/{ACCOUNT}", self.table)
    }

    /// An account SAS query string (no leading `?`) for blob, queue and table services, all
    /// resource types and permissions, valid until `expiry`.
    pub fn account_sas(&self, expiry: chrono::DateTime<chrono::Utc>) -> String {
        account_sas(expiry)
    }

    /// Creates a blob container (idempotent).
    pub async fn create_container(&self, name: &str) -> Result<(), AzuriteError> {
        let url = format!(
            "{}/{name}?restype=container&{}",
            self.blob_endpoint(),
            self.long_sas()
        );
        self.put(&url, &format!("create container {name}")).await
    }

    /// Creates a queue (idempotent).
    pub async fn create_queue(&self, name: &str) -> Result<(), AzuriteError> {
        let url = format!("{}/{name}?{}", self.queue_endpoint(), self.long_sas());
        self.put(&url, &format!("create queue {name}")).await
    }

    fn long_sas(&self) -> String {
        self.account_sas(chrono::Utc::now() + chrono::Duration::days(2))
    }

    async fn put(&self, url: &str, what: &str) -> Result<(), AzuriteError> {
        let response = reqwest::Client::new()
            .put(url)
            .header("x-ms-version", "2021-08-06")
            .header("content-length", "0")
            .send()
            .await
            .map_err(|e| AzuriteError::Request {
                what: what.into(),
                message: e.to_string(),
            })?;
        let status = response.status();
        // 201 created, 204 queue exists with the same metadata, 409 container exists.
        if status.is_success() || status.as_u16() == 409 {
            Ok(())
        } else {
            let body = response.text().await.unwrap_or_default();
            Err(AzuriteError::Request {
                what: what.into(),
                message: format!("{status}: {body}"),
            })
        }
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An account SAS for the development account, valid until `expiry`.
pub fn account_sas(expiry: chrono::DateTime<chrono::Utc>) -> String {
    let (permissions, services, resource_types, protocol) =
        ("rwdlacup", "bqt", "sco", "https,http");
    let expiry = expiry.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    // Account SAS string-to-sign for service versions 2015-04-05 up to 2020-12-06.
    let to_sign = format!("{ACCOUNT}\n{permissions}\n{services}\n{resource_types}\n\n{expiry}\n\n{protocol}\n{SAS_VERSION}\n");
    let key = STANDARD.decode(ACCOUNT_KEY).unwrap_or_default();
    let signature = match Hmac::<Sha256>::new_from_slice(&key) {
        Ok(mut mac) => {
            mac.update(to_sign.as_bytes());
            STANDARD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    format!(
        "sv={SAS_VERSION}&ss={services}&srt={resource_types}&sp={permissions}&se={}&spr={}&sig={}",
        encode(&expiry),
        encode(protocol),
        encode(&signature)
    )
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
