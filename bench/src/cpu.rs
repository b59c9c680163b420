//! CPU time of this process's threads from `/proc/self/task/*/stat`, split into the load
//! driver's threads and everything else (the services and the floor server).
//!
//! CPU time per call is the figure that survives a busy shared machine: throughput drops
//! when another process takes the cores, but the work each call costs stays the same.

/// The name of the load driver's runtime threads.
pub const DRIVER_THREAD: &str = "load-driver";

/// The kernel's clock tick for `utime`/`stime` (USER_HZ; 100 on every Linux we run on).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds used so far by the driver's threads and by all other threads.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuSplit {
    /// Threads named `driver_thread_name`.
    pub driver_s: f64,
    /// Every other thread of this process (the services, the floor server, Tokio's blocking pool).
    pub services_s: f64,
}

impl CpuSplit {
    /// What was used between `earlier` and `self`.
    pub fn since(self, earlier: CpuSplit) -> CpuSplit {
        CpuSplit {
            driver_s: (self.driver_s - earlier.driver_s).max(0.0),
            services_s: (self.services_s - earlier.services_s).max(0.0),
        }
    }
}

/// Reads every thread's `utime + stime`; threads that ended in between are not counted.
pub fn sample(driver_thread_name: &str) -> CpuSplit {
    let mut split = CpuSplit::default();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return split;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        if let Some((comm, ticks)) = parse_stat(&stat) {
            let seconds = ticks as f64 / TICKS_PER_SECOND;
            if comm.starts_with(driver_thread_name) {
                split.driver_s += seconds;
            } else {
                split.services_s += seconds;
            }
        }
    }
    split
}

/// CPU seconds (`utime + stime`) of the process whose `stat` file this is.
pub fn process_cpu_s(stat_path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    parse_stat(&stat).map(|(_, ticks)| ticks as f64 / TICKS_PER_SECOND)
}

/// `comm` and `utime + stime` of one `stat` line (proc(5): fields 2, 14 and 15; `comm` is
/// in parentheses and may itself contain spaces or parentheses).
fn parse_stat(stat: &str) -> Option<(&str, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?;
    let mut fields = stat.get(close + 1..)?.split_whitespace();
    // After `comm`: state is field 3, so utime (14) is the 12th and stime (15) the 13th.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((comm, utime + stime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_comm_and_cpu_ticks_of_a_stat_line() {
        let stat =
            "4242 (load-driver) S 1 4242 4242 0 -1 4194368 100 0 0 0 250 31 0 0 20 0 4 0 1 0 0";
        assert_eq!(parse_stat(stat), Some(("load-driver", 281)));
        let odd = "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 1 0 0";
        assert_eq!(parse_stat(odd), Some(("a (b) c", 11)));
    }

    #[test]
    fn this_process_has_used_some_cpu() {
        let busy: u64 = (0..2_000_000u64).map(std::hint::black_box).sum();
        assert!(busy > 0);
        let split = sample("no-such-thread");
        assert!(split.services_s >= 0.0 && split.driver_s == 0.0);
    }
}
