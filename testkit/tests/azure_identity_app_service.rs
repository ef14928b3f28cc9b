//! Proof that `ManagedIdentityCredential` in App Service / Container Apps mode (chosen by
//! `azure_identity` when `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` are set, see
//! `managed_identity_credential.rs` `get_source`) gets tokens from the identity server. The
//! credential reads these variables from the process environment only (its in-memory `Env` is
//! `#[cfg(test)]` inside azure_identity), so this file has a single test that sets them and
//! runs every case in sequence.

use azure_core::credentials::TokenCredential;
use azure_identity::{ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId};
use iotc_adx_testkit::identity::{
    Endpoint, IdentityOptions, IdentityServer, ManagedIdentity, TokenAuthority, TokenError,
};
use std::time::Duration;

const EH_SCOPE: &str = "https://eventhubs.azure.net/.default";
const EH: &str = "https://eventhubs.azure.net";

fn credential(
    id: Option<UserAssignedId>,
) -> azure_core::Result<std::sync::Arc<ManagedIdentityCredential>> {
    ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
        user_assigned_id: id,
        ..Default::default()
    }))
}

#[test]
fn app_service_managed_identity() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let user = ManagedIdentity::user_assigned("uami");
        let system = ManagedIdentity::system_assigned();
        let options = IdentityOptions {
            system_assigned: Some(system.clone()),
            user_assigned: vec![user.clone()],
            token_lifetime: Duration::from_secs(3),
            ..Default::default()
        };
        let server = IdentityServer::start(TokenAuthority::default(), options)
            .await
            .expect("server");
        // SAFETY: this is the only test in this binary, and no other thread reads or writes
        // the environment while it is being changed.
        unsafe {
            std::env::set_var("IDENTITY_ENDPOINT", server.identity_endpoint());
            std::env::set_var("IDENTITY_HEADER", server.identity_header());
        }

        // System-assigned.
        let system_credential = credential(None).expect("credential");
        let first = system_credential
            .get_token(&[EH_SCOPE], None)
            .await
            .expect("system-assigned token");
        assert_eq!(
            server
                .authority()
                .validate(first.token.secret(), EH)
                .expect("valid")
                .sub,
            system.client_id
        );

        // User-assigned by client id and by object id (the credential sends `client_id` /
        // `object_id`; the endpoint also accepts App Service's `principal_id`).
        for id in [
            UserAssignedId::ClientId(user.client_id.clone()),
            UserAssignedId::ObjectId(user.object_id.clone()),
        ] {
            let token = credential(Some(id.clone()))
                .expect("credential")
                .get_token(&[EH_SCOPE], None)
                .await
                .expect("token");
            assert_eq!(
                server
                    .authority()
                    .validate(token.token.secret(), EH)
                    .expect("valid")
                    .sub,
                user.client_id,
                "{id:?}"
            );
        }
        // Resource ids are refused by azure_identity itself in App Service mode.
        let err = credential(Some(UserAssignedId::ResourceId(user.resource_id.clone())))
            .expect_err("refused by the SDK");
        assert!(
            err.to_string()
                .contains("resource IDs aren't supported for App Service"),
            "{err}"
        );

        // Expiry and refresh with a 3 s lifetime.
        tokio::time::sleep(Duration::from_millis(4100)).await;
        assert_eq!(
            server.authority().validate(first.token.secret(), EH),
            Err(TokenError::Expired)
        );
        let second = system_credential
            .get_token(&[EH_SCOPE], None)
            .await
            .expect("refreshed token");
        assert_ne!(first.token.secret(), second.token.secret());
        server
            .authority()
            .validate(second.token.secret(), EH)
            .expect("refreshed token valid");

        // A wrong IDENTITY_HEADER is refused by the endpoint.
        unsafe {
            std::env::set_var("IDENTITY_HEADER", "not-the-secret");
        }
        let err = credential(None)
            .expect("credential")
            .get_token(&[EH_SCOPE], None)
            .await
            .expect_err("refused");
        assert!(
            err.to_string()
                .contains("ManagedIdentityCredential authentication failed"),
            "{err}"
        );

        let log = server.requests();
        assert!(
            log.iter().all(|r| r.endpoint == Endpoint::AppService),
            "{log:?}"
        );
        let statuses: Vec<u16> = log.iter().map(|r| r.status).collect();
        assert_eq!(statuses, vec![200, 200, 200, 200, 401]);
        unsafe {
            std::env::remove_var("IDENTITY_ENDPOINT");
            std::env::remove_var("IDENTITY_HEADER");
        }
    });
}
