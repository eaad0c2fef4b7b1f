//! `plenum-loadgen`: dial-in load against a running Plenum server; see the library's doc.
//!
//! ```sh
//! plenum-loadgen --server 127.0.0.1:5060 --data-dir plenum-data --meetings 20 --size 5 \
//!     --rate 50 --hold 30 --admin-url http://127.0.0.1:8089 --server-pid $(pidof plenum)
//! ```

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use plenum_loadgen::schedule::{self, Meeting, Scheduler};
use plenum_loadgen::{Meetings, Options, PLAIN_GATEWAY, SRTP_GATEWAY};

/// Dial-in load: calls from a gateway's address key their way into meetings, talk and listen;
/// reports entries, latencies, what the callers heard and what the server spent.
#[derive(Debug, Parser)]
#[command(name = "plenum-loadgen", version)]
struct Cli {
    /// The server's SIP address over UDP (`IP:PORT`, `udp:` prefix allowed).
    #[arg(long, default_value = "127.0.0.1:5060")]
    server: String,
    /// The server's data dir: `demo-credentials.txt` gives the organizer's password (to
    /// schedule) and the leader's extension and PIN.
    #[arg(long, env = "PLENUM_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Meetings to schedule (with `plenum meeting schedule`).
    #[arg(long, default_value_t = 1)]
    meetings: usize,
    /// Calls per meeting, the leader included.
    #[arg(long, default_value_t = 5)]
    size: usize,
    /// Call into this meeting instead of scheduling (`CONFERENCE-ID:PASSCODE`; repeatable).
    #[arg(long = "meeting")]
    meeting: Vec<Meeting>,
    /// Passcode of the meetings scheduled.
    #[arg(long, default_value = "135790")]
    passcode: String,
    /// The organizer who schedules and leads (`user@domain` in the credentials).
    #[arg(long, default_value = "alice@contoso.example")]
    organizer: String,
    /// The leader's `EXTENSION:PIN` (default: the organizer's, from the credentials).
    #[arg(long)]
    leader: Option<String>,
    /// The `plenum` binary used to schedule (default: next to this one, else on PATH).
    #[arg(long)]
    plenum: Option<PathBuf>,
    /// Entries started per second.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// The measurement window once everybody is in, seconds.
    #[arg(long, default_value_t = 10.0)]
    hold: f64,
    /// Offer SRTP, from the SRTP trunk's address (127.0.0.4) unless `--gateway` says otherwise.
    #[arg(long)]
    srtp: bool,
    /// Guests in the meeting send a frame only every 200 ms between talk-spurts (VAD/DTX, as
    /// many SIP phones) instead of silence every 20 ms (as PSTN gateways).
    #[arg(long)]
    dtx: bool,
    /// The address calls come from (a configured gateway's).
    #[arg(long)]
    gateway: Option<IpAddr>,
    /// The access number dialled.
    #[arg(long, default_value = "4255550100")]
    number: String,
    /// A received frame this many ms behind its 20 ms slot counts as late.
    #[arg(long, default_value_t = 10.0)]
    late_ms: f64,
    /// A call not in its meeting this many seconds after its INVITE gives up.
    #[arg(long, default_value_t = 90.0)]
    join_timeout: f64,
    /// Calls per media socket pair (1 against a server with `media.shared-port`, which tells
    /// calls apart by their address).
    #[arg(long, default_value_t = 32)]
    calls_per_socket: usize,
    /// The first media port tried.
    #[arg(long, default_value_t = 40_000)]
    media_port_base: u16,
    /// The server's admin URL (its `/metrics` is read).
    #[arg(long, env = "PLENUM_ADMIN_URL")]
    admin_url: Option<String>,
    /// The server's pid (its media thread's CPU is read from /proc).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// No progress lines on stderr.
    #[arg(long)]
    quiet: bool,
    /// Every call's moments in the report.
    #[arg(long)]
    trace: bool,
    /// A staircase of participant counts (e.g. `250,500,1000`): each step adds whole meetings
    /// and measures a window; the meetings scheduled are those the last step needs.
    #[arg(long, value_delimiter = ',')]
    steps: Vec<usize>,
}

fn main() {
    let cli = Cli::parse();
    match options(&cli).and_then(|o| plenum_loadgen::run(&o)) {
        Ok(report) if cli.json => match serde_json::to_string_pretty(&report) {
            Ok(j) => println!("{j}"),
            Err(e) => fail(&e.into()),
        },
        Ok(report) => print!("{}", report.text()),
        Err(e) => fail(&e),
    }
}

fn fail(e: &anyhow::Error) -> ! {
    eprintln!("plenum-loadgen: {e:#}");
    std::process::exit(1);
}

fn options(cli: &Cli) -> Result<Options> {
    let server: SocketAddr = cli
        .server
        .strip_prefix("udp:")
        .unwrap_or(&cli.server)
        .parse()
        .with_context(|| format!("--server {}: expected IP:PORT", cli.server))?;
    let users = match &cli.data_dir {
        Some(d) => schedule::read_credentials(&d.join("demo-credentials.txt"))?,
        None => Vec::new(),
    };
    let (name, domain) = cli
        .organizer
        .split_once('@')
        .context("--organizer: expected user@domain")?;
    let organizer = users.iter().find(|u| u.user == name && u.domain == domain);
    let meetings = if cli.meeting.is_empty() {
        let Some(org) = organizer else {
            bail!(
                "scheduling needs --data-dir with the organizer's credentials (or give --meeting)"
            );
        };
        Meetings::Schedule {
            count: cli.meetings,
            scheduler: Scheduler {
                plenum: cli.plenum.clone().unwrap_or_else(plenum_binary),
                server: format!("udp:{server}"),
                organizer: cli.organizer.clone(),
                password: org.password.clone(),
                passcode: cli.passcode.clone(),
                admission: "anonymous".to_owned(),
            },
        }
    } else {
        Meetings::Given(cli.meeting.clone())
    };
    let mut o = Options::new(server, meetings);
    o.leader = match (&cli.leader, organizer) {
        (Some(l), _) => {
            let (e, p) = l
                .split_once(':')
                .context("--leader: expected EXTENSION:PIN")?;
            (e.to_owned(), p.to_owned())
        }
        (None, Some(org)) => (org.extension.clone(), org.pin.clone()),
        (None, None) => o.leader,
    };
    o.local_ip = cli.gateway.unwrap_or(if cli.srtp {
        SRTP_GATEWAY
    } else {
        PLAIN_GATEWAY
    });
    o.number = cli.number.clone();
    o.size = cli.size;
    o.rate = cli.rate;
    o.hold = secs(cli.hold, "--hold")?;
    o.srtp = cli.srtp;
    o.dtx = cli.dtx;
    o.join_timeout = secs(cli.join_timeout, "--join-timeout")?;
    o.late_after = secs(cli.late_ms / 1000.0, "--late-ms")?;
    o.calls_per_socket = cli.calls_per_socket;
    o.media_port_base = cli.media_port_base;
    o.metrics_url = cli
        .admin_url
        .as_ref()
        .map(|u| format!("{}/metrics", u.trim_end_matches('/')));
    o.server_pid = cli.server_pid;
    o.progress = !cli.quiet;
    o.trace = cli.trace;
    o.steps = cli.steps.clone();
    Ok(o)
}

fn secs(v: f64, what: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(v).with_context(|| format!("{what}: not a duration"))
}

/// `plenum` next to this binary (a cargo target dir), else whatever PATH finds.
fn plenum_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("plenum")))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("plenum"))
}
