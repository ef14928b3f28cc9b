//! The webhook receiver: records what it gets and answers as scripted, and the `webhook`
//! subcommand prints each request.

use iotc_adx_testkit::webhook::{Reply, WebhookReceiver};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn records_requests_and_answers_as_scripted() {
    let hook = WebhookReceiver::start().await.unwrap();
    hook.script("/a", vec![Reply::throttle(7), Reply::status(503)]);
    hook.answer("/slack", Reply::slack());
    let http = reqwest::Client::new();
    let post = |path: &str, body: &'static str| {
        http.post(format!("{}{path}?k=1", hook.url()))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let first = post("/a", r#"{"n":1}"#).await.unwrap();
    assert_eq!(first.status().as_u16(), 429);
    assert_eq!(first.headers()["retry-after"], "7");
    assert_eq!(post("/a", "{}").await.unwrap().status().as_u16(), 503);
    assert_eq!(post("/a", "not json").await.unwrap().status().as_u16(), 200);
    let slack = post("/slack", "{}").await.unwrap();
    assert_eq!(slack.text().await.unwrap(), "ok");
    assert!(hook.wait_for(4, Duration::from_secs(5)).await);
    let got = hook.received();
    assert_eq!(got[0].path, "/a");
    assert_eq!(got[0].query.as_deref(), Some("k=1"));
    assert_eq!(got[0].json.as_ref().unwrap()["n"], 1);
    assert_eq!(got[0].status, 429);
    assert!(got[2].json.is_none());
    assert_eq!(&got[2].body[..], b"not json");
    assert!(got[3]
        .headers
        .iter()
        .any(|(k, v)| k == "content-type" && v == "application/json"));
    assert!(!hook.wait_for(5, Duration::from_millis(100)).await);
}

#[tokio::test]
async fn the_subcommand_prints_what_it_gets() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_iotc-adx-testkit"))
        .args(["webhook", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let printed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = printed.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let started = Instant::now();
    let response = loop {
        match reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/alerts"))
            .body(r#"{"kind":"firing","alert_key":"dev-7"}"#)
            .send()
            .await
        {
            Ok(r) => break r,
            Err(e) => {
                assert!(started.elapsed() < Duration::from_secs(10), "{e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert_eq!(response.status().as_u16(), 200);
    while !printed.lock().unwrap().contains("dev-7") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}",
            printed.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = printed.lock().unwrap().clone();
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.contains("POST /alerts"), "{text}");
    assert!(text.contains("\"kind\": \"firing\""), "pretty JSON: {text}");
}
