//! The official Python Azure SDKs, in a virtual environment the testkit creates on first use
//! (`scripts/ensure-python.sh`): independent clients that prove the stand-ins speak the real
//! protocols, since our Rust client and the Rust SDK could share a misunderstanding.

use std::path::PathBuf;
use std::process::Command;

/// Why Python could not be prepared.
#[derive(Debug, thiserror::Error)]
#[error("cannot prepare the Python environment: {0}")]
pub struct PythonError(pub String);

/// The path of the venv's `python`, creating the venv when needed.
pub fn python() -> Result<PathBuf, PythonError> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/ensure-python.sh");
    let out = Command::new("bash")
        .arg(script)
        .output()
        .map_err(|e| PythonError(format!("{script}: {e}")))?;
    if !out.status.success() {
        return Err(PythonError(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}
