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
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn reads_comm_and_cpu_ticks_of_a_stat_line() {
        let stat =
            "4242 (load-driver) S 1 4242 4242 0 -1 4194368 100 0 0 0 250 31 0 0 20 0 4 0 1 0 0";
        assert_eq!(parse_stat(stat), Some(("load-driver", 281)));
        let odd = "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 1 0 0";
        assert_eq!(parse_stat(odd), Some(("a (b) c", 11)));
    }

    /// Burns CPU on a thread named `name` until `stop` is set.
    fn burner(name: &str, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let mut sum = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    sum = sum.wrapping_add(std::hint::black_box(sum) | 1);
                }
                std::hint::black_box(sum);
            })
            .expect("spawning a thread")
    }

    #[test]
    fn a_named_threads_cpu_counts_as_the_drivers_and_the_rest_as_the_services() {
        // Two busy threads, one named like the driver: each side must see at least 5 ticks
        // (50 ms of CPU). The wall-clock bound only keeps a broken split from hanging.
        let stop = Arc::new(AtomicBool::new(false));
        let driver = burner("cpu-test-drv", Arc::clone(&stop));
        let service = burner("cpu-test-svc", Arc::clone(&stop));
        let before = sample("cpu-test-drv");
        let deadline = Instant::now() + Duration::from_secs(60);
        let used = loop {
            let used = sample("cpu-test-drv").since(before);
            if (used.driver_s >= 0.05 && used.services_s >= 0.05) || Instant::now() > deadline {
                break used;
            }
            std::thread::yield_now();
        };
        stop.store(true, Ordering::Relaxed);
        driver.join().unwrap();
        service.join().unwrap();
        assert!(
            used.driver_s >= 0.05,
            "the driver-named thread's CPU was not counted as the driver's: {used:?}"
        );
        assert!(
            used.services_s >= 0.05,
            "the other thread's CPU was not counted as the services': {used:?}"
        );
    }
}
