//! `iotc-adx-testkit`: starts the local stand-ins for a person (the demo, or manual testing
//! with the official tools) and prints the settings that point clients at them.

use anyhow::Context;
use clap::{Parser, Subcommand};
use iotc_adx_testkit::azurite::Azurite;
use iotc_adx_testkit::identity::{AppRegistration, IdentityOptions, IdentityServer, ManagedIdentity, TokenAuthority};
use iotc_adx_testkit::kusto::{AuthMode, KustoEmulator, KustoOptions, StorageMode};
use std::sync::Arc;
use std::time::Duration;

/// Local stand-ins for Entra ID, Data Explorer, Azure Storage and Event Hubs.
#[derive(Debug, Parser)]
#[command(name = "iotc-adx-testkit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start every stand-in and print how to reach them; Ctrl-C stops them.
    Up {
        /// Lifetime of issued access tokens, in seconds.
        #[arg(long, default_value_t = 3599)]
        token_lifetime_secs: u64,
        /// Serve Data Explorer without checking tokens.
        #[arg(long)]
        no_auth: bool,
    },
}

/// The stand-ins of one `up`.
struct StandIns {
    identity: IdentityServer,
    kusto: KustoEmulator,
    azurite: Arc<Azurite>,
    client_secret: String,
    ca_file: tempfile::NamedTempFile,
}

async fn start(token_lifetime: Duration, no_auth: bool) -> anyhow::Result<StandIns> {
    let authority = TokenAuthority::default();
    let client_secret = uuid::Uuid::new_v4().to_string();
    let identity = IdentityServer::start(
        authority.clone(),
        IdentityOptions {
            applications: vec![AppRegistration {
                client_id: "iotc-adx".into(),
                client_secret: Some(client_secret.clone()),
                accepts_certificate_assertions: true,
                federated_credentials: Vec::new(),
            }],
            system_assigned: Some(ManagedIdentity {
                client_id: "iotc-adx-system".into(),
                object_id: uuid::Uuid::new_v4().to_string(),
                resource_id: String::new(),
            }),
            token_lifetime,
            ..IdentityOptions::default()
        },
    )
    .await
    .context("cannot start the token endpoints")?;
    let ca_file = tempfile::Builder::new().prefix("iotc-adx-testkit-ca-").suffix(".pem").tempfile()?;
    std::fs::write(ca_file.path(), identity.ca_certificate_pem())?;
    let azurite = Arc::new(tokio::task::spawn_blocking(Azurite::start).await??);
    let auth = if no_auth { AuthMode::None } else { AuthMode::Tokens { authority, audiences: Vec::new() } };
    let kusto = KustoEmulator::start(KustoOptions {
        auth,
        databases: vec!["iot".into()],
        storage: StorageMode::Shared(Arc::clone(&azurite)),
        ..KustoOptions::default()
    })
    .await
    .context("cannot start the Data Explorer emulator")?;
    Ok(StandIns { identity, kusto, azurite, client_secret, ca_file })
}

fn print_settings(s: &StandIns) {
    let tenant = s.identity.authority().tenant();
    println!("iotc-adx stand-ins are up. Ctrl-C stops them.\n");
    println!("Entra ID (service principal)");
    println!("  authority host   {}", s.identity.authority_host());
    println!("  token endpoint   {}", s.identity.token_url());
    println!("  tenant id        {tenant}");
    println!("  client id        iotc-adx");
    println!("  client secret    {}", s.client_secret);
    println!("  CA certificate   {} (trust it for the HTTPS endpoint)", s.ca_file.path().display());
    println!("Managed identity (system-assigned, client id iotc-adx-system)");
    println!("  IMDS             {}", s.identity.imds_endpoint());
    println!("  IDENTITY_ENDPOINT={}", s.identity.identity_endpoint());
    println!("  IDENTITY_HEADER={}", s.identity.identity_header());
    println!("Data Explorer");
    println!("  cluster URL      {} (engine and ingestion; database iot)", s.kusto.url());
    println!("  token scope      {}/.default", s.kusto.url());
    println!("Azure Storage (Azurite)");
    println!("  blob             {}", s.azurite.blob_endpoint());
    println!("  queue            {}", s.azurite.queue_endpoint());
}

/// Ctrl-C or SIGTERM: either way the stand-ins are dropped, which stops Azurite's process too.
async fn stop_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Up { token_lifetime_secs, no_auth } => {
                let stand_ins = start(Duration::from_secs(token_lifetime_secs.max(1)), no_auth).await?;
                print_settings(&stand_ins);
                stop_signal().await?;
                println!("stopping");
                Ok(())
            }
        }
    })
}
