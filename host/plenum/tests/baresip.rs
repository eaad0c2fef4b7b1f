//! End to end with baresip (Debian package `baresip`, version 1.0) as a real SIP peer, on both
//! sides of a meeting:
//!
//! - a **dial-in phone**: baresip bound to the demo gateway's address (127.0.0.2, plain RTP) or
//!   to an SRTP-only trunk from the configuration (127.0.0.4), calling the Redmond access number
//!   and keying language, conference ID, passcode and the end of the name recording as
//!   RFC 4733 events;
//! - the **organizer's SIP client**: baresip as alice@contoso.example, answering the digest
//!   challenge with her password and offering SRTP (SDES, `mediaenc=srtp-mand`), calling the
//!   meeting's focus URI directly.
//!
//! Each sends its own tone from a WAV file and records what it hears (baresip's sndfile
//! filter). The recordings are checked with a Goertzel filter and against the server's own
//! clips: the phone hears the welcome prompt, then the hold music while the organizer is
//! absent; then each hears the other's tone and not its own; the phone, a dial-in participant,
//! hears the entry chime as it enters the mix, and the organizer, a SIP client, does not. (The
//! chime the waiting phone hears is the one for its own entry: when the organizer arrives the
//! phone is still on hold, outside the mix, and announcements reach only the mix.) The tests
//! also read the SDP answers from baresip's SIP trace (`RTP/SAVP` with `a=crypto` for SRTP) and
//! the joins from the tenant's audit log, and print how long the phone waits for the first
//! prompt and, after its passcode, for the first frame of the meeting.
//!
//! baresip is driven over its `ctrl_tcp` module (JSON commands in netstrings: `dial`,
//! `sndcode`, `mute`, `hangup`) and reports its events there; the test reacts to what the phone
//! hears by reading its recording while it is written. The server offers MD5 digest only (its
//! default): baresip 1.0 gives up on a challenge that also offers SHA-256.
//! The tests share one lock: they measure time on a machine with few cores, so they do not run
//! at once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::{GATEWAY, Server, free_port, ok};
use plenum_assets::{Catalog, wav};
use plenum_mixer::goertzel;

/// Samples per second (G.711).
const RATE: usize = 8_000;
/// Samples per 20 ms frame.
const FRAME: usize = 160;
/// The phone's tone.
const PHONE_HZ: f64 = 1_000.0;
/// The organizer's tone: far from the entry chime's notes (587 and 880 Hz) and from the hold
/// music's notes and their overtones (nearest: 1175 and 1319 Hz).
const ORGANIZER_HZ: f64 = 1_250.0;
/// The entry chime: D5 then A5 (assets/generate.sh).
const CHIME_HZ: [f64; 2] = [587.33, 880.0];
/// Level of both tones (the mixer passes a single talker unchanged).
const TONE_LEVEL: f64 = 8_000.0;
/// A tone "is heard" above this amplitude (the mixer ducks talkers by 6 dB under an
/// announcement), and "is not heard" below [`ABSENT`] (-30 dB).
const PRESENT: f64 = 2_500.0;
/// See [`PRESENT`].
const ABSENT: f64 = 250.0;
/// The SRTP-only trunk of `tests/baresip/plenum.toml`.
const TRUNK: &str = "127.0.0.4";
const PASSCODE: &str = "135790";
/// Keys are pressed this far apart (each an RFC 4733 event of baresip's default length).
const KEY_GAP: Duration = Duration::from_millis(250);
/// A prompt is over when this much silence follows it (longer than the pauses inside one).
const QUIET: usize = RATE / 2;
/// How long the phone listens to the hold music before the organizer calls.
const ON_HOLD: usize = RATE * 5 / 2;
/// How long both stay in the meeting once the phone hears the organizer.
const TOGETHER: Duration = Duration::from_secs(4);
/// The longest wait for something to be heard.
const PATIENCE: Duration = Duration::from_secs(15);

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// `plenum serve` with `tests/baresip/plenum.toml` (MD5 digest, the SRTP trunk).
fn server(dir: &Path) -> Server {
    let config = dir.join("plenum.toml");
    std::fs::write(&config, include_str!("baresip/plenum.toml")).unwrap();
    Server::start_with(&dir.join("data"), &["--config", config.to_str().unwrap()])
}

/// A meeting of alice's: anonymous callers wait for a leader.
struct Meeting {
    focus_uri: String,
    pstn_id: String,
}

fn schedule(s: &Server) -> Meeting {
    let out = common::plenum()
        .args([
            "meeting",
            "schedule",
            "--organizer",
            "alice@contoso.example",
        ])
        .args(["--password", &s.password("alice"), "--subject", "baresip"])
        .args(["--passcode", PASSCODE, "--admission", "anonymous", "--json"])
        .args(["--server", &format!("udp:{}", s.sip_addr("udp"))])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    Meeting {
        focus_uri: v["conference_uri"].as_str().unwrap().to_owned(),
        pstn_id: v["pstn_conference_id"].as_str().unwrap().to_owned(),
    }
}

/// The joins in the tenant's audit log (subjects).
fn joins(s: &Server) -> Vec<String> {
    let out = s.cli(&["audit", "--tenant", "contoso", "--limit", "100", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "join")
        .map(|e| e["subject"].as_str().unwrap_or_default().to_owned())
        .collect()
}

// ---- baresip ----

/// Who a baresip instance is.
struct Agent {
    /// Its directory under the test's temporary dir, and its aubridge device.
    name: &'static str,
    /// The address it binds SIP and RTP to.
    ip: &'static str,
    /// Its line in baresip's `accounts` file.
    account: String,
    /// The tone it sends.
    tone_hz: f64,
}

impl Agent {
    /// A PSTN phone behind a gateway at `ip`, calling from `number` (E.164: the server takes
    /// the caller ID as it comes, a national one would leave the caller anonymous).
    fn phone(name: &'static str, ip: &'static str, number: &str, srtp: bool) -> Agent {
        let menc = if srtp { ";mediaenc=srtp-mand" } else { "" };
        Agent {
            name,
            ip,
            account: format!("<sip:{number}@{ip}>;regint=0{menc}"),
            tone_hz: PHONE_HZ,
        }
    }

    /// alice's SIP client: digest with her password, SRTP only, every request to the server.
    fn organizer(s: &Server) -> Agent {
        Agent {
            name: "organizer",
            ip: "127.0.0.1",
            account: format!(
                "<sip:alice@contoso.example>;auth_pass={};outbound=\"sip:{}\";regint=0;\
                 mediaenc=srtp-mand",
                s.password("alice"),
                s.sip_addr("udp")
            ),
            tone_hz: ORGANIZER_HZ,
        }
    }
}

/// An event baresip reported: when it arrived, its type and parameter.
type Events = Arc<Mutex<Vec<(Instant, String, String)>>>;

/// A running baresip, driven over ctrl_tcp; killed on drop.
struct Baresip {
    name: &'static str,
    child: Child,
    ctl: TcpStream,
    events: Events,
    dir: PathBuf,
}

/// What a baresip instance heard and logged.
struct Heard {
    /// Its decoded audio, 8 kHz, from the first RTP packet on.
    samples: Vec<i16>,
    /// When the first RTP packet came (`CALL_RTPESTAB`): sample 0.
    first_rtp: Instant,
    /// When the call ended (`CALL_CLOSED`).
    closed: Option<Instant>,
    /// Its console output with the SIP trace (`-s`).
    log: String,
}

impl Baresip {
    /// Start baresip for `agent` in `<dir>/<name>` and connect to its control port.
    fn start(dir: &Path, agent: &Agent) -> Baresip {
        let home = dir.join(agent.name);
        let rec = home.join("rec");
        std::fs::create_dir_all(&rec).unwrap();
        let source = home.join("tone.wav");
        std::fs::write(&source, wav::encode_pcm16(&tone(agent.tone_hz, 60))).unwrap();
        let ctrl = format!("127.0.0.1:{}", free_port("127.0.0.1"));
        let config = include_str!("baresip/config")
            .replace("@SIP@", &format!("{}:{}", agent.ip, sip_port(agent.ip)))
            .replace("@IP@", agent.ip)
            .replace("@SOURCE@", source.to_str().unwrap())
            .replace("@NAME@", agent.name)
            .replace("@REC@", rec.to_str().unwrap())
            .replace("@MODULES@", &modules())
            .replace("@CTRL@", &ctrl);
        std::fs::write(home.join("config"), config).unwrap();
        std::fs::write(home.join("accounts"), format!("{}\n", agent.account)).unwrap();
        let log = std::fs::File::create(home.join("baresip.log")).unwrap();
        let mut child = Command::new("baresip")
            .arg("-f")
            .arg(&home)
            .arg("-s")
            .current_dir(&home)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("baresip runs (Debian package baresip; tests/run installs it)");
        let ctl = connect(&ctrl, &mut child, &home);
        let mut b = Baresip {
            name: agent.name,
            child,
            ctl,
            events: Arc::default(),
            dir: home,
        };
        b.listen();
        b
    }

    /// Read events from the control connection on a thread, until baresip closes it.
    fn listen(&mut self) {
        let mut ctl = self.ctl.try_clone().unwrap();
        let events = Arc::clone(&self.events);
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = ctl.read(&mut chunk) {
                buf.extend_from_slice(&chunk[..n]);
                while let Some((msg, used)) = netstring(&buf) {
                    buf.drain(..used);
                    let v: serde_json::Value = serde_json::from_slice(&msg).unwrap_or_default();
                    if v["event"] == true {
                        let kind = v["type"].as_str().unwrap_or_default().to_owned();
                        let param = v["param"].as_str().unwrap_or_default().to_owned();
                        events.lock().unwrap().push((Instant::now(), kind, param));
                    }
                }
            }
        });
    }

    /// Send a command (`params` may be empty); the instant just before.
    fn command(&mut self, command: &str, params: &str) -> Instant {
        let msg = serde_json::json!({ "command": command, "params": params, "token": "t" });
        let body = msg.to_string();
        let now = Instant::now();
        self.ctl
            .write_all(format!("{}:{body},", body.len()).as_bytes())
            .unwrap();
        now
    }

    /// Call `uri`; the instant the INVITE left.
    fn dial(&mut self, uri: &str) -> Instant {
        self.command("dial", uri)
    }

    /// Press `keys` one at a time, [`KEY_GAP`] apart, the first at `start`; the instant of the
    /// last press.
    fn keys(&mut self, keys: &str, start: Instant) -> Instant {
        let mut at = start;
        let mut last = start;
        for k in keys.chars() {
            sleep_until(at);
            last = self.command("sndcode", &k.to_string());
            at += KEY_GAP;
        }
        last
    }

    /// Mute or unmute (baresip's `mute` toggles; muted, it sends silence); the instant.
    fn toggle_mute(&mut self) -> Instant {
        self.command("mute", "")
    }

    /// What it has heard so far: its recording, read while sndfile writes it.
    fn hearing(&self) -> Heard {
        Heard {
            samples: recording(&self.dir.join("rec")).unwrap_or_default(),
            first_rtp: self
                .event("CALL_RTPESTAB")
                .map_or_else(Instant::now, |(t, _)| t),
            closed: None,
            log: String::new(),
        }
    }

    /// Wait until `found` finds something in what it has heard (looked at every 50 ms), and
    /// return that; fail with the log after [`PATIENCE`].
    fn until_heard<T>(&self, what: &str, mut found: impl FnMut(&Heard) -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(t) = found(&self.hearing()) {
                return t;
            }
            if Instant::now() > deadline {
                panic!("{}: did not hear {what}\n{}", self.name, self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// When the first event of `kind` came, waiting up to `timeout` for it.
    fn wait_for(&self, kind: &str, timeout: Duration) -> Option<(Instant, String)> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.event(kind) {
                return Some(e);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn event(&self, kind: &str) -> Option<(Instant, String)> {
        let events = self.events.lock().unwrap();
        events
            .iter()
            .find(|(_, k, _)| k == kind)
            .map(|(t, _, p)| (*t, p.clone()))
    }

    /// Wait for `kind` or fail with the log.
    fn expect(&self, kind: &str, timeout: Duration) -> (Instant, String) {
        self.wait_for(kind, timeout).unwrap_or_else(|| {
            panic!(
                "{}: no {kind} within {timeout:?}\n{}",
                self.name,
                self.log()
            )
        })
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("baresip.log")).unwrap_or_default()
    }

    /// Hang up, stop baresip and read what it recorded.
    fn finish(mut self) -> Heard {
        if self.event("CALL_CLOSED").is_none() {
            self.command("hangup", "");
            self.wait_for("CALL_CLOSED", Duration::from_secs(3));
        }
        // SIGTERM: baresip stops its user agents and flushes its output.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let log = self.log();
        let first_rtp = self
            .event("CALL_RTPESTAB")
            .unwrap_or_else(|| panic!("{}: no RTP came\n{log}", self.name))
            .0;
        let samples = recording(&self.dir.join("rec"))
            .unwrap_or_else(|e| panic!("{}: {e}\n{log}", self.name));
        Heard {
            samples,
            first_rtp,
            closed: self.event("CALL_CLOSED").map(|(t, _)| t),
            log,
        }
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Connect to a control port, waiting for baresip to open it.
fn connect(addr: &str, child: &mut Child, home: &Path) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect(addr) {
            Ok(s) => return s,
            Err(e) => {
                let exited = child.try_wait().unwrap();
                if exited.is_some() || Instant::now() > deadline {
                    let _ = child.kill();
                    let log = std::fs::read_to_string(home.join("baresip.log"));
                    panic!("baresip ({exited:?}): no ctrl_tcp on {addr}: {e}\n{log:?}");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// One netstring (`LEN:BYTES,`) at the start of `buf`: its bytes and the length used.
fn netstring(buf: &[u8]) -> Option<(Vec<u8>, usize)> {
    let colon = buf.iter().position(|&b| b == b':')?;
    let len: usize = std::str::from_utf8(&buf[..colon]).ok()?.parse().ok()?;
    let end = colon + 1 + len;
    (buf.len() > end).then(|| (buf[colon + 1..end].to_vec(), end + 1))
}

/// A free SIP port on `ip` whose successor is free too (baresip listens for TLS there).
fn sip_port(ip: &str) -> u16 {
    loop {
        let port = free_port(ip);
        if std::net::TcpListener::bind((ip, port + 1)).is_ok() {
            return port;
        }
    }
}

/// Where baresip's modules are (Debian's path first).
fn modules() -> String {
    [
        "/usr/lib/baresip/modules",
        "/usr/lib/x86_64-linux-gnu/baresip/modules",
        "/usr/local/lib/baresip/modules",
    ]
    .into_iter()
    .find(|d| Path::new(d).join("aufile.so").exists())
    .expect("baresip's modules (Debian package baresip; tests/run installs it)")
    .to_owned()
}

/// The samples of the one recording of what was heard in `dir` (sndfile's
/// `dump-<time>-dec.wav`, 8 kHz mono PCM16). The sizes in its header are written when the call
/// ends, so everything after the `data` chunk's header is read, finished or not.
fn recording(dir: &Path) -> Result<Vec<i16>, String> {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with("-dec.wav"))
        .collect();
    let [file] = files.as_slice() else {
        return Err(format!(
            "expected one *-dec.wav in {}: {files:?}",
            dir.display()
        ));
    };
    let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
    let data = bytes
        .windows(4)
        .position(|w| w == b"data")
        .ok_or_else(|| format!("{}: no data chunk", file.display()))?;
    Ok(bytes
        .get(data + 8..)
        .unwrap_or_default()
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect())
}

/// `secs` seconds of a sine at `hz`.
fn tone(hz: f64, secs: usize) -> Vec<i16> {
    (0..secs * RATE)
        .map(|n| {
            let phase = 2.0 * std::f64::consts::PI * hz * n as f64 / RATE as f64;
            (TONE_LEVEL * phase.sin()) as i16
        })
        .collect()
}

fn sleep_until(t: Instant) {
    std::thread::sleep(t.saturating_duration_since(Instant::now()));
}

// ---- what was heard ----

impl Heard {
    /// The sample heard at `t`.
    fn index(&self, t: Instant) -> usize {
        (t.saturating_duration_since(self.first_rtp).as_secs_f64() * RATE as f64) as usize
    }

    /// The time of sample `i`.
    fn at(&self, i: usize) -> Instant {
        self.first_rtp + Duration::from_secs_f64(i as f64 / RATE as f64)
    }

    /// How well the recording's sample clock (one sample per 125 µs from the first packet)
    /// kept to the wall clock: seconds recorded and seconds between the first packet and the
    /// hang-up.
    fn clock(&self) -> String {
        let wall = self
            .closed
            .map_or(0.0, |c| (c - self.first_rtp).as_secs_f64());
        format!(
            "{:.3} s recorded between the first RTP packet and the hang-up, {wall:.3} s apart",
            self.samples.len() as f64 / RATE as f64
        )
    }

    /// The amplitude of `hz` in `len` samples from `start` (0 past the end).
    fn amplitude(&self, start: usize, len: usize, hz: f64) -> f64 {
        let end = (start + len).min(self.samples.len());
        self.samples
            .get(start..end)
            .map_or(0.0, |w| goertzel::amplitude(w, hz))
    }

    /// The first sample (in 10 ms steps from `from`) where `hz` sets in and stays: present in
    /// the next 20 ms and in the next 200 ms.
    fn onset(&self, hz: f64, from: usize) -> Option<usize> {
        (from..self.samples.len().saturating_sub(10 * FRAME))
            .step_by(FRAME / 2)
            .find(|&i| {
                self.amplitude(i, FRAME, hz) > PRESENT
                    && self.amplitude(i, 10 * FRAME, hz) > PRESENT
            })
    }

    /// The lowest and highest amplitude of `hz` over 200 ms windows of `range` (which must
    /// hold one).
    fn span(&self, hz: f64, range: Range<usize>) -> (f64, f64) {
        let end = range.end.min(self.samples.len());
        let windows: Vec<f64> = (range.start..end.saturating_sub(10 * FRAME))
            .step_by(10 * FRAME)
            .map(|i| self.amplitude(i, 10 * FRAME, hz))
            .collect();
        assert!(!windows.is_empty(), "no 200 ms in {range:?}");
        windows
            .iter()
            .fold((f64::MAX, 0.0f64), |(lo, hi), &a| (lo.min(a), hi.max(a)))
    }

    /// The highest amplitude of `hz` over 100 ms windows (10 ms steps) of `range`, and where.
    fn peak(&self, hz: f64, range: Range<usize>) -> (f64, usize) {
        let end = range.end.min(self.samples.len());
        (range.start..end.saturating_sub(5 * FRAME))
            .step_by(FRAME / 2)
            .map(|i| (self.amplitude(i, 5 * FRAME, hz), i))
            .fold((0.0, 0), |best, x| if x.0 > best.0 { x } else { best })
    }

    /// The first 20 ms frame from `from` louder than `rms`.
    fn first_sound(&self, from: usize, level: f64) -> Option<usize> {
        (from..self.samples.len().saturating_sub(FRAME))
            .step_by(FRAME / 2)
            .find(|&i| rms(&self.samples[i..i + FRAME]) > level)
    }

    /// Where a prompt that starts after `from` is over: the end of the first sound from
    /// there, once [`QUIET`] of silence has followed it.
    fn after_prompt(&self, from: usize) -> Option<usize> {
        let start = self.first_sound(from, 300.0)?;
        let mut last_sound = start;
        for i in (start..self.samples.len().saturating_sub(FRAME)).step_by(FRAME) {
            if rms(&self.samples[i..i + FRAME]) > 100.0 {
                last_sound = i;
            } else if i - last_sound >= QUIET {
                return Some(last_sound + FRAME);
            }
        }
        None
    }

    /// Where `clip` starts in `range`: its first 200 ms heard as sent, within G.711 µ-law's
    /// quantisation error.
    fn find(&self, clip: &[i16], range: Range<usize>) -> Option<usize> {
        let probe = &clip[..clip.len().min(10 * FRAME)];
        // Check the loudest sample first: it rules out almost every offset at once.
        let anchor = (0..probe.len())
            .max_by_key(|&i| probe[i].unsigned_abs())
            .unwrap_or(0);
        range.into_iter().find(|&k| {
            self.samples
                .get(k + anchor)
                .is_some_and(|&s| close(s, probe[anchor]))
                && self
                    .samples
                    .get(k..k + probe.len())
                    .is_some_and(|h| h.iter().zip(probe).all(|(&a, &b)| close(a, b)))
        })
    }

    /// Of the 20 ms frames of `range`, the share heard exactly as `clip` (looped) from
    /// `start` on.
    fn follows(&self, clip: &[i16], start: usize, range: Range<usize>) -> f64 {
        let frames: Vec<usize> = (range.start.max(start)..range.end.min(self.samples.len()))
            .step_by(FRAME)
            .filter(|i| i + FRAME <= self.samples.len())
            .collect();
        let same = frames
            .iter()
            .filter(|&&i| {
                (0..FRAME).all(|j| close(self.samples[i + j], clip[(i - start + j) % clip.len()]))
            })
            .count();
        same as f64 / frames.len().max(1) as f64
    }

    /// The SDP answer to the INVITE: the last 200 OK with a body in the SIP trace, where
    /// baresip prints each message between the escape sequences `ESC[36;1m#` and `ESC[;m`.
    fn sdp_answer(&self) -> String {
        self.log
            .split('\x1b')
            .filter_map(|m| m.strip_prefix("[36;1m#\n"))
            .rfind(|m| {
                m.lines()
                    .nth(1)
                    .is_some_and(|l| l.starts_with("SIP/2.0 200"))
                    && m.contains(" INVITE\r\n")
                    && m.contains("\nm=")
            })
            .unwrap_or_else(|| panic!("no 200 OK with SDP in the trace:\n{}", self.log))
            .to_owned()
    }
}

/// The root mean square of `samples`.
fn rms(samples: &[i16]) -> f64 {
    let energy: f64 = samples.iter().map(|&s| f64::from(s).powi(2)).sum();
    (energy / samples.len().max(1) as f64).sqrt()
}

/// Two samples within G.711 µ-law's quantisation error of each other.
fn close(heard: i16, sent: i16) -> bool {
    let (a, b) = (i32::from(heard), i32::from(sent));
    (a - b).abs() <= 16 + b.abs() / 16
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

/// The phone's attendant dialogue, muted so that its recorded name is empty (the server then
/// announces it with the entry chime, not with its own tone): language 1, conference ID `#`,
/// passcode `#`, the first key 0.6 s after the first RTP packet (barging into the welcome);
/// then `#` once "After the tone, please say your name." is over. The instants of the
/// passcode's `#` and of the `#` that ends the name.
fn dial_in(phone: &mut Baresip, pstn_id: &str, first_rtp: Instant) -> (Instant, Instant) {
    phone.toggle_mute();
    let passcode = phone.keys(
        &format!("1{pstn_id}#{PASSCODE}#"),
        first_rtp + Duration::from_millis(600),
    );
    let from = phone.hearing().index(passcode);
    phone.until_heard("the name prompt", |h| h.after_prompt(from));
    let name = phone.command("sndcode", "#");
    (passcode, name)
}

/// The welcome prompt starts the call: where it starts in what `phone` heard, and how long
/// after the INVITE that was.
fn welcome(phone: &Heard, invite: Instant) -> Duration {
    let clip = Catalog::embedded().clip("en-US", "welcome").unwrap();
    let start = phone
        .find(&clip, 0..2 * RATE)
        .expect("the phone hears the welcome prompt first");
    phone.at(start) - invite
}

// ---- the tests ----

#[test]
fn a_dial_in_phone_waits_on_hold_music_then_hears_the_srtp_organizer_and_not_itself() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path());
    let meeting = schedule(&s);
    let phone_agent = Agent::phone("phone", GATEWAY, "+14255551234", false);
    let mut phone = Baresip::start(dir.path(), &phone_agent);
    let mut organizer = Baresip::start(dir.path(), &Agent::organizer(&s));

    let invite = phone.dial(&format!("sip:4255550100@{}", s.sip_addr("udp")));
    let (first_rtp, _) = phone.expect("CALL_RTPESTAB", Duration::from_secs(5));
    let (passcode, name) = dial_in(&mut phone, &meeting.pstn_id, first_rtp);
    // "The leader has not joined yet…", then hold music: the organizer calls once the phone
    // has heard some of it.
    let music = Catalog::embedded().hold_music();
    let from = phone.hearing().index(name);
    phone.until_heard("hold music", |h| {
        h.find(&music, from..h.samples.len())
            .filter(|&start| h.samples.len() >= start + ON_HOLD)
    });
    phone.toggle_mute();
    let organizer_invite = organizer.dial(&meeting.focus_uri);
    let (_, cipher) = organizer.expect("CALL_MENC", Duration::from_secs(5));
    organizer.expect("CALL_ESTABLISHED", Duration::from_secs(5));
    let alone = phone.hearing().index(organizer_invite);
    phone.until_heard("the organizer", |h| h.onset(ORGANIZER_HZ, alone));
    std::thread::sleep(TOGETHER);
    let org = organizer.finish();
    let heard = phone.finish();

    eprintln!(
        "phone (RTP): INVITE to first RTP packet {} ms; INVITE to the welcome prompt's first \
         sample {} ms; to the first audible frame {} ms",
        ms(first_rtp - invite),
        ms(welcome(&heard, invite)),
        ms(heard.at(heard.first_sound(0, 300.0).unwrap()) - invite),
    );
    eprintln!("phone: {}; organizer: {}", heard.clock(), org.clock());
    assert_beep(&heard, passcode, name);

    // Hold music while the organizer is absent: the server's clip, from its start, as sent;
    // no tone of either.
    let start = heard
        .find(&music, heard.index(name)..alone)
        .expect("the phone hears the hold music while the organizer is absent");
    let held = start..alone;
    let share = heard.follows(&music, start, held.clone());
    assert!(
        alone - start >= ON_HOLD && share > 0.95,
        "{} ms of hold music, {share:.2} of it as sent",
        (alone - start) * 1000 / RATE
    );
    let (_, org_on_hold) = heard.span(ORGANIZER_HZ, held.clone());
    let (_, own_on_hold) = heard.span(PHONE_HZ, held);
    assert!(
        org_on_hold < ABSENT && own_on_hold < ABSENT,
        "tones on hold: organizer {org_on_hold:.0}, own {own_on_hold:.0}"
    );

    // Then the organizer's tone, and with it the entry chime; never the phone's own tone.
    let onset = heard
        .onset(ORGANIZER_HZ, alone)
        .expect("the phone hears the organizer");
    let admitted = clip_ms("admitted");
    eprintln!(
        "phone (RTP): the organizer's INVITE to its first frame at the phone {} ms (of which \
         \"You have been admitted to the meeting.\" {admitted} ms)",
        ms(heard.at(onset) - organizer_invite)
    );
    chime_around(&heard, onset);
    both_hear_each_other(&heard, onset, &org, None);
    for hz in CHIME_HZ {
        let (chime, _) = org.peak(hz, 0..org.samples.len());
        assert!(
            chime < ABSENT,
            "a SIP client hears the entry chime ({hz} Hz): {chime:.0}"
        );
    }

    // SRTP for the organizer, plain RTP for the gateway.
    assert!(cipher.contains("AES_CM_128_HMAC_SHA1_80"), "{cipher}");
    let answer = org.sdp_answer();
    assert!(
        answer.contains("RTP/SAVP") && answer.contains("a=crypto:"),
        "{answer}"
    );
    let answer = heard.sdp_answer();
    assert!(
        answer.contains("RTP/AVP") && !answer.contains("a=crypto"),
        "{answer}"
    );

    let joins = joins(&s);
    assert!(
        joins.iter().any(|j| j == "sip:alice@contoso.example"),
        "{joins:?}"
    );
    assert!(joins.iter().any(|j| j == "tel:+14255551234"), "{joins:?}");
}

#[test]
fn an_srtp_trunk_phone_joins_the_organizer_s_meeting_and_a_plain_offer_from_it_gets_488() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path());
    let meeting = schedule(&s);
    let access = format!("sip:4255550100@{}", s.sip_addr("udp"));

    // The trunk must use SRTP: a plain RTP offer from it is refused.
    let plain_agent = Agent::phone("plain", TRUNK, "+14255556789", false);
    let mut plain = Baresip::start(dir.path(), &plain_agent);
    plain.dial(&access);
    let (_, closed) = plain.expect("CALL_CLOSED", Duration::from_secs(5));
    assert!(closed.contains("488"), "{closed}");
    let log = plain.log();
    assert!(log.contains("SRTP required"), "{log}");
    drop(plain);

    // The organizer is in first.
    let mut organizer = Baresip::start(dir.path(), &Agent::organizer(&s));
    organizer.dial(&meeting.focus_uri);
    organizer.expect("CALL_ESTABLISHED", Duration::from_secs(5));

    let trunk_agent = Agent::phone("trunk", TRUNK, "+14255556789", true);
    let mut phone = Baresip::start(dir.path(), &trunk_agent);
    let invite = phone.dial(&access);
    let (first_rtp, _) = phone.expect("CALL_RTPESTAB", Duration::from_secs(5));
    let (_, cipher) = phone.expect("CALL_MENC", Duration::from_secs(1));
    let (passcode, name) = dial_in(&mut phone, &meeting.pstn_id, first_rtp);
    let from = phone.hearing().index(name);
    phone.until_heard("the organizer", |h| h.onset(ORGANIZER_HZ, from));
    let unmuted = phone.toggle_mute();
    std::thread::sleep(TOGETHER);
    // `*1`: the help prompt, for the phone only. Both mute first, so that the prompt is all
    // the phone hears and the organizer should hear nothing at all.
    let quiet = organizer.toggle_mute();
    phone.toggle_mute();
    let asked = phone.keys("*1", Instant::now() + Duration::from_millis(300));
    std::thread::sleep(Duration::from_millis(clip_ms("help") as u64 + 1_500));
    // `*3`: the roll call, for the phone only.
    let roll_call = phone.keys("*3", Instant::now());
    std::thread::sleep(Duration::from_millis(clip_ms("roll-call") as u64 + 3_000));
    let heard = phone.finish();
    let org = organizer.finish();

    let onset = heard
        .onset(ORGANIZER_HZ, heard.index(name))
        .expect("the phone hears the organizer");
    let next_prompt = heard.first_sound(heard.index(passcode), 300.0).unwrap();
    eprintln!(
        "trunk phone (SRTP): INVITE to first RTP packet {} ms; INVITE to the welcome prompt's \
         first sample {} ms",
        ms(first_rtp - invite),
        ms(welcome(&heard, invite)),
    );
    eprintln!(
        "trunk phone (SRTP): passcode's # to the first frame of the meeting {} ms: to \"After \
         the tone, please say your name.\" {} ms, the prompt and the silence until the # that \
         ends the name {} ms, that # to the meeting {} ms (of which \"You are now joining the \
         meeting.\" {} ms)",
        ms(heard.at(onset) - passcode),
        ms(heard.at(next_prompt) - passcode),
        ms(name - heard.at(next_prompt)),
        ms(heard.at(onset) - name),
        clip_ms("joining"),
    );
    eprintln!("trunk phone: {}; organizer: {}", heard.clock(), org.clock());

    chime_around(&heard, onset);
    both_hear_each_other(&heard, onset, &org, Some(quiet));
    let help = Catalog::embedded().clip("en-US", "help").unwrap();
    let played = heard
        .find(&help, heard.index(asked)..heard.index(asked) + 2 * RATE)
        .expect("the phone hears the help prompt after *1");
    let roll = Catalog::embedded().clip("en-US", "roll-call").unwrap();
    heard
        .find(
            &roll,
            heard.index(roll_call)..heard.index(roll_call) + 2 * RATE,
        )
        .expect("the phone hears the roll call after *3");
    // Both private: from the help prompt to the end, the organizer heard nothing.
    let at_organizer = org.index(heard.at(played));
    let loudest = org.samples[at_organizer..org.samples.len() - RATE / 4]
        .chunks(FRAME)
        .map(rms)
        .fold(0.0, f64::max);
    assert!(
        loudest < 300.0,
        "the organizer heard something (RMS {loudest:.0}) while the phone's private prompts \
         played"
    );
    // The organizer heard nothing of the phone while it was muted.
    let phone_in = org.onset(PHONE_HZ, 0).unwrap();
    assert!(
        phone_in + RATE / 10 >= org.index(unmuted),
        "the organizer heard the phone {} ms before it unmuted",
        (org.index(unmuted) - phone_in) * 1000 / RATE
    );

    // Both legs SRTP.
    assert!(cipher.contains("AES_CM_128_HMAC_SHA1_80"), "{cipher}");
    for h in [&heard, &org] {
        let answer = h.sdp_answer();
        assert!(
            answer.contains("RTP/SAVP") && answer.contains("a=crypto:"),
            "{answer}"
        );
    }

    let joins = joins(&s);
    assert!(
        joins.iter().any(|j| j == "sip:alice@contoso.example"),
        "{joins:?}"
    );
    assert!(joins.iter().any(|j| j == "tel:+14255556789"), "{joins:?}");
}

/// Once the phone hears the organizer (from `onset`), each hears the other's tone at full
/// level to the end, and neither hears its own.
fn both_hear_each_other(phone: &Heard, onset: usize, organizer: &Heard, until: Option<Instant>) {
    let end_of = |h: &Heard| {
        let last = h.samples.len() - RATE / 4;
        until.map_or(last, |t| h.index(t).min(last))
    };
    let together = onset + RATE / 2..end_of(phone);
    let (other, _) = phone.span(ORGANIZER_HZ, together.clone());
    let (_, own) = phone.span(PHONE_HZ, together);
    assert!(
        other > PRESENT,
        "the organizer fades at the phone: {other:.0}"
    );
    assert!(own < ABSENT, "the phone hears itself: {own:.0}");
    let phone_in = organizer
        .onset(PHONE_HZ, 0)
        .expect("the organizer hears the phone");
    let end = end_of(organizer);
    let (other, _) = organizer.span(PHONE_HZ, phone_in + RATE / 2..end);
    let (_, own) = organizer.span(ORGANIZER_HZ, 0..organizer.samples.len());
    assert!(
        other > PRESENT,
        "the phone fades at the organizer: {other:.0}"
    );
    assert!(own < ABSENT, "the organizer hears itself: {own:.0}");
}

/// The length of an en-US prompt.
fn clip_ms(name: &str) -> usize {
    Catalog::embedded().clip("en-US", name).unwrap().len() * 1000 / RATE
}

/// "After the tone, please say your name.": the phone hears the 1 kHz beep after the prompt
/// and before the `#` that ended its recording.
fn assert_beep(heard: &Heard, passcode: Instant, name: Instant) {
    let range = heard.index(passcode)..heard.index(name);
    let prompt_start = heard.first_sound(range.start, 300.0).unwrap();
    let (beep, at) = heard.peak(1_000.0, range.clone());
    assert!(
        beep > PRESENT,
        "no record beep between the passcode and the # (1 kHz at most {beep:.0})"
    );
    let prompt_end = prompt_start + clip_ms("record-name") * RATE / 1000;
    assert!(
        at + 5 * FRAME >= prompt_end,
        "the beep ({at}) comes after the name prompt (ends near {prompt_end})"
    );
    eprintln!(
        "phone: record beep {} ms after the name prompt began",
        (at - prompt_start) * 1000 / RATE
    );
}

/// The entry chime (its low note, then its high note) within a second of `onset`.
fn chime_around(heard: &Heard, onset: usize) {
    let around = onset.saturating_sub(RATE / 2)..onset + RATE;
    let (low, low_at) = heard.peak(CHIME_HZ[0], around.clone());
    let (high, high_at) = heard.peak(CHIME_HZ[1], around);
    assert!(
        low > PRESENT && high > PRESENT && low_at < high_at,
        "no entry chime at the phone: {low:.0} at {low_at}, {high:.0} at {high_at} (onset {onset})"
    );
}
