//! The run's numbers: entries and their failures, the two entry latencies, what the callers
//! heard in the measurement window, and what the server and this process spent; as a value
//! (serialised for `--json`) and as text.
//!
//! Owns: summarising. Does not own: measuring (`call.rs`, `engine.rs`, `metrics.rs`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::call::{Call, Role};
use crate::engine::{LoopStats, Outcome};
use crate::metrics::{CLOCK_TICKS, Snapshot};

/// Everything a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What was run.
    pub setup: RunSetup,
    /// Entries: attempted, in, failed and why, and the rate.
    pub entries: Entries,
    /// Entry latencies, over every call.
    pub latency: Latency,
    /// One measurement per step of the staircase (one for a plain run).
    pub steps: Vec<Step>,
    /// The loop's counters over the whole run.
    pub r#loop: LoopStats,
    /// Every call's moments, when asked for (`--trace`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<CallTrace>,
}

/// One call's moments, in ms from the run's first INVITE.
#[derive(Debug, Clone, Serialize)]
pub struct CallTrace {
    /// Call number.
    pub index: usize,
    /// Meeting number.
    pub meeting: usize,
    /// Leader or guest.
    pub role: Role,
    /// INVITE sent.
    pub invite: Option<f64>,
    /// 2xx.
    pub answered: Option<f64>,
    /// First prompt packet.
    pub first_prompt: Option<f64>,
    /// Last entry key sent.
    pub last_key: Option<f64>,
    /// The prompt after the last key began.
    pub verified: Option<f64>,
    /// The name recording's `#`.
    pub name_key: Option<f64>,
    /// In the meeting.
    pub joined: Option<f64>,
    /// Hung up.
    pub left: Option<f64>,
    /// Why it failed.
    pub failure: Option<String>,
}

/// What was run.
#[derive(Debug, Clone, Serialize)]
pub struct RunSetup {
    /// Meetings.
    pub meetings: usize,
    /// Calls per meeting (the leader included).
    pub size: usize,
    /// Calls in all.
    pub calls: usize,
    /// Whether the calls used SRTP.
    pub srtp: bool,
    /// Whether guests sent a frame only every 200 ms between talk-spurts.
    pub dtx: bool,
    /// Entries started per second.
    pub rate: f64,
    /// The measurement window, s.
    pub hold_s: f64,
    /// A received frame later than this behind its slot counts as late, ms.
    pub late_after_ms: f64,
}

/// The entries.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Entries {
    /// Calls started.
    pub attempted: usize,
    /// Calls that got into their meeting.
    pub succeeded: usize,
    /// Calls that did not.
    pub failed: usize,
    /// Why calls failed (in the entry or later), with how many.
    pub failures: BTreeMap<String, usize>,
    /// Leaders started and in.
    pub leaders: (usize, usize),
    /// Guests' entries started per second (the ramp's rate).
    pub offered_per_s: f64,
    /// Guests' entries completed per second: the joins over the span of their times.
    pub achieved_per_s: f64,
}

/// Latency percentiles of one measure.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Percentiles {
    /// Samples.
    pub count: usize,
    /// Median, ms.
    pub p50_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Largest, ms.
    pub max_ms: f64,
}

/// Entry latencies.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    /// INVITE sent → 2xx received.
    pub invite_to_answer: Percentiles,
    /// INVITE sent → the first packet of the first prompt received.
    pub invite_to_prompt: Percentiles,
    /// A guest's last passcode key sent → the first frame of the meeting's mix (the pilot)
    /// received. Includes the name prompt, its recording and the joining prompt.
    pub last_key_to_mix: Percentiles,
}

/// What the callers heard in the window.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Client {
    /// Calls in the meeting for the whole window.
    pub calls: usize,
    /// Frames received.
    pub packets: u64,
    /// Frames later than `late_after_ms` behind their slot.
    pub late: u64,
    /// Their share, %.
    pub late_pct: f64,
    /// Frames lost (sequence gaps).
    pub lost: u64,
    /// Their share, %.
    pub loss_pct: f64,
    /// The largest lateness of any frame, ms.
    pub max_late_ms: f64,
    /// The worst call's late share, %.
    pub worst_call_late_pct: f64,
}

/// What the server spent in the window.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ServerLoad {
    /// The window as measured between the snapshots, s.
    pub window_s: f64,
    /// Media legs open (the gauge at the window's end).
    pub participants: u64,
    /// Media ticks in the window.
    pub ticks: u64,
    /// Ticks that started more than 5 ms late.
    pub late_ticks: u64,
    /// Their share, %.
    pub late_tick_pct: f64,
    /// The media thread's busy time (its own clock) per participant-second, µs.
    pub busy_us_per_participant_s: f64,
    /// The media thread's CPU (from /proc) as a share of one core, %.
    pub media_thread_cpu_pct: Option<f64>,
    /// The media thread's CPU per participant-second, µs: the figure that says how many
    /// participants one core carries (1,000,000 / this).
    pub media_cpu_us_per_participant_s: Option<f64>,
    /// The kernel's part of it (system time: the socket system calls), µs.
    pub media_kernel_us_per_participant_s: Option<f64>,
    /// The whole server process's CPU, % of one core.
    pub process_cpu_pct: Option<f64>,
}

/// One step's window.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Step {
    /// Calls started so far.
    pub calls: usize,
    /// The entry latencies of the calls that entered in this step.
    pub latency: Latency,
    /// What the callers heard.
    pub client: Client,
    /// What the server spent, if its metrics (and pid) were given.
    pub server: Option<ServerLoad>,
    /// This process's CPU in the window, % of one core (it shares the machine).
    pub loadgen_cpu_pct: f64,
}

/// Every call's moments.
pub fn traces(calls: &[Call]) -> Vec<CallTrace> {
    let Some(t0) = calls.iter().filter_map(|c| c.times.invite).min() else {
        return Vec::new();
    };
    let ms = |t: Option<Instant>| t.map(|t| t.saturating_duration_since(t0).as_secs_f64() * 1000.0);
    calls
        .iter()
        .map(|c| CallTrace {
            index: c.plan.index,
            meeting: c.plan.meeting,
            role: c.plan.role,
            invite: ms(c.times.invite),
            answered: ms(c.times.answered),
            first_prompt: ms(c.times.first_prompt),
            last_key: ms(c.times.last_key),
            verified: ms(c.times.verified),
            name_key: ms(c.times.name_key),
            joined: ms(c.times.joined),
            left: ms(c.times.left),
            failure: c.failure.clone(),
        })
        .collect()
}

/// Summarise a run.
pub fn summarise(setup: RunSetup, outcome: &Outcome) -> Report {
    let calls = &outcome.calls;
    let steps = outcome
        .steps
        .iter()
        .map(|m| {
            let (a, b) = &m.snapshots;
            Step {
                calls: m.calls,
                latency: latency(calls.get(m.entered.clone()).unwrap_or_default()),
                client: m.client,
                server: server_load(a, b),
                loadgen_cpu_pct: own_cpu(a, b),
            }
        })
        .collect();
    Report {
        entries: entries(calls, setup.rate),
        latency: latency(calls),
        steps,
        r#loop: outcome.stats,
        calls: Vec::new(),
        setup,
    }
}

impl Report {
    /// The last step's window (the only one of a plain run).
    pub fn last(&self) -> Option<&Step> {
        self.steps.last()
    }
}

fn entries(calls: &[Call], rate: f64) -> Entries {
    let mut e = Entries {
        attempted: calls.iter().filter(|c| c.times.invite.is_some()).count(),
        succeeded: calls.iter().filter(|c| c.joined()).count(),
        offered_per_s: rate,
        ..Entries::default()
    };
    e.failed = e.attempted - e.succeeded.min(e.attempted);
    for c in calls {
        if let Some(why) = &c.failure {
            *e.failures.entry(why.clone()).or_default() += 1;
        }
    }
    let leaders = calls.iter().filter(|c| c.plan.role == Role::Leader);
    e.leaders = (
        leaders.clone().filter(|c| c.times.invite.is_some()).count(),
        leaders.filter(|c| c.joined()).count(),
    );
    let mut joins: Vec<Instant> = calls
        .iter()
        .filter(|c| c.plan.role == Role::Guest)
        .filter_map(|c| c.times.joined)
        .collect();
    joins.sort();
    if let (Some(first), Some(last)) = (joins.first(), joins.last()) {
        let span = last.saturating_duration_since(*first).as_secs_f64();
        if span > 0.0 {
            e.achieved_per_s = (joins.len() - 1) as f64 / span;
        }
    }
    e
}

fn latency(calls: &[Call]) -> Latency {
    let between = |f: &dyn Fn(&Call) -> Option<(Instant, Instant)>| {
        percentiles(
            calls
                .iter()
                .filter_map(f)
                .map(|(a, b)| b.saturating_duration_since(a))
                .collect(),
        )
    };
    Latency {
        invite_to_answer: between(&|c| Some((c.times.invite?, c.times.answered?))),
        invite_to_prompt: between(&|c| Some((c.times.invite?, c.times.first_prompt?))),
        last_key_to_mix: between(&|c| {
            (c.plan.role == Role::Guest).then_some(())?;
            Some((c.times.last_key?, c.times.joined?))
        }),
    }
}

/// What the callers in the meeting for the whole (just closed) window heard.
pub fn client(calls: &[Call]) -> Client {
    let mut c = Client::default();
    for w in calls.iter().map(|c| &c.window).filter(|w| w.whole) {
        c.calls += 1;
        c.packets += w.packets;
        c.late += w.late;
        c.lost += w.lost;
        c.max_late_ms = c.max_late_ms.max(w.max_late_us as f64 / 1000.0);
        if w.packets > 0 {
            c.worst_call_late_pct = c
                .worst_call_late_pct
                .max(100.0 * w.late as f64 / w.packets as f64);
        }
    }
    if c.packets > 0 {
        c.late_pct = 100.0 * c.late as f64 / c.packets as f64;
        c.loss_pct = 100.0 * c.lost as f64 / (c.packets + c.lost) as f64;
    }
    c
}

fn server_load(a: &Snapshot, b: &Snapshot) -> Option<ServerLoad> {
    let (ma, mb) = (a.media?, b.media?);
    let secs = b.at.saturating_duration_since(a.at).as_secs_f64();
    let participants = mb.legs;
    let per_participant_s =
        |us: f64| (participants > 0 && secs > 0.0).then(|| us / (participants as f64 * secs));
    let ticks = mb.ticks.saturating_sub(ma.ticks);
    let late_ticks = mb.late_ticks.saturating_sub(ma.late_ticks);
    let busy = mb.busy_us.saturating_sub(ma.busy_us) as f64;
    let cpu = |f: &dyn Fn(&crate::metrics::CpuTicks) -> Option<u64>| {
        let (x, y) = (f(a.server_cpu.as_ref()?)?, f(b.server_cpu.as_ref()?)?);
        Some(y.saturating_sub(x) as f64 / CLOCK_TICKS)
    };
    let media_cpu_s = cpu(&|c| c.media_thread);
    let media_kernel_s = cpu(&|c| c.media_thread_kernel);
    let process_cpu_s = cpu(&|c| Some(c.process));
    let pct = |s: f64| (secs > 0.0).then(|| 100.0 * s / secs);
    Some(ServerLoad {
        window_s: secs,
        participants,
        ticks,
        late_ticks,
        late_tick_pct: if ticks > 0 {
            100.0 * late_ticks as f64 / ticks as f64
        } else {
            0.0
        },
        busy_us_per_participant_s: per_participant_s(busy).unwrap_or(0.0),
        media_thread_cpu_pct: media_cpu_s.and_then(pct),
        media_cpu_us_per_participant_s: media_cpu_s.and_then(|s| per_participant_s(s * 1e6)),
        media_kernel_us_per_participant_s: media_kernel_s.and_then(|s| per_participant_s(s * 1e6)),
        process_cpu_pct: process_cpu_s.and_then(pct),
    })
}

fn own_cpu(a: &Snapshot, b: &Snapshot) -> f64 {
    let secs = b.at.saturating_duration_since(a.at).as_secs_f64();
    match (a.own_cpu, b.own_cpu) {
        (Some(x), Some(y)) if secs > 0.0 => {
            100.0 * y.process.saturating_sub(x.process) as f64 / CLOCK_TICKS / secs
        }
        _ => 0.0,
    }
}

/// Nearest-rank percentiles of `samples`.
pub fn percentiles(mut samples: Vec<Duration>) -> Percentiles {
    samples.sort();
    let at = |p: f64| {
        if samples.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
        let i = rank.clamp(1, samples.len()) - 1;
        samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Percentiles {
        count: samples.len(),
        p50_ms: at(50.0),
        p95_ms: at(95.0),
        p99_ms: at(99.0),
        max_ms: at(100.0),
    }
}

impl Report {
    /// The report as text, one measure per line.
    pub fn text(&self) -> String {
        let mut o = String::new();
        let s = &self.setup;
        let _ = writeln!(
            o,
            "run: {} meetings x {} = {} calls, {}{}, {:.0} entries/s, window {:.0} s",
            s.meetings,
            s.size,
            s.calls,
            if s.srtp { "SRTP" } else { "plain RTP" },
            if s.dtx { " with DTX" } else { "" },
            s.rate,
            s.hold_s
        );
        let e = &self.entries;
        let _ = writeln!(
            o,
            "entries: attempted {} succeeded {} failed {} (leaders {}/{}); guests {:.1}/s offered, {:.1}/s achieved",
            e.attempted,
            e.succeeded,
            e.failed,
            e.leaders.1,
            e.leaders.0,
            e.offered_per_s,
            e.achieved_per_s
        );
        for (why, n) in &e.failures {
            let _ = writeln!(o, "  failed x{n}: {why}");
        }
        let l = &self.latency;
        for (name, p) in [
            ("INVITE -> 2xx", l.invite_to_answer),
            ("INVITE -> first prompt RTP", l.invite_to_prompt),
            ("last passcode key -> first mixed frame", l.last_key_to_mix),
        ] {
            let _ = writeln!(
                o,
                "latency {name}: p50 {:.0} ms p95 {:.0} ms p99 {:.0} ms max {:.0} ms (n={})",
                p.p50_ms, p.p95_ms, p.p99_ms, p.max_ms, p.count
            );
        }
        for step in &self.steps {
            let _ = writeln!(o, "{}", step.line(s.late_after_ms));
        }
        let g = &self.r#loop;
        let _ = writeln!(
            o,
            "loadgen loop: media slots late {} of {} (max lag {:.1} ms), sent {} dropped {}, received {} stray {}",
            g.slots_late,
            g.slots,
            g.max_slot_lag_us as f64 / 1000.0,
            g.sent,
            g.send_dropped,
            g.received,
            g.stray
        );
        for t in &self.calls {
            let f = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{:.0}", v));
            let _ = writeln!(
                o,
                "call {} m{} {:?}: invite {} 2xx {} prompt {} last-key {} verified {} name# {} in {} left {}{}",
                t.index,
                t.meeting,
                t.role,
                f(t.invite),
                f(t.answered),
                f(t.first_prompt),
                f(t.last_key),
                f(t.verified),
                f(t.name_key),
                f(t.joined),
                f(t.left),
                t.failure
                    .as_deref()
                    .map(|w| format!(" FAILED: {w}"))
                    .unwrap_or_default()
            );
        }
        o
    }
}

impl Step {
    /// The step as one line of text.
    pub fn line(&self, late_after_ms: f64) -> String {
        let c = &self.client;
        let mut o = format!(
            "step {} calls: heard {} calls, {} frames, late (>{late_after_ms:.0} ms) {:.3}% (worst call {:.2}%, max {:.1} ms), lost {:.3}%; ",
            self.calls,
            c.calls,
            c.packets,
            c.late_pct,
            c.worst_call_late_pct,
            c.max_late_ms,
            c.loss_pct
        );
        match &self.server {
            Some(v) => {
                let opt = |x: Option<f64>| x.map_or("n/a".to_owned(), |x| format!("{x:.1}"));
                let _ = write!(
                    o,
                    "server {} legs, {} ticks, late {:.2}%, media thread CPU {}% = {} us/participant-s ({} in the kernel; busy clock {:.1}), process CPU {}%; ",
                    v.participants,
                    v.ticks,
                    v.late_tick_pct,
                    opt(v.media_thread_cpu_pct),
                    opt(v.media_cpu_us_per_participant_s),
                    opt(v.media_kernel_us_per_participant_s),
                    v.busy_us_per_participant_s,
                    opt(v.process_cpu_pct)
                );
            }
            None => o.push_str("server: no metrics; "),
        }
        let _ = write!(o, "loadgen CPU {:.1}%", self.loadgen_cpu_pct);
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let ms = |v: u64| Duration::from_millis(v);
        let p = percentiles((1..=100).map(ms).collect());
        assert_eq!(
            (p.count, p.p50_ms, p.p95_ms, p.p99_ms, p.max_ms),
            (100, 50.0, 95.0, 99.0, 100.0)
        );
        let one = percentiles(vec![ms(7)]);
        assert_eq!((one.p50_ms, one.p99_ms), (7.0, 7.0));
        assert_eq!(percentiles(Vec::new()).count, 0);
    }
}
