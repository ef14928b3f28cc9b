//! A dead-letter store in a local directory: JSON Lines files named after the time the
//! process started writing them, rolled over past a size limit. Files are created on the first
//! dead letter only, so a clean run leaves nothing behind.

use super::letter::DeadLetter;
use super::store::{DeadLetterError, DeadLetterStore};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// JSON Lines files in a directory.
#[derive(Debug)]
pub struct LocalDirStore {
    dir: PathBuf,
    max_file_bytes: u64,
    current: Option<(PathBuf, BufWriter<File>, u64)>,
    files_opened: u32,
    /// Random, per store: replicas sharing a volume all run as process 1 in their containers,
    /// so the process id alone does not keep their file names apart.
    instance: String,
    /// Letters were written since the last flush.
    dirty: bool,
}

impl LocalDirStore {
    /// A store writing into `dir` (created when needed).
    pub fn new(dir: &Path, max_file_bytes: u64) -> Self {
        LocalDirStore {
            dir: dir.to_path_buf(),
            max_file_bytes,
            current: None,
            files_opened: 0,
            instance: uuid::Uuid::new_v4().simple().to_string()[..8].to_string(),
            dirty: false,
        }
    }

    fn error(&self, path: &Path, source: std::io::Error) -> DeadLetterError {
        DeadLetterError {
            location: path.display().to_string(),
            source,
        }
    }

    fn open_next(&mut self) -> Result<(), DeadLetterError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.error(&self.dir, e))?;
        self.files_opened += 1;
        let name = format!(
            "dead-letter-{}-{}-{}-{:03}.jsonl",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
            std::process::id(),
            self.instance,
            self.files_opened
        );
        let path = self.dir.join(name);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| self.error(&path, e))?;
        self.current = Some((path, BufWriter::new(file), 0));
        Ok(())
    }
}

impl DeadLetterStore for LocalDirStore {
    fn put(&mut self, letter: &DeadLetter) -> Result<(), DeadLetterError> {
        let mut line = serde_json::to_vec(letter).map_err(|e| self.error(&self.dir, e.into()))?;
        line.push(b'\n');
        let full = self
            .current
            .as_ref()
            .is_some_and(|(_, _, n)| *n > 0 && n + line.len() as u64 > self.max_file_bytes);
        if full {
            self.flush()?;
            self.current = None;
        }
        if self.current.is_none() {
            self.open_next()?;
        }
        if let Some((path, writer, written)) = self.current.as_mut() {
            if let Err(e) = writer.write_all(&line) {
                let path = path.clone();
                return Err(self.error(&path, e));
            }
            *written += line.len() as u64;
            self.dirty = true;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DeadLetterError> {
        if !std::mem::take(&mut self.dirty) {
            return Ok(());
        }
        if let Some((path, writer, _)) = self.current.as_mut() {
            let result = writer.flush().and_then(|()| writer.get_ref().sync_data());
            if let Err(e) = result {
                let path = path.clone();
                return Err(self.error(&path, e));
            }
        }
        Ok(())
    }

    fn location(&self) -> String {
        self.dir.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadletter::Stage;
    use crate::event::{EventMeta, SourceEvent};
    use serde_json::{Map, Value};

    fn event(body: &[u8]) -> SourceEvent {
        SourceEvent {
            body: body.to_vec(),
            meta: EventMeta {
                partition: "file".into(),
                sequence_number: 3,
                offset: "120".into(),
                enqueued_time: chrono::Utc::now(),
                partition_key: None,
                properties: Map::new(),
                system_properties: Map::new(),
                origin: Some("in.jsonl:4".into()),
            },
        }
    }

    fn read_all(dir: &Path) -> Vec<Value> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
            .iter()
            .flat_map(|f| {
                std::fs::read_to_string(f)
                    .unwrap()
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn keeps_bodies_exactly_and_rolls_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = LocalDirStore::new(dir.path(), 1024);
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "nothing written before the first letter"
        );
        let text = DeadLetter::new(
            &event(b"{\"oops\""),
            Stage::Decode,
            "invalid_json",
            "not JSON".into(),
            None,
        );
        let binary = DeadLetter::new(
            &event(b"\xff\xfe"),
            Stage::Decode,
            "not_utf8",
            "not UTF-8".into(),
            None,
        );
        for _ in 0..5 {
            store.put(&text).unwrap();
            store.put(&binary).unwrap();
        }
        store.flush().unwrap();
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert!(files > 1, "rolled over into {files} files");
        let letters = read_all(dir.path());
        assert_eq!(letters.len(), 10);
        assert_eq!(letters[0]["body"], "{\"oops\"");
        assert_eq!(letters[0]["stage"], "decode");
        assert_eq!(letters[0]["event"]["origin"], "in.jsonl:4");
        assert_eq!(letters[1]["body_base64"], "//4=");
        assert!(letters[1].get("body").is_none());
    }
}
