//! plenum-loadgen: many dial-in calls that key their way into Plenum meetings through a PSTN
//! gateway's address, talk and listen, and measure what they got and what the server spent.
//!
//! A run: meetings are scheduled (or given); every meeting gets a leader (the organizer, by
//! extension and PIN, sending a pilot tone) and guests (by passcode, recording no name: they
//! end the recording at once with `#`); the leaders enter at the given rate, then the guests;
//! once everybody is in, the server's media counters and CPU are read over a window in which
//! every caller counts late and lost frames; then everybody hangs up. [`run`] does it all and
//! gives a [`Report`]; the binary prints it as text or JSON.
//!
//! Modules: `audio` (tones, the pilot detector), `call` (one call), `engine` (the loop and the
//! phases), `metrics` (the server's counters and CPU), `report`,
//! `rtp` (headers), `schedule` (meetings).

pub mod audio;
pub mod call;
pub mod engine;
pub mod metrics;
pub mod report;
pub mod rtp;
pub mod schedule;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::time::Duration;

use anyhow::{Result, bail};

pub use report::Report;
pub use schedule::{Meeting, Scheduler};

use crate::call::{Call, Plan, Role};

/// The demo gateway's address (plain RTP).
pub const PLAIN_GATEWAY: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// The SRTP trunk's address (configured as `[[gateways]]` with `srtp = true`).
pub const SRTP_GATEWAY: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 4));

/// Where the meetings come from.
#[derive(Debug, Clone)]
pub enum Meetings {
    /// These.
    Given(Vec<Meeting>),
    /// Schedule this many.
    Schedule {
        /// How many.
        count: usize,
        /// How.
        scheduler: Scheduler,
    },
}

/// A run's settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// The server's SIP address (UDP).
    pub server: SocketAddr,
    /// The address calls come from: a gateway's ([`PLAIN_GATEWAY`], [`SRTP_GATEWAY`]).
    pub local_ip: IpAddr,
    /// The access number dialled, as the gateway sends it.
    pub number: String,
    /// The meetings.
    pub meetings: Meetings,
    /// Calls per meeting, the leader included.
    pub size: usize,
    /// The leader's extension and PIN.
    pub leader: (String, String),
    /// The language key pressed first.
    pub language_key: char,
    /// Entries started per second.
    pub rate: f64,
    /// The measurement window.
    pub hold: Duration,
    /// Pause between everybody in and the window.
    pub settle: Duration,
    /// Offer SRTP.
    pub srtp: bool,
    /// Guests send a frame only every 200 ms between their talk-spurts.
    pub dtx: bool,
    /// A call not in its meeting this long after its INVITE gives up.
    pub join_timeout: Duration,
    /// A received frame this much behind its 20 ms slot is late.
    pub late_after: Duration,
    /// Calls per media socket pair (1 against a server with `media.shared-port`, which tells
    /// calls apart by their address).
    pub calls_per_socket: usize,
    /// The first media port tried.
    pub media_port_base: u16,
    /// The server's `/metrics` URL.
    pub metrics_url: Option<String>,
    /// The server's pid (for its media thread's CPU).
    pub server_pid: Option<u32>,
    /// Progress lines on stderr.
    pub progress: bool,
    /// Put every call's moments in the report.
    pub trace: bool,
    /// A staircase: participants in the meetings at each step (each step adds whole meetings
    /// to those already in and measures a window). Empty: one step with every meeting.
    pub steps: Vec<usize>,
    /// Climb no further after a step whose window had at least this share of late server
    /// ticks (%), or in which an entry failed.
    pub stop_late_pct: Option<f64>,
}

impl Options {
    /// Defaults for a server at `server`, with `meetings`: the demo gateway, the Redmond access
    /// number, meetings of 5, alice as the leader, 20 entries/s, a 10 s window.
    pub fn new(server: SocketAddr, meetings: Meetings) -> Options {
        Options {
            server,
            local_ip: PLAIN_GATEWAY,
            number: "4255550100".to_owned(),
            meetings,
            size: 5,
            leader: ("1001".to_owned(), "24680".to_owned()),
            language_key: '1',
            rate: 20.0,
            hold: Duration::from_secs(10),
            settle: Duration::from_secs(1),
            srtp: false,
            dtx: false,
            join_timeout: Duration::from_secs(90),
            late_after: Duration::from_millis(10),
            calls_per_socket: 32,
            media_port_base: 40_000,
            metrics_url: None,
            server_pid: None,
            progress: false,
            trace: false,
            steps: Vec::new(),
            stop_late_pct: None,
        }
    }
}

/// Run: schedule, enter, measure, hang up; the numbers.
pub fn run(options: &Options) -> Result<Report> {
    if options.size == 0 {
        bail!("a meeting needs at least its leader (--size 1 or more)");
    }
    let needed = options.steps.iter().max().map(|p| p.div_ceil(options.size));
    let meetings = match &options.meetings {
        Meetings::Given(m) => m.clone(),
        Meetings::Schedule { count, scheduler } => {
            scheduler.schedule(needed.unwrap_or(*count), 4)?
        }
    };
    if meetings.is_empty() || needed.is_some_and(|n| n > meetings.len()) {
        bail!(
            "{} meetings to call into; the steps need {}",
            meetings.len(),
            needed.unwrap_or(1)
        );
    }
    let groups = step_meetings(&options.steps, options.size, meetings.len());
    let plans = plans(options, &meetings, &groups);
    let ends: Vec<usize> = groups.iter().map(|g| g.end * options.size).collect();
    let calls = plans.into_iter().map(Call::new).collect::<Vec<_>>();
    let setup = report::RunSetup {
        meetings: meetings.len(),
        size: options.size,
        calls: calls.len(),
        srtp: options.srtp,
        dtx: options.dtx,
        rate: options.rate,
        hold_s: options.hold.as_secs_f64(),
        late_after_ms: options.late_after.as_secs_f64() * 1000.0,
    };
    let engine = engine::Engine::new(
        engine::Setup {
            server: options.server,
            local_ip: options.local_ip,
            calls_per_socket: options.calls_per_socket,
            media_port_base: options.media_port_base,
            rate: options.rate,
            hold: options.hold,
            settle: options.settle,
            metrics_url: options.metrics_url.clone(),
            server_pid: options.server_pid,
            progress: options.progress,
            stop_late_pct: options.stop_late_pct,
        },
        calls,
    )?;
    let outcome = engine.run(&ends)?;
    let mut report = report::summarise(setup, &outcome);
    if options.trace {
        report.calls = report::traces(&outcome.calls);
    }
    Ok(report)
}

/// The meetings each step brings in: whole meetings up to the step's participants (at least
/// one more per step); one step with all of them when there is no staircase.
pub fn step_meetings(steps: &[usize], size: usize, meetings: usize) -> Vec<Range<usize>> {
    if steps.is_empty() {
        return std::iter::once(0..meetings).collect();
    }
    let mut groups = Vec::with_capacity(steps.len());
    let mut from = 0;
    for p in steps {
        let to = p
            .div_ceil(size.max(1))
            .clamp(from + 1, meetings.max(from + 1));
        groups.push(from..to);
        from = to;
    }
    groups
}

/// Every call of the run, step by step: a step's leaders (one per meeting), then its guests
/// meeting by meeting, so that a meeting's calls share media sockets.
pub fn plans(options: &Options, meetings: &[Meeting], groups: &[Range<usize>]) -> Vec<Plan> {
    let mut plans = Vec::with_capacity(meetings.len() * options.size);
    for group in groups {
        let of = |r: &Range<usize>| meetings.get(r.clone()).unwrap_or_default();
        for (k, meeting) in of(group).iter().enumerate() {
            let (ext, pin) = &options.leader;
            let keys = format!("{}{}#*{ext}#{pin}#", options.language_key, meeting.id);
            let m = group.start + k;
            plans.push(plan(options, plans.len(), m, Role::Leader, &keys));
        }
        for (k, meeting) in of(group).iter().enumerate() {
            for _ in 1..options.size {
                let keys = format!(
                    "{}{}#{}#",
                    options.language_key, meeting.id, meeting.passcode
                );
                let m = group.start + k;
                plans.push(plan(options, plans.len(), m, Role::Guest, &keys));
            }
        }
    }
    plans
}

fn plan(options: &Options, index: usize, meeting: usize, role: Role, keys: &str) -> Plan {
    Plan {
        index,
        meeting,
        role,
        keys: keys.chars().collect(),
        records_name: role == Role::Guest,
        dial: options.number.clone(),
        from_user: format!("+1425{:07}", index % 10_000_000),
        from_host: options.local_ip.to_string(),
        auth: None,
        srtp: options.srtp,
        dtx: options.dtx,
        hold: None,
        join_timeout: options.join_timeout,
        late_after: options.late_after,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn leaders_first_then_guests_with_their_keys() {
        let meetings = vec![
            "1111:222".parse::<Meeting>().unwrap(),
            "3333:444".parse::<Meeting>().unwrap(),
        ];
        let mut o = Options::new(
            "127.0.0.1:5060".parse().unwrap(),
            Meetings::Given(meetings.clone()),
        );
        o.size = 3;
        let p = plans(&o, &meetings, &step_meetings(&[], 3, 2));
        assert_eq!(p.len(), 6);
        let keys = |i: usize| p[i].keys.iter().collect::<String>();
        assert_eq!(
            (p[0].role, p[1].role, p[2].role),
            (Role::Leader, Role::Leader, Role::Guest)
        );
        assert_eq!(keys(0), "11111#*1001#24680#");
        assert_eq!(keys(1), "13333#*1001#24680#");
        assert_eq!((keys(2), p[2].meeting), ("11111#222#".to_owned(), 0));
        assert_eq!((keys(5), p[5].meeting), ("13333#444#".to_owned(), 1));
        assert!(p[2].records_name && !p[0].records_name);
        assert!(p.iter().enumerate().all(|(i, p)| p.index == i));
        // In two steps: meeting 0's leader and guests, then meeting 1's.
        let p = plans(&o, &meetings, &[0..1, 1..2]);
        let roles: Vec<(Role, usize)> = p.iter().map(|p| (p.role, p.meeting)).collect();
        assert_eq!(
            roles,
            [
                (Role::Leader, 0),
                (Role::Guest, 0),
                (Role::Guest, 0),
                (Role::Leader, 1),
                (Role::Guest, 1),
                (Role::Guest, 1)
            ]
        );
    }

    #[test]
    fn steps_take_whole_meetings() {
        assert_eq!(
            step_meetings(&[], 5, 3),
            std::iter::once(0..3).collect::<Vec<_>>()
        );
        assert_eq!(
            step_meetings(&[250, 500, 1000], 100, 10),
            vec![0..3, 3..5, 5..10]
        );
        // At least one meeting more per step.
        assert_eq!(step_meetings(&[3, 4], 5, 2), vec![0..1, 1..2]);
    }
}
