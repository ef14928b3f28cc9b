//! Blob leases against Azurite: of two clients racing for a lease exactly one gets it; only
//! the holder renews it and writes the leased blob; after a release or a break the other
//! takes it.

use iotc_adx_storage::{ClientOptions, Condition, ResourceUrl, StorageAuth, StorageClient};
use iotc_adx_testkit::azurite::Azurite;
use std::time::Duration;

fn container(azurite: &Azurite, name: &str) -> ResourceUrl {
    let sas = azurite.account_sas(chrono::Utc::now() + chrono::Duration::hours(1));
    let url = format!("{}/{name}?{sas}", azurite.blob_endpoint());
    ResourceUrl::parse(&url).unwrap()
}

fn client() -> StorageClient {
    StorageClient::new(StorageAuth::Sas, None, ClientOptions::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_holder_at_a_time() {
    let azurite = tokio::task::spawn_blocking(Azurite::start)
        .await
        .unwrap()
        .expect("azurite");
    let c = container(&azurite, "leases");
    let (a, b) = (client(), client());
    a.create_container("create", &c).await.unwrap();
    let blob = "reports/hourly";
    let d = Duration::from_secs(15);
    // The blob does not exist yet: both race to create and lease it.
    let (la, lb) = tokio::join!(
        a.acquire_lease("lease", &c, blob, d),
        b.acquire_lease("lease", &c, blob, d)
    );
    let (la, lb) = (la.unwrap(), lb.unwrap());
    assert!(
        la.is_some() != lb.is_some(),
        "exactly one holds it: {la:?} {lb:?}"
    );
    let (holder, other, lease) = match (la, lb) {
        (Some(l), None) => (&a, &b, l),
        (None, Some(l)) => (&b, &a, l),
        _ => unreachable!(),
    };
    holder.renew_lease("renew", &c, blob, &lease).await.unwrap();
    let stranger = iotc_adx_storage::Lease {
        id: uuid::Uuid::new_v4().to_string(),
    };
    assert!(other
        .renew_lease("renew", &c, blob, &stranger)
        .await
        .is_err());
    // Only the holder writes the leased blob's metadata.
    let meta = [("lastscheduled", "42")];
    holder
        .set_blob_metadata(
            "meta",
            &c,
            blob,
            &meta,
            &Condition::Leased(lease.id.clone()),
        )
        .await
        .unwrap();
    assert!(other
        .set_blob_metadata("meta", &c, blob, &meta, &Condition::None)
        .await
        .is_err());
    assert_eq!(
        other.get_blob("read", &c, blob).await.unwrap().metadata,
        vec![("lastscheduled".to_string(), "42".to_string())]
    );
    assert_eq!(
        other.acquire_lease("lease", &c, blob, d).await.unwrap(),
        None
    );
    holder
        .release_lease("release", &c, blob, &lease)
        .await
        .unwrap();
    let taken = other
        .acquire_lease("lease", &c, blob, d)
        .await
        .unwrap()
        .unwrap();
    // A holder that vanished: its lease is broken and taken at once.
    holder.break_lease("break", &c, blob).await.unwrap();
    assert!(holder
        .acquire_lease("lease", &c, blob, d)
        .await
        .unwrap()
        .is_some());
    assert!(other.renew_lease("renew", &c, blob, &taken).await.is_err());
}
