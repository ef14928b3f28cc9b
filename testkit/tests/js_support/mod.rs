//! The official JavaScript clients for the tests: installed by `scripts/ensure-js-clients.sh`,
//! run with node.

use std::process::{Command, Output};

/// The node_modules folder holding the clients.
pub fn js_clients() -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/ensure-js-clients.sh");
    let out = Command::new("bash")
        .arg(script)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Runs `tests/js/<script>` with `args` and `env` (plus `NODE_MODULES`), at most 60 s.
pub async fn node(script: &str, args: Vec<String>, env: Vec<(&'static str, String)>) -> Output {
    let modules = tokio::task::spawn_blocking(js_clients).await.unwrap();
    let path = format!("{}/tests/js/{script}", env!("CARGO_MANIFEST_DIR"));
    tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .arg("60")
            .arg("node")
            .arg(path)
            .args(args)
            .env("NODE_MODULES", modules)
            .envs(env)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap()
}

/// Standard output and error, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
