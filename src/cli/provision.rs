//! `iotc-adx provision`: creates or updates every destination's table, JSON mapping and
//! policies in Data Explorer, printing each command; `--dry-run` prints without running.

use anyhow::Context;
use iotc_adx::config::{self, SinkSettings};
use iotc_adx::provision;
use std::path::Path;
use std::process::ExitCode;

pub fn provision(config_path: &Path, dry_run: bool) -> anyhow::Result<ExitCode> {
    let settings = config::load(config_path)?;
    iotc_adx::telemetry::log::init(&settings.log);
    let Some(SinkSettings::Kusto(kusto)) = &settings.sink else {
        anyhow::bail!(
            "{}: provisioning needs [sink] type = \"kusto\" (this configuration writes files)",
            config_path.display()
        );
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let client = super::run::kusto_client(kusto, &settings.auth)?;
        let mut last = String::new();
        let ran = provision::provision(&client, &settings.destinations, dry_run, |d, step| {
            if last != d.name {
                println!("// destination {:?} -> {}.{}", d.name, d.database, d.table);
                last = d.name.clone();
            }
            println!("{step}\n");
        })
        .await?;
        if dry_run {
            println!("dry run: nothing was changed on {}", kusto.cluster);
        } else {
            println!(
                "{ran} commands ran on {}: every destination's table is ready",
                kusto.cluster
            );
        }
        anyhow::Ok(ExitCode::SUCCESS)
    })
}
