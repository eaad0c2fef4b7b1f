//! What the server says about itself: its media counters from `/metrics`, and CPU time from
//! `/proc` (the whole process, and its media thread by name).
//!
//! Owns: reading and differencing snapshots. Does not own: deciding what is too much.

use std::time::Instant;

use anyhow::{Context, Result};

/// The media engine's counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MediaCounters {
    /// `plenum_media_ticks_total`.
    pub ticks: u64,
    /// `plenum_media_late_ticks_total` (ticks that started more than 5 ms late).
    pub late_ticks: u64,
    /// `plenum_media_busy_microseconds_total`.
    pub busy_us: u64,
    /// `plenum_media_legs` (a gauge).
    pub legs: u64,
}

/// GET `url` (the server's `/metrics`) and read the media counters.
pub fn scrape(url: &str) -> Result<MediaCounters> {
    let text = ureq::get(url)
        .call()
        .with_context(|| format!("GET {url}"))?
        .body_mut()
        .read_to_string()
        .with_context(|| format!("reading {url}"))?;
    Ok(parse(&text))
}

/// The media counters of a Prometheus text page (absent ones are 0).
pub fn parse(text: &str) -> MediaCounters {
    let mut m = MediaCounters::default();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut w = line.split_whitespace();
        let (Some(name), Some(value)) = (w.next(), w.next()) else {
            continue;
        };
        let Ok(v) = value.parse::<f64>() else {
            continue;
        };
        let v = v as u64;
        match name {
            "plenum_media_ticks_total" => m.ticks = v,
            "plenum_media_late_ticks_total" => m.late_ticks = v,
            "plenum_media_busy_microseconds_total" => m.busy_us = v,
            "plenum_media_legs" => m.legs = v,
            _ => {}
        }
    }
    m
}

/// CPU time of a process and of one of its threads, in clock ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTicks {
    /// utime + stime of the whole process.
    pub process: u64,
    /// utime + stime of the thread named `plenum-media`, if there is one.
    pub media_thread: Option<u64>,
    /// The same thread's stime alone: the kernel's share (socket I/O, mostly).
    pub media_thread_kernel: Option<u64>,
}

/// Clock ticks per second of `/proc` times (USER_HZ, 100 on Linux).
pub const CLOCK_TICKS: f64 = 100.0;

/// The CPU time of process `pid` and of its `thread` (by `comm`, e.g. `plenum-media`).
pub fn cpu(pid: u32, thread: &str) -> Result<CpuTicks> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    let (user, system) = stat_ticks(&stat).context("parsing /proc/PID/stat")?;
    let process = user + system;
    let (mut media_thread, mut media_thread_kernel) = (None, None);
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.trim() == thread {
                let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
                if let Some((user, system)) = stat_ticks(&stat) {
                    media_thread = Some(user + system);
                    media_thread_kernel = Some(system);
                }
            }
        }
    }
    Ok(CpuTicks {
        process,
        media_thread,
        media_thread_kernel,
    })
}

/// utime and stime of a `/proc/.../stat` line (fields 14 and 15, counted after the `comm`).
fn stat_ticks(stat: &str) -> Option<(u64, u64)> {
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime, stime))
}

/// One snapshot of everything the report compares.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    /// When.
    pub at: Instant,
    /// The server's media counters, if `/metrics` was reachable.
    pub media: Option<MediaCounters>,
    /// The server's CPU, if its pid was given.
    pub server_cpu: Option<CpuTicks>,
    /// Our own CPU.
    pub own_cpu: Option<CpuTicks>,
}

impl Snapshot {
    /// Take one now.
    pub fn take(metrics_url: Option<&str>, server_pid: Option<u32>) -> Snapshot {
        Snapshot {
            at: Instant::now(),
            media: metrics_url.and_then(|u| scrape(u).ok()),
            server_cpu: server_pid.and_then(|p| cpu(p, "plenum-media").ok()),
            own_cpu: cpu(std::process::id(), "").ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_the_media_counters() {
        let text = "# HELP plenum_media_ticks_total Media ticks run.\n\
                    # TYPE plenum_media_ticks_total counter\n\
                    plenum_media_ticks_total 1500\n\
                    plenum_media_late_ticks_total 3\n\
                    plenum_media_busy_microseconds_total 123456\n\
                    plenum_media_legs 42\n\
                    plenum_plugin_calls_total{tenant=\"contoso\"} 9\n";
        assert_eq!(
            parse(text),
            MediaCounters {
                ticks: 1500,
                late_ticks: 3,
                busy_us: 123_456,
                legs: 42
            }
        );
    }

    #[test]
    fn reads_our_own_cpu() {
        let c = cpu(std::process::id(), "nothing-by-this-name").unwrap();
        assert!(c.media_thread.is_none());
        assert!(stat_ticks("1 (a b) S 0 0 0 0 0 0 0 0 0 0 7 5 0").unwrap() == (7, 5));
    }
}
