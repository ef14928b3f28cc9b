//! CPU time of a process, read from `/proc/<pid>/stat` (Linux), for the benches that report
//! work per CPU-second: the stand-ins' own and the end-to-end ones.

use std::time::Duration;

/// CPU time (user + system) process `pid` has used so far; zero where `/proc` cannot tell.
pub fn cpu_time(pid: u32) -> Duration {
    stat_cpu_time(&format!("/proc/{pid}/stat"))
}

/// CPU time (user + system) used so far by this process's threads whose names start with
/// `prefix` (a runtime's `thread_name`), so that a bench hosting a stand-in and a client in
/// one process can tell their shares apart. Threads that have ended no longer count.
pub fn threads_cpu_time(prefix: &str) -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|n| n.starts_with(prefix))
        })
        .map(|t| stat_cpu_time(&t.path().join("stat").display().to_string()))
        .sum()
}

/// User + system time from a `stat` file of `/proc`.
fn stat_cpu_time(path: &str) -> Duration {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime, fields 14 and 15 of the line (12 and 13 after the name), in clock ticks
    // of 1/100 s (the Linux default).
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// CPU time this process has used so far.
pub fn own_cpu_time() -> Duration {
    cpu_time(std::process::id())
}

/// Turns transparent huge pages off for this process, for processes that host the stand-ins
/// (the testkit binary, the benches). The emulators free and allocate megabytes per request;
/// with huge pages the kernel clears 2 MiB on every fault of memory handed back and mapped
/// again, which was a third of a bench process's CPU time in a profile of the side-by-side
/// bench. iotc-adx does the same for itself (its `main`).
pub fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag on this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
