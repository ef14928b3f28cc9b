//! `iotc-adx healthcheck`: asks a running instance's `/readyz` (or any URL) and exits 0 when it
//! answers 200, so that container images without curl can have a health check.

use anyhow::Context;
use std::process::ExitCode;
use std::time::Duration;

/// How long the whole check may take.
const TIMEOUT: Duration = Duration::from_secs(5);

pub fn healthcheck(url: &str) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let answer = runtime.block_on(async {
        let client = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        let response = client.get(url).send().await?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        Ok::<_, reqwest::Error>((status, body))
    });
    match answer {
        Ok((status, body)) if status.is_success() => {
            println!("{url}: {status} {}", body.trim());
            Ok(ExitCode::SUCCESS)
        }
        Ok((status, body)) => {
            eprintln!("{url}: {status} {}", body.trim());
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("{url}: no answer: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
