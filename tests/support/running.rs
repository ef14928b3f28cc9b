//! The binary running as a service: `iotc-adx run` on standard input, with its log collected,
//! its operations endpoint found in the log, and plain HTTP requests to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running `iotc-adx run --config examples/stdin.toml` writing into a temporary directory.
pub struct Running {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    log: Arc<Mutex<String>>,
    stdout: Option<JoinHandle<String>>,
}

impl Running {
    /// Starts the stdin example with its output under `out` and extra environment `env`.
    pub fn stdin_example(out: &Path, env: &[(&str, &str)]) -> Self {
        let sink = out.display().to_string();
        let dead = out.join("dead-letter").display().to_string();
        let mut all = vec![
            ("IOTC_ADX__SINK__PATH", sink.as_str()),
            ("IOTC_ADX__DEAD_LETTER__PATH", dead.as_str()),
        ];
        all.extend_from_slice(env);
        Self::start(&["run", "--config", "examples/stdin.toml"], &all)
    }

    /// Starts `iotc-adx <args>` from the repository root, its operations endpoint on a free
    /// port, with extra environment `env`.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_iotc-adx"));
        cmd.args(args)
            .current_dir(super::repo())
            .env_remove("RUST_LOG")
            .env("IOTC_ADX__METRICS__LISTEN", "127.0.0.1:0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("the binary starts");
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let log = Arc::new(Mutex::new(String::new()));
        let writer = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                writer.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let stdout = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        Running {
            child,
            stdin,
            log,
            stdout: Some(stdout),
        }
    }

    /// The log so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the log contains `what`; fails the test after `limit`.
    pub fn wait_for(&self, what: &str, limit: Duration) {
        let started = Instant::now();
        while !self.log.lock().unwrap().contains(what) {
            assert!(
                started.elapsed() < limit,
                "no {what:?} in the log within {limit:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The operations endpoint's address, from the JSON log line announcing it.
    pub fn endpoint(&self) -> String {
        self.wait_for("serving /metrics", Duration::from_secs(30));
        let log = self.log();
        let line = log
            .lines()
            .find(|l| l.contains("serving /metrics"))
            .expect("the line");
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON log line");
        v["address"].as_str().expect("an address field").to_string()
    }

    /// Writes `bytes` to the pipeline's standard input.
    pub fn feed(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        assert!(Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success());
    }

    /// Waits at most `limit` for the exit; returns the status and standard output.
    pub fn wait(&mut self, limit: Duration) -> (ExitStatus, String) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!("no exit within {limit:?}; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.stdin = None;
        let stdout = self
            .stdout
            .take()
            .map(|h| h.join().unwrap())
            .unwrap_or_default();
        (status, stdout)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// `GET path` from `address` over plain HTTP/1.1: the status code and the body.
pub fn http_get(address: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("the endpoint accepts connections");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}
