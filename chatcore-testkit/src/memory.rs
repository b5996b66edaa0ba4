//! This process's memory, read from `/proc/self/status`, for tests that bound what a server
//! running in the test process holds.

/// A `/proc/self/status` field in KiB (`"VmRSS"`, `"RssAnon"`…); panics when the field is
/// missing, since the test cannot measure anything then.
pub fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .filter_map(|l| l.strip_prefix(field))
        .find_map(|v| v.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} missing from /proc/self/status"))
}

/// Resident memory of this process, in KiB.
pub fn rss_kib() -> u64 {
    proc_status_kib("VmRSS")
}

/// Anonymous resident memory of this process (heap and stacks, not mapped files), in KiB.
pub fn rss_anon_kib() -> u64 {
    proc_status_kib("RssAnon")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        assert!(rss_kib() > 0);
        assert!(rss_anon_kib() <= rss_kib());
    }
}
