//! The storage client against a scripted HTTP server on loopback: what goes out (headers, the
//! SAS, preconditions, metadata), how many attempts a failure gets, and what an error shows.

use iotc_adx_storage::{
    ClientOptions, Condition, QueueMessage, StorageAuth, StorageClient, StorageError,
};
use std::time::Duration;

use iotc_adx_testkit::scripted::{serve, Reply, Seen};

fn client(attempts: u32) -> StorageClient {
    let options = ClientOptions {
        attempts,
        request_id_prefix: Some("iotc-adx"),
        ..ClientOptions::default()
    };
    StorageClient::new(StorageAuth::Sas, None, options).unwrap()
}

fn busy(_: &Seen, n: usize) -> Reply {
    if n < 3 {
        let headers = vec![
            ("x-ms-error-code", "ServerBusy".to_string()),
            ("retry-after", "0".to_string()),
        ];
        (503, headers, String::new())
    } else {
        (201, vec![("etag", "\"0x2\"".into())], String::new())
    }
}

#[tokio::test]
async fn transient_failures_are_retried_up_to_the_attempts_asked_for() {
    let (base, log) = serve(busy).await;
    let c = client(3);
    let container = c
        .resource(url::Url::parse(&format!("{base}/acct/c?sv=1&sig=SECRET")).unwrap())
        .unwrap();
    let written = c
        .put_blob(
            "write",
            &container,
            "a/b",
            None,
            &[("owner", "me")],
            &Condition::IfMatch("0x1".into()),
        )
        .await
        .unwrap();
    assert_eq!(written.etag.as_deref(), Some("\"0x2\""));
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 3, "two 503s, then success");
    let first = &log[0];
    assert!(
        first.line.starts_with("PUT /acct/c/a/b?sv=1&sig=SECRET "),
        "{}",
        first.line
    );
    assert_eq!(first.header("x-ms-version"), Some("2023-11-03"));
    assert!(first
        .header("x-ms-date")
        .is_some_and(|d| d.ends_with("GMT")));
    assert_eq!(first.header("if-match"), Some("\"0x1\""));
    assert_eq!(first.header("x-ms-meta-owner"), Some("me"));
    assert_eq!(first.header("content-length"), Some("0"));
    let ids: Vec<_> = log
        .iter()
        .map(|s| s.header("x-ms-client-request-id").unwrap().to_string())
        .collect();
    assert!(ids[0].starts_with("iotc-adx.write;"), "{}", ids[0]);
    assert!(ids[0] != ids[1], "a fresh id per attempt");
}

#[tokio::test]
async fn one_attempt_means_one_request_and_the_error_keeps_the_answer() {
    let (base, log) = serve(busy).await;
    let c = client(1);
    let queue = c
        .resource(url::Url::parse(&format!("{base}/acct/q?sig=SECRET")).unwrap())
        .unwrap();
    let e = c
        .put_message("queue message post", &queue, "aGk=")
        .await
        .unwrap_err();
    assert_eq!(log.lock().unwrap().len(), 1);
    assert!(e.is_transient());
    assert_eq!((e.status(), e.code()), (Some(503), Some("ServerBusy")));
    assert_eq!(e.retry_after(), Some(Duration::ZERO));
    let text = e.to_string();
    assert_eq!(
        text,
        format!("cannot queue message post {base}/acct/q/messages: HTTP 503 ServerBusy")
    );
    let call = e.call().unwrap();
    assert_eq!(call.method, "POST");
    assert!(!format!("{e:?}").contains("SECRET"));
}

#[tokio::test]
async fn permanent_failures_and_lost_connections_show_no_sas() {
    let (base, log) = serve(|_, _| {
        (
            403,
            vec![],
            "<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code><Message>Signature did not match.\nRequestId:1</Message></Error>".into(),
        )
    })
    .await;
    let c = client(3);
    let container = c
        .resource(url::Url::parse(&format!("{base}/acct/c?sig=SECRET")).unwrap())
        .unwrap();
    let e = c.get_blob("blob read", &container, "x").await.unwrap_err();
    assert_eq!(log.lock().unwrap().len(), 1, "a 403 is not retried");
    assert!(
        matches!(&e, StorageError::Status { status: 403, code: Some(c), message: Some(m), .. }
            if c == "AuthenticationFailed" && m == "Signature did not match."),
        "{e:?}"
    );

    let gone = c
        .resource(url::Url::parse("http://127.0.0.1:9/acct/c?sig=SECRET").unwrap())
        .unwrap();
    let e = c
        .get_messages("queue message read", &gone, 4, Duration::from_secs(30))
        .await;
    let e = e.unwrap_err();
    assert!(matches!(e, StorageError::Transport { .. }), "{e}");
    assert!(
        !e.to_string().contains("SECRET") && !format!("{e:?}").contains("SECRET"),
        "{e:?}"
    );
}

#[tokio::test]
async fn listings_follow_markers_and_queues_hand_receipts_back() {
    let (base, log) = serve(|seen, _| {
        if seen.line.contains("comp=list") {
            let (names, next) = if seen.line.contains("marker=m1") {
                ("<Blob><Name>p/2</Name></Blob>", "")
            } else {
                ("<Blob><Name>p/1</Name><Metadata><k>v</k></Metadata></Blob>", "m1")
            };
            let body = format!("<EnumerationResults><Blobs>{names}</Blobs><NextMarker>{next}</NextMarker></EnumerationResults>");
            (200, vec![], body)
        } else {
            (204, vec![("x-ms-popreceipt", "new".into())], String::new())
        }
    })
    .await;
    let c = client(1);
    let container = c
        .resource(url::Url::parse(&format!("{base}/acct/c?sig=S")).unwrap())
        .unwrap();
    let blobs = c.list_blobs("list", &container, "p/").await.unwrap();
    assert_eq!(
        blobs.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
        ["p/1", "p/2"]
    );
    assert_eq!(blobs[0].metadata, [("k".to_string(), "v".to_string())]);
    let m = QueueMessage {
        id: "id 1".into(),
        pop_receipt: "old".into(),
        text: "t".into(),
    };
    let held = c
        .update_message("hold", &container, &m, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(held.pop_receipt, "new");
    let log = log.lock().unwrap();
    assert!(
        log[0].line.starts_with(
            "GET /acct/c?restype=container&comp=list&prefix=p%2F&include=metadata&sig=S "
        ),
        "{}",
        log[0].line
    );
    assert!(
        log[2]
            .line
            .starts_with("PUT /acct/c/messages/id%201?popreceipt=old&visibilitytimeout=0&sig=S "),
        "{}",
        log[2].line
    );
    assert_eq!(log[2].header("content-type"), Some("application/xml"));
}
