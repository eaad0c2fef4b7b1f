//! `plenum meeting schedule|list|show|delete`: the organizer's side of the Focus Factory.
//!
//! Each command is a short C3P conversation (`application/cccp+xml` in SIP `SERVICE`, digest
//! authenticated) with the organizer's Focus Factory GRUU,
//! `sip:<organizer>;gruu;opaque=app:conf:focusfactory`, through [`crate::uac`]. `schedule`
//! runs getConferencingCapabilities → addConference → getConference and prints the invitation
//! (text, `--json`, and an iCalendar file with `--ics`).
//!
//! Owns: the command-line options, the C3P envelopes (`requestId`, `from`, `to`), the invitation
//! and its formats. Not here: SIP transactions and digest (uac.rs, plenum-sip), the C3P codec
//! (plenum-c3p), what a meeting may be (the server's plugins decide).
//!
//! The password comes from `--password`, `--password-file` or `PLENUM_SIP_PASSWORD` and is
//! never printed. The passcode is printed only in the invitation, and only when the server
//! returned it (once, on creation) or it was given.

use std::path::PathBuf;

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::{Args, Subcommand};
use plenum_c3p::{
    AdmissionPolicy, Capabilities, Command, CommandName, Conference, ConferenceKey, Envelope,
    FailureReason, Outcome, Passcode, PstnAccess, Request as C3pRequest, Response as C3pResponse,
    ResponseCommand, format_date_time, parse_date_time,
};
use plenum_sip::{HeaderName, Headers, Method, Uri};
use plenum_types::Secret;
use serde::Serialize;

use crate::CommonArgs;
use crate::config::Transport as ConfigTransport;
use crate::ics;
use crate::uac::{Credentials, ServerAddr, Uac, UacConfig};

/// `plenum meeting …`.
#[derive(Debug, Subcommand)]
pub enum MeetingCommand {
    /// Schedule a dial-in meeting and print its invitation.
    Schedule(ScheduleArgs),
    /// List the organizer's meetings that have not expired.
    List(ListArgs),
    /// Show one of the organizer's meetings.
    Show(KeyArgs),
    /// Delete one of the organizer's meetings.
    Delete(KeyArgs),
}

/// Who is asking, how to reach the server, how to print.
#[derive(Debug, Args)]
pub struct Connection {
    #[command(flatten)]
    common: CommonArgs,
    /// The organizer: `alice@contoso.example` (or `sip:alice@contoso.example`).
    #[arg(long)]
    organizer: String,
    /// The organizer's SIP digest password (else --password-file, else PLENUM_SIP_PASSWORD;
    /// both keep it out of process lists).
    #[arg(long, conflicts_with = "password_file", value_parser = secret)]
    password: Option<Secret>,
    /// A file holding the password (its first line).
    #[arg(long = "password-file")]
    password_file: Option<PathBuf>,
    /// The SIP server, `[udp:|tcp:]IP:PORT` (default: the first sip.listen of the
    /// configuration).
    #[arg(long)]
    server: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// `plenum meeting schedule`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    #[command(flatten)]
    conn: Connection,
    /// The subject.
    #[arg(long)]
    subject: String,
    /// A passcode for dial-in callers (digits; default: the server generates one when the
    /// tenant's policy requires it).
    #[arg(long)]
    passcode: Option<String>,
    /// When the meeting may be deleted: RFC 3339 (`2026-11-24T18:00:00Z`) or a duration from
    /// now (`8h`, `90m`, `2d`, `1h30m`). Default: the tenant's.
    #[arg(long)]
    expires: Option<String>,
    /// Who may join: closedAuthenticated, openAuthenticated or anonymous (default: the
    /// tenant's).
    #[arg(long, value_parser = parse_admission)]
    admission: Option<AdmissionPolicy>,
    /// Let dial-in callers skip the lobby.
    #[arg(long = "lobby-bypass")]
    lobby_bypass: bool,
    /// Also write the invitation as an iCalendar (RFC 5545) file.
    #[arg(long)]
    ics: Option<PathBuf>,
    /// The calendar start for --ics: RFC 3339 or a duration from now (default: now).
    #[arg(long)]
    start: Option<String>,
    /// The calendar length for --ics with --start (default: 1h).
    #[arg(long, requires = "start")]
    duration: Option<String>,
}

/// `plenum meeting list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    conn: Connection,
}

/// `plenum meeting show|delete`: which meeting.
#[derive(Debug, Args)]
pub struct KeyArgs {
    #[command(flatten)]
    conn: Connection,
    /// The meeting ID (`msci:conference-id`).
    #[arg(
        long = "conference-id",
        required_unless_present = "uri",
        conflicts_with = "uri"
    )]
    conference_id: Option<String>,
    /// The conference (focus) URI, `sip:…;gruu;opaque=app:conf:focus:id:…`.
    #[arg(long)]
    uri: Option<String>,
}

impl KeyArgs {
    fn key(&self) -> anyhow::Result<ConferenceKey> {
        match (&self.conference_id, &self.uri) {
            (Some(id), _) => Ok(ConferenceKey::ConferenceId(id.clone())),
            (None, Some(uri)) => Ok(ConferenceKey::Entity(uri.clone())),
            (None, None) => bail!("give --conference-id or --uri"),
        }
    }
}

/// Run a `plenum meeting` command.
pub fn run(cmd: MeetingCommand) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        match cmd {
            MeetingCommand::Schedule(args) => schedule(&args).await,
            MeetingCommand::List(args) => list(&args).await,
            MeetingCommand::Show(args) => show(&args).await,
            MeetingCommand::Delete(args) => delete(&args).await,
        }
    })
}

// ---- the commands ----

async fn schedule(args: &ScheduleArgs) -> anyhow::Result<()> {
    let now = plenum_types::unix_now();
    let expiry = args
        .expires
        .as_deref()
        .map(|e| parse_when(e, now))
        .transpose()
        .context("--expires")?;
    let mut ff = FocusFactory::open(&args.conn).await?;
    let caps = ff.capabilities().await?;
    if !caps.pstn_bridging.enabled {
        bail!("the tenant offers no dial-in (pstn-bridging is not enabled)");
    }
    let created = ff
        .add(add_request(args, expiry))
        .await
        .map_err(|e| passcode_detail(e, &caps))?;
    let stored = ff
        .get(ConferenceKey::Entity(created.entity.clone()))
        .await?;
    // The server returns a passcode it generated once, in the addConference answer.
    let passcode = created
        .pstn_access
        .as_ref()
        .and_then(|p| p.passcode.as_ref())
        .map(|p| p.expose().to_owned())
        .or_else(|| args.passcode.clone());
    let invitation = Invitation::new(&stored, &caps, passcode);
    if let Some(path) = &args.ics {
        let (start, end) = calendar_span(args, now, stored.expiry_time)?;
        let event = invitation.event(&ff.organizer, now, start, end);
        std::fs::write(path, ics::request(&event))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.conn.json {
        println!("{}", serde_json::to_string_pretty(&invitation)?);
    } else {
        print!("{}", invitation.text());
        if let Some(path) = &args.ics {
            println!("Calendar file:  {}", path.display());
        }
    }
    Ok(())
}

/// The addConference body: dial-in asked for, the rest as given (absent: the tenant's default).
fn add_request(args: &ScheduleArgs, expiry: Option<i64>) -> Conference {
    Conference {
        subject: Some(args.subject.clone()),
        expiry_time: expiry,
        admission_policy: args.admission,
        pstn_access: Some(PstnAccess {
            id: None,
            passcode: args.passcode.clone().map(Passcode::new),
        }),
        pstn_lobby_bypass: args.lobby_bypass.then_some(true),
        locked: Some(false),
        entity_views: vec!["audio-video".into()],
        ..Conference::default()
    }
}

async fn list(args: &ListArgs) -> anyhow::Result<()> {
    let mut ff = FocusFactory::open(&args.conn).await?;
    let views: Vec<MeetingView> = ff.list().await?.iter().map(MeetingView::new).collect();
    if args.conn.json {
        println!("{}", serde_json::to_string_pretty(&views)?);
        return Ok(());
    }
    println!(
        "{:<34} {:<12} {:<21} SUBJECT",
        "CONFERENCE-ID", "PSTN-ID", "EXPIRES"
    );
    for v in views {
        println!(
            "{:<34} {:<12} {:<21} {}",
            v.conference_id,
            v.pstn_conference_id.as_deref().unwrap_or("-"),
            v.expires.as_deref().unwrap_or("-"),
            v.subject
        );
    }
    Ok(())
}

async fn show(args: &KeyArgs) -> anyhow::Result<()> {
    let key = args.key()?;
    let mut ff = FocusFactory::open(&args.conn).await?;
    let v = MeetingView::new(&ff.get(key).await?);
    if args.conn.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", v.text());
    }
    Ok(())
}

async fn delete(args: &KeyArgs) -> anyhow::Result<()> {
    let key = args.key()?;
    let mut ff = FocusFactory::open(&args.conn).await?;
    let entity = ff.delete(key).await?;
    if args.conn.json {
        println!("{}", serde_json::json!({ "deleted": entity }));
    } else {
        println!("deleted {entity}");
    }
    Ok(())
}

// ---- the C3P conversation ----

/// A C3P refusal (`code="failure"`), with its reason and a word on what to change.
#[derive(Debug, thiserror::Error)]
#[error("the Focus Factory refused {command}: {}{}", reason.as_str(), detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
pub struct Refused {
    /// The command.
    pub command: CommandName,
    /// Why.
    pub reason: FailureReason,
    /// What the organizer can do about it, when we know.
    pub detail: Option<String>,
}

impl Refused {
    fn new(command: CommandName, reason: FailureReason) -> Refused {
        Refused {
            command,
            reason,
            detail: hint(reason).map(str::to_owned),
        }
    }
}

/// A word on what to change, for the reasons an organizer can act on.
fn hint(reason: FailureReason) -> Option<&'static str> {
    Some(match reason {
        FailureReason::InvalidPasscode => {
            "the passcode breaks the tenant's meeting policy: length, digits, common patterns"
        }
        FailureReason::InvalidExpiryTime => "the expiry is in the past or too far ahead",
        FailureReason::ConferenceDoesNotExist => "no such meeting of this organizer",
        FailureReason::Unauthorized => "not this organizer's meeting, or not an organizer",
        FailureReason::PstnLobbyBypassNotAllowed => "the tenant's policy keeps the lobby",
        FailureReason::InvalidAdmissionPolicy => "the tenant does not offer that admission",
        _ => return None,
    })
}

/// An invalidPasscode refusal says which lengths the tenant takes (from the capabilities).
fn passcode_detail(e: anyhow::Error, caps: &Capabilities) -> anyhow::Error {
    let Some(s) = &caps.scheduling else {
        return e;
    };
    match e.downcast::<Refused>() {
        Ok(mut r) if r.reason == FailureReason::InvalidPasscode => {
            r.detail = Some(format!(
                "the tenant's meeting policy wants {}-{} digits and may refuse common patterns such as 123456 or 111111",
                s.passcode_min_length, s.passcode_max_length
            ));
            r.into()
        }
        Ok(r) => r.into(),
        Err(e) => e,
    }
}

/// The organizer's Focus Factory over one UAC.
struct FocusFactory {
    uac: Uac,
    /// `sip:alice@contoso.example`.
    organizer: String,
    /// `sip:alice@contoso.example;gruu;opaque=app:conf:focusfactory`.
    factory: String,
    next_id: u64,
}

impl FocusFactory {
    async fn open(conn: &Connection) -> anyhow::Result<FocusFactory> {
        let (user, domain) = organizer_parts(&conn.organizer)?;
        let credentials = Credentials {
            username: user.to_owned(),
            password: password(conn)?,
        };
        let server = server_addr(conn)?;
        let uac = Uac::connect(server, Some(credentials), UacConfig::default()).await?;
        let organizer = format!("sip:{user}@{domain}");
        Ok(FocusFactory {
            uac,
            factory: format!("{organizer};gruu;opaque=app:conf:focusfactory"),
            organizer,
            next_id: 1,
        })
    }

    async fn capabilities(&mut self) -> anyhow::Result<Capabilities> {
        match self.call(Command::GetConferencingCapabilities).await? {
            ResponseCommand::GetConferencingCapabilities(c) => Ok(c),
            other => unexpected(&other),
        }
    }

    /// addConference: the created conference (its URI, PSTN ID and any generated passcode).
    async fn add(&mut self, request: Conference) -> anyhow::Result<Conference> {
        match self.call(Command::AddConference(request)).await? {
            ResponseCommand::AddConference(c) if !c.entity.is_empty() => Ok(c),
            ResponseCommand::AddConference(_) => {
                bail!("the Focus Factory created the meeting but returned no conference URI")
            }
            other => unexpected(&other),
        }
    }

    async fn get(&mut self, key: ConferenceKey) -> anyhow::Result<Conference> {
        match self.call(Command::GetConference(key)).await? {
            ResponseCommand::GetConference(c) => Ok(c),
            other => unexpected(&other),
        }
    }

    async fn list(&mut self) -> anyhow::Result<Vec<Conference>> {
        match self
            .call(Command::GetConferences { static_only: None })
            .await?
        {
            ResponseCommand::GetConferences(list) => Ok(list),
            other => unexpected(&other),
        }
    }

    /// deleteConference: the deleted conference's URI.
    async fn delete(&mut self, key: ConferenceKey) -> anyhow::Result<String> {
        match self.call(Command::DeleteConference(key)).await? {
            ResponseCommand::DeleteConference { entity } => Ok(entity),
            other => unexpected(&other),
        }
    }

    /// Send one command; its success body, or why not.
    async fn call(&mut self, command: Command) -> anyhow::Result<ResponseCommand> {
        let request_id = self.next_id;
        self.next_id += 1;
        let name = command.name();
        let envelope = Envelope {
            request_id,
            from: self.organizer.clone(),
            to: self.factory.clone(),
            c3p_version: Some(plenum_c3p::C3P_VERSION.to_owned()),
        };
        let body = C3pRequest::new(envelope, command).to_xml();
        let uri = Uri::parse(&self.factory)
            .with_context(|| format!("not a SIP URI: {}", self.factory))?;
        let mut headers = Headers::new();
        headers.push(HeaderName::FROM, format!("<{}>", self.organizer));
        headers.push(HeaderName::TO, format!("<{}>", self.factory));
        headers.push(HeaderName::CONTENT_TYPE, plenum_c3p::CONTENT_TYPE);
        headers.push(HeaderName::SUPPORTED, "ms-sender");
        let response = self
            .uac
            .request(Method::Service, uri, headers, Bytes::from(body))
            .await
            .with_context(|| format!("{name} to {}", self.uac.server()))?;
        let c3p = response
            .headers
            .get(&HeaderName::CONTENT_TYPE)
            .is_some_and(|t| t.trim().eq_ignore_ascii_case(plenum_c3p::CONTENT_TYPE));
        if !c3p {
            bail!("{name}: the server answered 200 without a C3P body");
        }
        let answer = C3pResponse::parse(&response.body)
            .with_context(|| format!("{name}: unreadable C3P response"))?;
        if answer.request_id != request_id {
            bail!(
                "{name}: the response answers requestId {} instead of {request_id}",
                answer.request_id
            );
        }
        match answer.outcome {
            Outcome::Success(cmd) if cmd.name() == name => Ok(cmd),
            Outcome::Success(cmd) => bail!("{name}: the response answers {}", cmd.name()),
            Outcome::Failure { command, reason } => Err(Refused::new(command, reason).into()),
        }
    }
}

/// `call` checks that a response answers the command sent, so this cannot happen.
fn unexpected<T>(other: &ResponseCommand) -> anyhow::Result<T> {
    bail!("unexpected C3P answer: {}", other.name())
}

/// `alice@contoso.example` or `sip:alice@contoso.example` → (`alice`, `contoso.example`).
fn organizer_parts(organizer: &str) -> anyhow::Result<(&str, &str)> {
    let o = organizer.trim();
    let o = match o.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("sip:") => o.get(4..).unwrap_or_default(),
        _ => o,
    };
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~+!$&'*%".contains(c))
    };
    match o.split_once('@') {
        Some((user, domain)) if valid(user) && valid(domain) => Ok((user, domain)),
        _ => bail!("--organizer `{organizer}`: expected user@domain, e.g. alice@contoso.example"),
    }
}

/// `--password`, else `--password-file`, else `PLENUM_SIP_PASSWORD`.
fn password(conn: &Connection) -> anyhow::Result<Secret> {
    if let Some(p) = &conn.password {
        return Ok(p.clone());
    }
    if let Some(path) = &conn.password_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the password file {}", path.display()))?;
        let first = text.lines().next().unwrap_or_default();
        return Ok(Secret::new(first.trim_end_matches('\r')));
    }
    match std::env::var("PLENUM_SIP_PASSWORD") {
        Ok(p) if !p.is_empty() => Ok(Secret::new(p)),
        _ => bail!("no password: give --password, --password-file or set PLENUM_SIP_PASSWORD"),
    }
}

/// `--server`, else the first `sip.listen` of the configuration (loopback for a wildcard).
fn server_addr(conn: &Connection) -> anyhow::Result<ServerAddr> {
    if let Some(s) = &conn.server {
        return s
            .parse()
            .map_err(|e: String| anyhow::anyhow!("--server {e}"));
    }
    let cfg = conn.common.load()?;
    let first = cfg
        .sip_listen()?
        .into_iter()
        .next()
        .context("the configuration has no sip.listen; give --server")?;
    let mut addr = first.addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    let transport = match first.transport {
        ConfigTransport::Udp => plenum_sip::endpoint::Transport::Udp,
        ConfigTransport::Tcp => plenum_sip::endpoint::Transport::Tcp,
    };
    Ok(ServerAddr { transport, addr })
}

/// A password read from the command line: redacted in `Debug` from here on.
fn secret(s: &str) -> Result<Secret, String> {
    Ok(Secret::new(s))
}

fn parse_admission(s: &str) -> Result<AdmissionPolicy, String> {
    s.parse()
        .map_err(|_| "expected closedAuthenticated, openAuthenticated or anonymous".to_owned())
}

/// RFC 3339 (any offset), or a duration from `now`.
fn parse_when(s: &str, now: i64) -> anyhow::Result<i64> {
    if let Ok(t) = parse_date_time(s) {
        return Ok(t);
    }
    let secs = parse_duration(s).with_context(|| {
        format!("`{s}`: expected RFC 3339 (2026-11-24T18:00:00Z) or a duration (8h, 90m, 1h30m)")
    })?;
    Ok(now.saturating_add(secs))
}

/// `90`, `45s`, `90m`, `8h`, `2d`, `1w`, `1h30m`: seconds.
fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let (mut total, mut digits) = (0i64, String::new());
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        let n: i64 = digits.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        digits.clear();
    }
    if !digits.is_empty() {
        total = total.checked_add(digits.parse().ok()?)?;
    }
    Some(total)
}

/// DTSTART/DTEND of the calendar entry: `--start` (+ `--duration`, 1 h), else now until the
/// expiry.
fn calendar_span(args: &ScheduleArgs, now: i64, expiry: Option<i64>) -> anyhow::Result<(i64, i64)> {
    match &args.start {
        Some(s) => {
            let start = parse_when(s, now).context("--start")?;
            let length = match &args.duration {
                Some(d) => parse_duration(d).context("--duration: expected 1h, 45m, 1h30m")?,
                None => 3600,
            };
            Ok((start, start.saturating_add(length)))
        }
        None => Ok((now, expiry.unwrap_or(now.saturating_add(3600)))),
    }
}

// ---- what is printed ----

/// One access number of the invitation.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
struct NumberView {
    number: String,
    region: String,
    languages: Vec<String>,
}

/// The invitation: what `schedule` prints (and `--json` gives as one object).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
struct Invitation {
    subject: String,
    conference_id: String,
    conference_uri: String,
    pstn_conference_id: Option<String>,
    passcode: Option<String>,
    access_numbers: Vec<NumberView>,
    expires: Option<String>,
}

impl Invitation {
    fn new(c: &Conference, caps: &Capabilities, passcode: Option<String>) -> Invitation {
        Invitation {
            subject: c.subject.clone().unwrap_or_default(),
            conference_id: c.conference_id.clone().unwrap_or_default(),
            conference_uri: c.entity.clone(),
            pstn_conference_id: c.pstn_access.as_ref().and_then(|p| p.id.clone()),
            passcode,
            access_numbers: default_numbers(caps),
            expires: c.expiry_time.map(format_date_time),
        }
    }

    fn text(&self) -> String {
        let mut t = format!("Meeting scheduled: {}\n", self.subject);
        match self.access_numbers.first() {
            Some(first) => t.push_str(&format!("Join by phone ({}):\n", first.region)),
            None => t.push_str("Join by phone: no access numbers\n"),
        }
        for n in &self.access_numbers {
            t.push_str(&format!("  {:<16} {}\n", n.number, n.languages.join(", ")));
        }
        let field = |t: &mut String, name: &str, value: Option<&str>| {
            t.push_str(&format!("{name:<15} {}\n", value.unwrap_or("-")));
        };
        field(&mut t, "Conference ID:", self.pstn_conference_id.as_deref());
        field(&mut t, "Passcode:", self.passcode.as_deref());
        field(&mut t, "Join by SIP:", Some(&self.conference_uri));
        field(&mut t, "Expires:", self.expires.as_deref());
        field(&mut t, "Meeting ID:", Some(&self.conference_id));
        t
    }

    /// The calendar entry.
    fn event(&self, organizer: &str, now: i64, start: i64, end: i64) -> ics::Event {
        let mut d = String::new();
        match self.access_numbers.first() {
            Some(first) => d.push_str(&format!("Join by phone ({}):\n", first.region)),
            None => d.push_str("Join by phone:\n"),
        }
        for n in &self.access_numbers {
            d.push_str(&format!("{} ({})\n", n.number, n.languages.join(", ")));
        }
        let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        d.push_str(&format!(
            "Conference ID: {}\n",
            or_dash(&self.pstn_conference_id)
        ));
        if let Some(p) = &self.passcode {
            d.push_str(&format!("Passcode: {p}\n"));
        }
        d.push_str(&format!("Join by SIP: {}\n", self.conference_uri));
        let host = organizer.strip_prefix("sip:").unwrap_or(organizer);
        ics::Event {
            uid: format!("{}.{host}", self.conference_id),
            stamp: now,
            start,
            end,
            summary: self.subject.clone(),
            organizer: organizer.to_owned(),
            location: self.access_numbers.first().map(|n| n.number.clone()),
            description: d,
        }
    }
}

/// The access numbers of the organizer's region (the default region, else the first).
fn default_numbers(caps: &Capabilities) -> Vec<NumberView> {
    let b = &caps.pstn_bridging;
    let region = b
        .default_region
        .as_ref()
        .and_then(|name| b.regions.iter().find(|r| &r.name == name))
        .or_else(|| b.regions.first());
    region
        .map(|r| {
            r.access_numbers
                .iter()
                .map(|n| NumberView {
                    number: n.number.clone(),
                    region: r.name.clone(),
                    languages: n.languages.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A stored meeting, as `show` and `list` print it (never a passcode: none is stored in
/// clear).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
struct MeetingView {
    subject: String,
    conference_id: String,
    conference_uri: String,
    pstn_conference_id: Option<String>,
    expires: Option<String>,
    admission: Option<&'static str>,
    lobby_bypass: Option<bool>,
    version: Option<u32>,
    last_update: Option<String>,
}

impl MeetingView {
    fn new(c: &Conference) -> MeetingView {
        MeetingView {
            subject: c.subject.clone().unwrap_or_default(),
            conference_id: c.conference_id.clone().unwrap_or_default(),
            conference_uri: c.entity.clone(),
            pstn_conference_id: c.pstn_access.as_ref().and_then(|p| p.id.clone()),
            expires: c.expiry_time.map(format_date_time),
            admission: c.admission_policy.map(AdmissionPolicy::as_str),
            lobby_bypass: c.pstn_lobby_bypass,
            version: c.version,
            last_update: c.last_update.map(format_date_time),
        }
    }

    fn text(&self) -> String {
        let rows = [
            ("Subject:", Some(self.subject.clone())),
            ("Meeting ID:", Some(self.conference_id.clone())),
            ("Join by SIP:", Some(self.conference_uri.clone())),
            ("Conference ID:", self.pstn_conference_id.clone()),
            ("Expires:", self.expires.clone()),
            ("Admission:", self.admission.map(str::to_owned)),
            ("Lobby bypass:", self.lobby_bypass.map(|b| b.to_string())),
            ("Version:", self.version.map(|v| v.to_string())),
            ("Last update:", self.last_update.clone()),
        ];
        rows.iter()
            .map(|(name, value)| format!("{name:<15} {}\n", value.as_deref().unwrap_or("-")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use plenum_c3p::{AccessNumber, PstnBridging, Region};

    use super::*;

    #[test]
    fn durations_and_times() {
        assert_eq!(parse_duration("8h"), Some(28_800));
        assert_eq!(parse_duration("1h30m"), Some(5_400));
        assert_eq!(parse_duration("2d"), Some(172_800));
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("1w"), Some(604_800));
        assert_eq!(parse_duration("8x"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_when("8h", 1000).unwrap(), 29_800);
        assert_eq!(parse_when("1970-01-01T01:00:00Z", 5).unwrap(), 3600);
        assert_eq!(parse_when("1970-01-01T02:00:00+01:00", 5).unwrap(), 3600);
        assert!(parse_when("tomorrow", 5).is_err());
    }

    #[test]
    fn organizers() {
        assert_eq!(
            organizer_parts("alice@contoso.example").unwrap(),
            ("alice", "contoso.example")
        );
        assert_eq!(
            organizer_parts("SIP:alice@contoso.example").unwrap(),
            ("alice", "contoso.example")
        );
        for bad in ["alice", "@contoso.example", "alice@", "a;b@c", "<sip:a@b>"] {
            assert!(organizer_parts(bad).is_err(), "{bad}");
        }
    }

    fn caps() -> Capabilities {
        let number = |n: &str, langs: &[&str]| AccessNumber {
            number: n.into(),
            languages: langs.iter().map(|l| (*l).to_owned()).collect(),
        };
        Capabilities {
            pstn_bridging: PstnBridging {
                enabled: true,
                default_region: Some("Redmond".into()),
                regions: vec![
                    Region {
                        name: "London".into(),
                        access_numbers: vec![number("+442075550100", &["en-GB"])],
                    },
                    Region {
                        name: "Redmond".into(),
                        access_numbers: vec![number("+14255550100", &["en-US", "de-DE"])],
                    },
                ],
            },
            ..Capabilities::default()
        }
    }

    fn meeting() -> Conference {
        Conference {
            entity: "sip:alice@contoso.example;gruu;opaque=app:conf:focus:id:TPDD8VYG".into(),
            subject: Some("Weekly sync".into()),
            conference_id: Some("TPDD8VYG".into()),
            expiry_time: Some(1_795_543_200),
            pstn_access: Some(PstnAccess {
                id: Some("71234569".into()),
                passcode: None,
            }),
            ..Conference::default()
        }
    }

    #[test]
    fn invitation_lists_the_default_region() {
        let inv = Invitation::new(&meeting(), &caps(), Some("86420".into()));
        assert_eq!(
            inv.access_numbers,
            [NumberView {
                number: "+14255550100".into(),
                region: "Redmond".into(),
                languages: vec!["en-US".into(), "de-DE".into()],
            }]
        );
        let json: serde_json::Value = serde_json::to_value(&inv).unwrap();
        for key in [
            "conference_uri",
            "pstn_conference_id",
            "passcode",
            "access_numbers",
            "expires",
            "subject",
            "conference_id",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
        assert_eq!(json["expires"], "2026-11-24T18:00:00Z");
        let text = inv.text();
        assert!(text.contains("Join by phone (Redmond):"), "{text}");
        assert!(text.contains("+14255550100"), "{text}");
        assert!(text.contains("Passcode:       86420"), "{text}");
        // No default region: the first one.
        let mut c = caps();
        c.pstn_bridging.default_region = None;
        let inv = Invitation::new(&meeting(), &c, None);
        assert_eq!(inv.access_numbers[0].region, "London");
        assert!(inv.text().contains("Passcode:       -"));
    }

    #[test]
    fn calendar_entry_carries_the_invitation() {
        let inv = Invitation::new(&meeting(), &caps(), Some("86420".into()));
        let e = inv.event("sip:alice@contoso.example", 100, 100, 1_795_543_200);
        assert_eq!(e.uid, "TPDD8VYG.alice@contoso.example");
        assert_eq!(e.location.as_deref(), Some("+14255550100"));
        for part in [
            "+14255550100 (en-US, de-DE)",
            "Conference ID: 71234569",
            "Passcode: 86420",
            "Join by SIP: sip:alice@contoso.example;gruu;opaque=app:conf:focus:id:TPDD8VYG",
        ] {
            assert!(e.description.contains(part), "{part}: {}", e.description);
        }
    }

    #[test]
    fn refusals_name_their_reason() {
        let e = Refused::new(CommandName::AddConference, FailureReason::InvalidPasscode);
        assert!(
            e.to_string()
                .starts_with("the Focus Factory refused addConference: invalidPasscode ("),
            "{e}"
        );
        let mut caps = caps();
        caps.scheduling = Some(plenum_c3p::SchedulingOptions {
            passcode_min_length: 8,
            passcode_max_length: 16,
            ..plenum_c3p::SchedulingOptions::default()
        });
        let text = passcode_detail(e.into(), &caps).to_string();
        assert!(
            text.contains("invalidPasscode (the tenant's meeting policy wants 8-16 digits"),
            "{text}"
        );
        let other = Refused::new(CommandName::GetConference, FailureReason::OtherFailure);
        assert_eq!(
            passcode_detail(other.into(), &caps).to_string(),
            "the Focus Factory refused getConference: otherFailure"
        );
    }
}
