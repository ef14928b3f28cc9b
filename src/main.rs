//! The `iotc-adx` command: parses the command line and hands over to [`cli`].

mod cli;

/// mimalloc: the pipeline allocates many small JSON values per message, and mimalloc makes
/// the whole pipeline about a quarter faster than the system allocator (benches/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    no_transparent_huge_pages();
    cli::main()
}

/// Turns transparent huge pages off for this process. Batches are megabytes that are freed
/// once delivered; mimalloc hands such memory back to the kernel and maps it again for the
/// next batch, and with huge pages every fault then makes the kernel clear 2 MiB. In the
/// side-by-side bench that clearing was 16% of the binary's CPU time (benches/README.md).
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag on this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
