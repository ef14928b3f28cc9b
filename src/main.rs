//! The `iotc-adx` command: parses the command line and hands over to [`cli`].

mod cli;

/// mimalloc: the pipeline allocates many small JSON values per message, and mimalloc makes
/// the whole pipeline about a quarter faster than the system allocator (benches/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
