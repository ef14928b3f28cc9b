//! CPU time of a process, read from `/proc/<pid>/stat` (Linux), for the benches that report
//! work per CPU-second: the stand-ins' own and the end-to-end ones.

use std::time::Duration;

/// CPU time (user + system) process `pid` has used so far; zero where `/proc` cannot tell.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
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
