//! Authentication, fault injection and the request log of the Data Explorer emulator.

mod kusto_common;

use iotc_adx_testkit::identity::TokenAuthority;
use iotc_adx_testkit::kusto::{
    AuthMode, Fault, FaultKind, KustoEmulator, KustoOptions, RouteClass,
};
use kusto_common::*;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn bearer_tokens_are_checked() {
    let authority = TokenAuthority::default();
    let k = KustoEmulator::start(KustoOptions {
        auth: AuthMode::Tokens {
            authority: authority.clone(),
            audiences: vec![],
        },
        ..KustoOptions::default()
    })
    .await
    .unwrap();
    let url = k.url();
    let body = json!({"db": "db1", "csl": ".show version"});

    let (s, answer) = post(url, "/v1/rest/mgmt", body.clone(), None).await;
    assert_eq!(s, 401);
    assert_eq!(answer["error"]["code"], "Unauthorized");
    assert!(answer["error"]["@message"]
        .as_str()
        .unwrap()
        .contains("Authorization"));

    let (s, _) = post(url, "/v1/rest/mgmt", body.clone(), Some("garbage")).await;
    assert_eq!(s, 401);
    let (other, _) = authority.issue(
        "https://kusto.example/.default",
        "app",
        Duration::from_secs(60),
    );
    let (s, answer) = post(
        url,
        "/v2/rest/query",
        json!({"db":"db1","csl":"T"}),
        Some(&other),
    )
    .await;
    assert_eq!(s, 401);
    assert!(answer["error"]["@message"]
        .as_str()
        .unwrap()
        .contains("audience"));
    let (forged, _) =
        TokenAuthority::default().issue(&format!("{url}/.default"), "app", Duration::from_secs(60));
    assert_eq!(
        post(url, "/v1/rest/mgmt", body.clone(), Some(&forged))
            .await
            .0,
        401
    );

    let (good, _) = authority.issue(&format!("{url}/.default"), "app", Duration::from_secs(60));
    let (s, answer) = post(url, "/v1/rest/mgmt", body.clone(), Some(&good)).await;
    assert_eq!(s, 200, "{answer}");
    let ingest = client()
        .post(format!("{url}/v1/rest/ingest/db1/T?streamFormat=csv"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(ingest.status().as_u16(), 401);

    let (short, _) = authority.issue(url, "app", Duration::from_secs(1));
    assert_eq!(
        post(url, "/v1/rest/mgmt", body.clone(), Some(&short))
            .await
            .0,
        200
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (s, answer) = post(url, "/v1/rest/mgmt", body, Some(&short)).await;
    assert_eq!(s, 401);
    assert!(
        answer["error"]["@message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{answer}"
    );

    // A configured resource id is the audience instead.
    let k2 = KustoEmulator::start(KustoOptions {
        auth: AuthMode::Tokens {
            authority: authority.clone(),
            audiences: vec!["https://mycluster.kusto.windows.net".into()],
        },
        ..KustoOptions::default()
    })
    .await
    .unwrap();
    let (t, _) = authority.issue(
        "https://mycluster.kusto.windows.net/.default",
        "app",
        Duration::from_secs(60),
    );
    assert_eq!(
        post(
            k2.url(),
            "/v1/rest/mgmt",
            json!({"db":"db1","csl":".show version"}),
            Some(&t)
        )
        .await
        .0,
        200
    );
    assert_eq!(
        post(
            k2.url(),
            "/v1/rest/mgmt",
            json!({"db":"db1","csl":".show version"}),
            Some(&good)
        )
        .await
        .0,
        401
    );
}

#[tokio::test]
async fn faults_are_injected_and_logged() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    let url = k.url();
    mgmt(url, "db1", ".create table T (a:string)").await;
    mgmt(
        url,
        "db1",
        ".alter table T policy streamingingestion enable",
    )
    .await;

    // Throttling: two 429s with Retry-After on queries only, then normal answers.
    k.inject(Fault {
        class: RouteClass::Query,
        kind: FaultKind::Throttle {
            retry_after_secs: 7,
        },
        count: 2,
    });
    for _ in 0..2 {
        let response = client()
            .post(format!("{url}/v2/rest/query"))
            .json(&json!({"db":"db1","csl":"T"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 429);
        assert_eq!(response.headers()["retry-after"], "7");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["@permanent"], false);
    }
    assert_eq!(
        mgmt(url, "db1", ".show tables").await.0,
        200,
        "mgmt is not affected"
    );
    assert_eq!(query(url, "db1", "T").await.0, 200);

    // A 5xx on ingestion.
    k.inject(Fault {
        class: RouteClass::Ingest,
        kind: FaultKind::Status(503),
        count: 1,
    });
    assert_eq!(
        ingest(url, "db1", "T", "streamFormat=csv", b"a\n".to_vec())
            .await
            .0,
        503
    );
    assert_eq!(
        ingest(url, "db1", "T", "streamFormat=csv", b"a\n".to_vec())
            .await
            .0,
        200
    );

    // A delay.
    k.inject(Fault {
        class: RouteClass::Mgmt,
        kind: FaultKind::Delay(Duration::from_millis(400)),
        count: 1,
    });
    let started = Instant::now();
    assert_eq!(mgmt(url, "db1", ".show version").await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(400));

    // A reset: the client gets no answer at all, and the log says status 0.
    k.inject(Fault {
        class: RouteClass::Any,
        kind: FaultKind::Reset,
        count: 1,
    });
    let err = client()
        .post(format!("{url}/v1/rest/mgmt"))
        .json(&json!({"db":"db1","csl":".show version"}))
        .send()
        .await;
    assert!(err.is_err(), "{err:?}");
    assert_eq!(mgmt(url, "db1", ".show version").await.0, 200);

    let log = k.requests();
    let statuses: Vec<u16> = log.iter().map(|r| r.status).collect();
    assert_eq!(&statuses[2..], &[429, 429, 200, 200, 503, 200, 200, 0, 200]);
    assert!(log[2].headers.get("retry-after").is_some_and(|v| v == "7"));
    assert_eq!(log[0].client_request_id(), Some("test;1"));
    assert_eq!(log[6].path, "/v1/rest/ingest/db1/T");
    assert_eq!(log[6].query.as_deref(), Some("streamFormat=csv"));
    assert!(log[9].at.duration_since(log[8].at) >= Duration::from_millis(400));
    assert_eq!(k.rows("db1", "T").len(), 1);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let k = KustoEmulator::start(KustoOptions::default()).await.unwrap();
    let url = k.url().to_string();
    assert_eq!(mgmt(&url, "db1", ".show version").await.0, 200);
    k.shutdown().await;
    let fresh = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(fresh
        .post(format!("{url}/v1/rest/mgmt"))
        .json(&json!({"db":"db1","csl":".show version"}))
        .send()
        .await
        .is_err());
}
