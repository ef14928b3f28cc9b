//! The local file sink: writes each batch as the multijson payload an ingestion request
//! would carry, one file per batch under `<dir>/<destination>/`, optionally gzipped. It lets
//! a user see exactly what would reach Data Explorer without an Azure account.

pub mod settings;

use super::contract::{Delivery, DeliveryFuture, Outcome, Sink, SinkError};
use crate::batch::Batch;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes batches to files.
#[derive(Debug)]
pub struct FileSink {
    dirs: Vec<PathBuf>,
    gzip: bool,
    run: String,
    written: AtomicU64,
}

impl FileSink {
    /// A sink writing under `dir`, one sub-directory per destination name (created on the
    /// first batch). File names start with the run's start time, so runs never overwrite.
    pub fn new(dir: &Path, destinations: &[String], gzip: bool) -> Self {
        FileSink {
            dirs: destinations.iter().map(|d| dir.join(d)).collect(),
            gzip,
            run: chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string(),
            written: AtomicU64::new(0),
        }
    }
}

impl Sink for FileSink {
    fn deliver(&self, batch: Batch) -> DeliveryFuture {
        let dir = self.dirs.get(batch.destination).cloned();
        let number = self.written.fetch_add(1, Ordering::Relaxed) + 1;
        let extension = if self.gzip {
            "multijson.gz"
        } else {
            "multijson"
        };
        let name = format!("{}-{:06}.{extension}", self.run, number);
        let gz = self.gzip;
        Box::pin(async move {
            let Some(dir) = dir else {
                return Err(SinkError::Io {
                    path: format!("destination #{}", batch.destination),
                    source: std::io::Error::other("batch for an unknown destination"),
                });
            };
            let io = |path: &Path| {
                let path = path.display().to_string();
                move |source| SinkError::Io { path, source }
            };
            tokio::fs::create_dir_all(&dir).await.map_err(io(&dir))?;
            let path = dir.join(name);
            let body = if gz {
                super::gzip::gzip(&batch.payload).map_err(io(&path))?
            } else {
                batch.payload
            };
            tokio::fs::write(&path, &body).await.map_err(io(&path))?;
            Ok(Outcome::Accepted(Delivery {
                target: path.display().to_string(),
                bytes: body.len() as u64,
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    #[tokio::test]
    async fn writes_plain_and_gzipped_payloads() {
        let dir = tempfile::tempdir().unwrap();
        for gz in [false, true] {
            let sink = FileSink::new(dir.path(), &["a".into(), "b".into()], gz);
            let batch = Batch {
                destination: 1,
                payload: b"{\"x\":1}\n".to_vec(),
                rows: 1,
                tickets: Vec::new(),
                origin: Vec::new(),
            };
            let Outcome::Accepted(d) = sink.deliver(batch).await.unwrap() else {
                panic!("rejected")
            };
            let bytes = std::fs::read(&d.target).unwrap();
            let text = if gz {
                assert!(d.target.ends_with(".multijson.gz"));
                let mut s = String::new();
                GzDecoder::new(&bytes[..]).read_to_string(&mut s).unwrap();
                s
            } else {
                String::from_utf8(bytes).unwrap()
            };
            assert_eq!(text, "{\"x\":1}\n");
            assert!(d.target.contains("/b/"));
        }
    }
}
