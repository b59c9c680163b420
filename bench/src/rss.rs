//! Resident memory from `/proc/<pid>/status` (`VmRSS`): what the kernel charges the process,
//! the figure a container limit is compared with; and the status file's thread count.

/// `VmRSS` of the given status file, MB (10^6 bytes).
pub fn rss_mb_of(status_path: &str) -> Option<f64> {
    let status = std::fs::read_to_string(status_path).ok()?;
    parse_vm_rss_kb(&status).map(|kb| kb as f64 * 1024.0 / 1_000_000.0)
}

/// This process's `VmRSS`, MB: in the in-process stack, the three services, the floor server
/// and the load driver together.
pub fn rss_mb() -> Option<f64> {
    rss_mb_of("/proc/self/status")
}

/// `Threads` of the given status file.
pub fn threads_of(status_path: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status_path).ok()?;
    status_number(&status, "Threads:")
}

fn parse_vm_rss_kb(status: &str) -> Option<u64> {
    status_number(status, "VmRSS:")
}

/// The number after `field` in a status file (`VmRSS:\t 20480 kB` gives 20480).
fn status_number(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_rss_in_kilobytes() {
        let status = "Name:\tbench\nVmPeak:\t  100 kB\nVmRSS:\t   20480 kB\nThreads:\t4\n";
        assert_eq!(parse_vm_rss_kb(status), Some(20480));
        assert_eq!(parse_vm_rss_kb("Name:\tbench\n"), None);
        assert_eq!(status_number(status, "Threads:"), Some(4));
    }

    #[test]
    fn this_process_has_a_resident_size() {
        assert!(rss_mb().is_some_and(|mb| mb > 0.0));
    }
}
