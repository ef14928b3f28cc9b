//! Azurite starts, and our account SAS is accepted for containers, blobs and queues.

use iotc_adx_testkit::azurite::Azurite;

#[tokio::test]
async fn sas_urls_work_for_blobs_and_queues() {
    let azurite = Azurite::start().expect("azurite starts");
    azurite.create_container("tempstorage").await.unwrap();
    azurite.create_container("tempstorage").await.unwrap(); // idempotent
    azurite
        .create_queue("readyforaggregation-secured")
        .await
        .unwrap();
    let sas = azurite.account_sas(chrono::Utc::now() + chrono::Duration::hours(1));
    let client = reqwest::Client::new();

    let blob = format!("{}/tempstorage/a.json?{sas}", azurite.blob_endpoint());
    let put = client
        .put(&blob)
        .header("x-ms-blob-type", "BlockBlob")
        .body("{\"x\":1}")
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{:?}", put.text().await);
    let got = client.get(&blob).send().await.unwrap();
    assert_eq!(got.text().await.unwrap(), "{\"x\":1}");

    let messages = format!(
        "{}/readyforaggregation-secured/messages?{sas}",
        azurite.queue_endpoint()
    );
    let post = client
        .post(&messages)
        .body("<QueueMessage><MessageText>aGk=</MessageText></QueueMessage>")
        .send()
        .await
        .unwrap();
    assert!(post.status().is_success(), "{:?}", post.text().await);
    let peek = client
        .get(format!("{messages}&peekonly=true"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(peek.contains("<MessageText>aGk=</MessageText>"), "{peek}");

    let forged = blob.replace("sig=", "sig=AAAA");
    assert_eq!(
        client.get(&forged).send().await.unwrap().status().as_u16(),
        403
    );
}
