//! `iotc-adx-testkit`: starts the local stand-ins for a person (the demo, or manual testing
//! with the official tools) and prints the settings that point clients at them.

use anyhow::Context;
use azure_messaging_eventhubs::ProducerClient;
use clap::{Parser, Subcommand};
use iotc_adx_testkit::azurite::Azurite;
use iotc_adx_testkit::eventhubs::{EmulatorOptions, EventHubOptions, EventHubsEmulator};
use iotc_adx_testkit::identity::{
    AppRegistration, IdentityOptions, IdentityServer, ManagedIdentity, TokenAuthority,
};
use iotc_adx_testkit::kusto::{AuthMode, KustoEmulator, KustoOptions, StorageMode};
use iotc_adx_testkit::replay::{load_messages, replay, ReplayOptions};
use std::path::PathBuf;
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
        #[command(flatten)]
        common: Common,
    },
    /// Start every stand-in and replay IoT Central sample traffic into the event hub.
    Demo {
        #[command(flatten)]
        common: Common,
        /// JSON Lines of exported messages: a file, or a directory of .jsonl files.
        #[arg(long, default_value = "examples/data")]
        data: PathBuf,
        /// Messages per second.
        #[arg(long, default_value_t = 50.0)]
        rate: f64,
        /// Times to go through the data (forever when absent); the stand-ins stay up after.
        #[arg(long)]
        loops: Option<u64>,
        /// Keep the messages' own enqueuedTime instead of the send time.
        #[arg(long)]
        original_times: bool,
    },
    /// Receive webhooks (reports' JSON, Teams and Slack messages) and print each one; Ctrl-C
    /// stops it.
    Webhook {
        /// Port on 127.0.0.1 (examples/reports.toml uses 8090).
        #[arg(long, default_value_t = 8090)]
        port: u16,
    },
    /// Receive e-mails over SMTP (aiosmtpd from the testkit's Python venv), print each one
    /// and keep it as a .eml file; Ctrl-C stops it.
    Smtp {
        /// Port on 127.0.0.1 (examples/reports-email.toml uses 2525).
        #[arg(long, default_value_t = 2525)]
        port: u16,
        /// Where to keep each message as NNNNN.eml.
        #[arg(long, default_value = "out/mail")]
        out: std::path::PathBuf,
    },
}

/// Options of both commands.
#[derive(Debug, clap::Args)]
struct Common {
    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, default_value_t = 3599)]
    token_lifetime_secs: u64,
    /// Serve Data Explorer without checking tokens.
    #[arg(long)]
    no_auth: bool,
    /// Partitions of the event hub.
    #[arg(long, default_value_t = 4)]
    partitions: u32,
    /// Port of the Data Explorer emulator (0 picks a free one); examples/kusto.toml uses 8080.
    #[arg(long, default_value_t = 8080)]
    kusto_port: u16,
}

/// The event hub IoT Central exports to, and the consumer group iotc-adx reads with.
const HUB: &str = "iotc-export";
const CONSUMER_GROUP: &str = "iotc-adx";
const SAS_KEY_NAME: &str = "RootManageSharedAccessKey";

/// The stand-ins of one `up`.
struct StandIns {
    identity: IdentityServer,
    kusto: KustoEmulator,
    eventhubs: EventHubsEmulator,
    azurite: Arc<Azurite>,
    client_secret: String,
    ca_file: tempfile::NamedTempFile,
    no_auth: bool,
}

async fn start(common: &Common) -> anyhow::Result<StandIns> {
    let token_lifetime = Duration::from_secs(common.token_lifetime_secs.max(1));
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
    let ca_file = tempfile::Builder::new()
        .prefix("iotc-adx-testkit-ca-")
        .suffix(".pem")
        .tempfile()?;
    std::fs::write(ca_file.path(), identity.ca_certificate_pem())?;
    let azurite = Arc::new(tokio::task::spawn_blocking(Azurite::start).await??);
    let sas_key = base64_key();
    let eventhubs = EventHubsEmulator::start(
        EmulatorOptions::new("iotc-adx-demo.servicebus.windows.net")
            .with_event_hub(
                EventHubOptions::new(HUB, common.partitions).with_consumer_group(CONSUMER_GROUP),
            )
            .with_sas_key(SAS_KEY_NAME, &sas_key)
            .with_token_authority(authority.clone()),
    )
    .await
    .context("cannot start the Event Hubs emulator")?;
    let auth = if common.no_auth {
        AuthMode::None
    } else {
        AuthMode::Tokens {
            authority,
            audiences: Vec::new(),
        }
    };
    let kusto = KustoEmulator::start(KustoOptions {
        auth,
        databases: vec!["iot".into()],
        storage: StorageMode::Shared(Arc::clone(&azurite)),
        port: common.kusto_port,
        ..KustoOptions::default()
    })
    .await
    .context("cannot start the Data Explorer emulator")?;
    Ok(StandIns {
        identity,
        kusto,
        eventhubs,
        azurite,
        client_secret,
        ca_file,
        no_auth: common.no_auth,
    })
}

/// A random shared access key, base64 like the ones Azure generates.
fn base64_key() -> String {
    use base64::Engine;
    let bytes: Vec<u8> = (0..2)
        .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
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
    println!(
        "  CA certificate   {} (trust it for the HTTPS endpoint)",
        s.ca_file.path().display()
    );
    println!("Managed identity (system-assigned, client id iotc-adx-system)");
    println!("  IMDS             {}", s.identity.imds_endpoint());
    println!("  IDENTITY_ENDPOINT={}", s.identity.identity_endpoint());
    println!("  IDENTITY_HEADER={}", s.identity.identity_header());
    println!("Data Explorer");
    println!(
        "  cluster URL      {} (engine and ingestion; database iot)",
        s.kusto.url()
    );
    println!("  token scope      {}/.default", s.kusto.url());
    println!("Event Hubs");
    println!("  namespace        {}", s.eventhubs.namespace());
    println!("  custom endpoint  {} (plain AMQP)", s.eventhubs.endpoint());
    println!("  event hub        {HUB} (consumer groups $Default, {CONSUMER_GROUP})");
    if let Ok(cs) = s.eventhubs.connection_string(SAS_KEY_NAME, HUB) {
        println!("  connection string (with the custom endpoint)\n    {cs}");
    }
    if let Ok(cs) = s.eventhubs.emulator_connection_string(SAS_KEY_NAME, HUB) {
        println!("  connection string (Python azure-eventhub)\n    {cs}");
    }
    println!(
        "  token audience   https://eventhubs.azure.net (Entra ID tokens from above work too)"
    );
    println!("Azure Storage (Azurite)");
    println!("  blob             {}", s.azurite.blob_endpoint());
    println!("  queue            {}", s.azurite.queue_endpoint());
    println!("\niotc-adx from this event hub into this Data Explorer (from the repository root):");
    if s.no_auth {
        let sas = s
            .azurite
            .account_sas(chrono::Utc::now() + chrono::Duration::days(7));
        if let Ok(cs) = s.eventhubs.connection_string(SAS_KEY_NAME, HUB) {
            println!("  export IOTC_ADX__SOURCE__CONNECTION_STRING='{cs}'");
        }
        println!(
            "  export IOTC_ADX__SOURCE__CUSTOM_ENDPOINT='{}'",
            s.eventhubs.endpoint()
        );
        println!(
            "  export IOTC_ADX__SOURCE__CHECKPOINT_CONTAINER='{}/checkpoints?{sas}'",
            s.azurite.blob_endpoint()
        );
        if s.kusto.url() != "http://127.0.0.1:8080" {
            println!("  export IOTC_ADX__SINK__CLUSTER='{}'", s.kusto.url());
        }
        println!("  cargo run -- provision --config examples/eventhubs.toml");
        println!("  cargo run -- run --config examples/eventhubs.toml      # Ctrl-C stops it");
        println!("(examples/kusto.toml reads the sample files instead of the event hub.)");
    } else {
        println!(
            "  restart with --no-auth: examples/kusto.toml and examples/eventhubs.toml sign in to"
        );
        println!("  Data Explorer with [auth] type = \"none\"");
    }
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

/// The allocator iotc-adx uses: the emulators allocate a JSON value per cell they store.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    iotc_adx_testkit::process::no_transparent_huge_pages();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Webhook { port } => {
                let receiver = iotc_adx_testkit::webhook::WebhookReceiver::start_on(port, true)
                    .await
                    .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
                println!("webhook receiver on {}: POST to any path; Ctrl-C stops it\n", receiver.url());
                stop_signal().await?;
                Ok(())
            }
            Command::Smtp { port, out } => smtp(port, &out).await,
            Command::Up { common } => {
                let stand_ins = start(&common).await?;
                print_settings(&stand_ins);
                stop_signal().await?;
                println!("stopping");
                Ok(())
            }
            Command::Demo { common, data, rate, loops, original_times } => {
                let messages = load_messages(&data)?;
                let stand_ins = start(&common).await?;
                print_settings(&stand_ins);
                let cs = stand_ins.eventhubs.connection_string(SAS_KEY_NAME, HUB)?;
                let producer = ProducerClient::builder()
                    .with_custom_endpoint(stand_ins.eventhubs.endpoint())
                    .open_with_connection_string(&cs, None)
                    .await
                    .context("cannot connect the replay producer")?;
                let options = ReplayOptions { rate_per_sec: rate, loops, live_times: !original_times };
                println!(
                    "\nreplaying {} messages from {} at {rate} messages/s into {HUB}{}",
                    messages.len(),
                    data.display(),
                    loops.map_or(" until Ctrl-C".to_string(), |n| format!(", {n} time(s)"))
                );
                tokio::select! {
                    result = replay(&producer, &messages, &options) => {
                        let stats = result?;
                        println!("replay done: {} events, {} bytes; the stand-ins stay up until Ctrl-C", stats.events, stats.bytes);
                        stop_signal().await?;
                    }
                    stop = stop_signal() => stop?,
                }
                println!("stopping");
                Ok(())
            }
        }
    })
}

/// `smtp`: runs the test SMTP server until Ctrl-C, printing and keeping each message.
async fn smtp(port: u16, out: &std::path::Path) -> anyhow::Result<()> {
    use iotc_adx_testkit::smtp::{SmtpOptions, SmtpServer};
    let server = tokio::task::spawn_blocking(move || {
        SmtpServer::start(SmtpOptions {
            port: Some(port),
            ..Default::default()
        })
    })
    .await??;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    println!("SMTP server on 127.0.0.1:{port} (no TLS, no sign-in); messages go to {}; Ctrl-C stops it\n", out.display());
    let mut shown = 0;
    let stop = stop_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            r = &mut stop => return r,
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
        }
        let mails = server.messages();
        for m in &mails[shown..] {
            shown += 1;
            let file = out.join(format!("{shown:05}.eml"));
            std::fs::write(&file, &m.data)
                .with_context(|| format!("cannot write {}", file.display()))?;
            println!("{}kept as {}\n", m.summary(), file.display());
        }
    }
}
