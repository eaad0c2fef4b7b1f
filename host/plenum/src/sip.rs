//! The SIP I/O shell: sockets and a single task that owns the switch.
//!
//! - One task per UDP socket reads datagrams; one task per TCP connection reads and frames the
//!   stream ([`StreamDecoder`]); both hand messages to the core over one bounded channel (a full
//!   channel drops UDP datagrams — the peer retransmits — and is counted).
//! - The core task owns the [`Switch`] (and so every transaction and dialog): it feeds it
//!   messages, work results and time, and carries out what it asks: bytes to send, and work
//!   (pool lookups, plugin calls) run on the blocking pool with the result fed back.
//! - Media ports are reserved here (a bound RTP and RTCP socket per call) and handed to the
//!   media engine when the call's SDP is settled, or, with `media.shared-port`, every call is
//!   answered with the engine's one shared port; the engine's events come back into the same
//!   task.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use plenum_conference::directory::{Directory, Gateway, TenantEntry};
use plenum_conference::switch::{
    Route, Routed, Switch, SwitchConfig, SwitchOutput, Work, WorkId, WorkResult,
};
use plenum_plugin_api::normalizer::{NormalizeOutcome, NormalizeRequest, NumberKind};
use plenum_sip::auth::Algorithm;
use plenum_sip::endpoint::{Flow, Transport};
use plenum_sip::stream::{Frame, StreamDecoder};
use plenum_storage::DigestAlgorithm;
use plenum_types::{E164, TenantId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

use crate::config::{SipListen, Transport as ConfigTransport};
use crate::server::Services;

/// What the socket tasks hand the core.
enum Inbound {
    Message {
        flow: Flow,
        bytes: Bytes,
    },
    Opened {
        conn: u64,
        remote: SocketAddr,
        tx: mpsc::Sender<Bytes>,
    },
    Closed {
        conn: u64,
    },
    /// The admin API asks what meetings are on.
    Live(tokio::sync::oneshot::Sender<Vec<plenum_conference::focus::LiveMeeting>>),
}

/// Asks the SIP core, which owns the meetings, for a snapshot of them.
#[derive(Clone)]
pub struct LiveHandle(mpsc::Sender<Inbound>);

impl LiveHandle {
    /// The active meetings, or `None` when the core does not take the question and answer
    /// within a second (it is overloaded or stopping): "no meeting" and "no answer" differ.
    pub async fn meetings(&self) -> Option<Vec<plenum_conference::focus::LiveMeeting>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let ask = async {
            self.0.send(Inbound::Live(tx)).await.ok()?;
            rx.await.ok()
        };
        tokio::time::timeout(Duration::from_secs(1), ask)
            .await
            .ok()
            .flatten()
    }
}

/// Counters of the shell.
#[derive(Default)]
pub struct ShellStats {
    /// Datagrams dropped because the core was behind.
    pub dropped: AtomicU64,
}

/// What `start` bound.
pub struct Bound {
    /// Every listening point, with its real port.
    pub listening: Vec<(ConfigTransport, SocketAddr)>,
}

/// What the media side needs.
pub struct MediaSetup {
    /// RTP port range.
    pub ports: (u16, u16),
    /// One port for every call (`media.shared-port`) instead of a pair per call.
    pub shared_port: Option<u16>,
    /// The prompts (tenants' packs over the built-in catalogue).
    pub prompts: Arc<plenum_assets::Prompts>,
}

/// Who may call in: the gateways of the configuration file (checked against the pool by
/// [`configured_gateways`]), ahead of those in the pool database.
pub struct Peers {
    /// From the configuration.
    pub gateways: Vec<Gateway>,
}

/// Bind every listening point and start the tasks.
pub async fn start(
    listen: &[SipListen],
    media: MediaSetup,
    digest: Vec<plenum_sip::auth::Algorithm>,
    peers: Peers,
    services: Arc<Services>,
) -> anyhow::Result<Bound> {
    let (in_tx, in_rx) = mpsc::channel::<Inbound>(8192);
    let stats = Arc::new(ShellStats::default());
    let mut udp = HashMap::new();
    let mut listening = Vec::new();
    let conn_ids = Arc::new(AtomicU64::new(1));
    for l in listen {
        match l.transport {
            ConfigTransport::Udp => {
                let sock = Arc::new(
                    UdpSocket::bind(l.addr)
                        .await
                        .with_context(|| format!("binding SIP udp {}", l.addr))?,
                );
                let local = sock.local_addr()?;
                listening.push((ConfigTransport::Udp, local));
                udp.insert(local, Arc::clone(&sock));
                tokio::spawn(udp_reader(sock, local, in_tx.clone(), Arc::clone(&stats)));
            }
            ConfigTransport::Tcp => {
                let listener = TcpListener::bind(l.addr)
                    .await
                    .with_context(|| format!("binding SIP tcp {}", l.addr))?;
                let local = listener.local_addr()?;
                listening.push((ConfigTransport::Tcp, local));
                tokio::spawn(tcp_acceptor(
                    listener,
                    local,
                    in_tx.clone(),
                    Arc::clone(&conn_ids),
                ));
            }
        }
    }
    let directory = tokio::task::spawn_blocking({
        let s = Arc::clone(&services);
        move || load_directory(&s, peers.gateways)
    })
    .await??;
    let config = SwitchConfig {
        endpoint: plenum_sip::endpoint::Config {
            instance: rand::random(),
            ..Default::default()
        },
        auth_secret: rand::random(),
        digest_algorithms: digest,
        ..Default::default()
    };
    let (media_tx, media_rx) = mpsc::unbounded_channel();
    let shared_port = media
        .shared_port
        .map(|p| SocketAddr::new(media_ip(&udp), p));
    let engine_config = crate::media::EngineConfig {
        quiet_after: Duration::from_secs(5),
        shared_port,
    };
    let engine = crate::media::MediaEngine::start(media_tx, engine_config)
        .context("binding media.shared-port")?;
    let _ = services.media_stats.set(engine.stats());
    let _ = services.live.set(LiveHandle(in_tx.clone()));
    let core = Core {
        switch: Switch::new(config, directory, Instant::now()),
        udp,
        conns: HashMap::new(),
        services,
        ports: MediaPorts::new(media.ports, media.shared_port),
        media: crate::conference::MediaShell::new(engine, media.prompts),
        sessions: Arc::new(crate::conference::Sessions::default()),
        in_tx,
        conn_ids,
    };
    tokio::spawn(core.run(in_rx, media_rx));
    Ok(Bound { listening })
}

/// The configuration's gateways, each checked against the pool: its tenant and location
/// profile must exist, or the server does not start.
pub fn configured_gateways(
    s: &Services,
    configured: &[crate::config::GatewayConfig],
) -> anyhow::Result<Vec<Gateway>> {
    configured
        .iter()
        .map(|g| {
            let (ip, port) = g.ip_port()?;
            let tenant = TenantId::new(&g.tenant)
                .map_err(|e| anyhow::anyhow!("gateway {}: tenant `{}`: {e}", g.name, g.tenant))?;
            if !s.tenant_exists(&tenant)? {
                anyhow::bail!("gateway {}: no tenant `{}` in the pool", g.name, g.tenant);
            }
            if s.pool().profile(&tenant, &g.location_profile)?.is_none() {
                anyhow::bail!(
                    "gateway {}: tenant {} has no location profile `{}`",
                    g.name,
                    g.tenant,
                    g.location_profile
                );
            }
            Ok(Gateway {
                name: g.name.clone(),
                tenant,
                ip,
                port,
                transport: g.transport.map(|t| match t {
                    ConfigTransport::Udp => Transport::Udp,
                    ConfigTransport::Tcp => Transport::Tcp,
                }),
                profile: g.location_profile.clone(),
                srtp: g.srtp,
            })
        })
        .collect()
}

fn load_directory(s: &Services, configured: Vec<Gateway>) -> anyhow::Result<Directory> {
    let pool = s.pool();
    let mut gateways = configured;
    for g in pool.gateways()? {
        let (ip, port) = (g.address.ip, g.address.port);
        // The configuration wins over a pool entry of the same name or address.
        if let Some(c) = gateways
            .iter()
            .find(|c| c.name == g.name || (c.ip == ip && c.port == port))
        {
            tracing::info!(pool = %g.name, config = %c.name, "configured gateway replaces the pool's");
            continue;
        }
        gateways.push(Gateway {
            name: g.name,
            tenant: g.tenant,
            ip,
            port,
            transport: None,
            profile: g.location_profile,
            srtp: g.srtp,
        });
    }
    let tenants = pool
        .tenants()?
        .into_iter()
        .map(|t| TenantEntry {
            id: t.id,
            domain: t.sip_domain,
        })
        .collect();
    Ok(Directory { gateways, tenants })
}

async fn udp_reader(
    sock: Arc<UdpSocket>,
    local: SocketAddr,
    tx: mpsc::Sender<Inbound>,
    stats: Arc<ShellStats>,
) {
    let mut buf = vec![0u8; 65_535];
    loop {
        let (n, remote) = match sock.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                tracing::debug!(error = %e, "udp receive error");
                continue;
            }
        };
        let flow = Flow {
            transport: Transport::Udp,
            local,
            remote,
            conn: None,
        };
        let bytes = Bytes::copy_from_slice(buf.get(..n).unwrap_or_default());
        if tx.try_send(Inbound::Message { flow, bytes }).is_err() {
            stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn tcp_acceptor(
    listener: TcpListener,
    local: SocketAddr,
    tx: mpsc::Sender<Inbound>,
    ids: Arc<AtomicU64>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, remote)) => {
                let conn = ids.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(tcp_connection(
                    stream,
                    local,
                    remote,
                    conn,
                    tx.clone(),
                    None,
                ));
            }
            Err(e) => {
                tracing::warn!(error = %e, "tcp accept error");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Read and frame one TCP connection; write what the core sends it.
async fn tcp_connection(
    stream: TcpStream,
    local: SocketAddr,
    remote: SocketAddr,
    conn: u64,
    tx: mpsc::Sender<Inbound>,
    first: Option<Bytes>,
) {
    let (mut rd, mut wr) = stream.into_split();
    let (out_tx, mut out_rx) = mpsc::channel::<Bytes>(256);
    if let Some(b) = first {
        let _ = out_tx.try_send(b);
    }
    if tx
        .send(Inbound::Opened {
            conn,
            remote,
            tx: out_tx,
        })
        .await
        .is_err()
    {
        return;
    }
    let writer = tokio::spawn(async move {
        while let Some(bytes) = out_rx.recv().await {
            if wr.write_all(&bytes).await.is_err() {
                break;
            }
        }
    });
    let mut decoder = StreamDecoder::new();
    let mut buf = vec![0u8; 16 * 1024];
    let flow = Flow {
        transport: Transport::Tcp,
        local,
        remote,
        conn: Some(conn),
    };
    'read: loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        decoder.push(buf.get(..n).unwrap_or_default());
        loop {
            match decoder.next_frame() {
                Ok(Some(Frame::Message(bytes))) => {
                    if tx.send(Inbound::Message { flow, bytes }).await.is_err() {
                        break 'read;
                    }
                }
                Ok(Some(Frame::Ping)) => {}
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(%remote, error = %e, "closing a SIP connection that broke framing");
                    break 'read;
                }
            }
        }
    }
    writer.abort();
    let _ = tx.send(Inbound::Closed { conn }).await;
}

struct TcpConn {
    remote: SocketAddr,
    tx: mpsc::Sender<Bytes>,
}

struct Core {
    switch: Switch,
    udp: HashMap<SocketAddr, Arc<UdpSocket>>,
    conns: HashMap<u64, TcpConn>,
    services: Arc<Services>,
    ports: MediaPorts,
    media: crate::conference::MediaShell,
    sessions: Arc<crate::conference::Sessions>,
    in_tx: mpsc::Sender<Inbound>,
    conn_ids: Arc<AtomicU64>,
}

impl Core {
    async fn run(
        mut self,
        mut inbound: mpsc::Receiver<Inbound>,
        mut media: mpsc::UnboundedReceiver<crate::media::MediaEvent>,
    ) {
        let (work_tx, mut work_rx) = mpsc::channel::<(WorkId, WorkResult)>(8192);
        loop {
            let deadline = self.switch.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                msg = inbound.recv() => match msg {
                    Some(Inbound::Message { flow, bytes }) => self.switch.handle_bytes(flow, &bytes, Instant::now()),
                    Some(Inbound::Opened { conn, remote, tx }) => { self.conns.insert(conn, TcpConn { remote, tx }); }
                    Some(Inbound::Closed { conn }) => { self.conns.remove(&conn); }
                    Some(Inbound::Live(reply)) => { let _ = reply.send(self.switch.live_meetings()); }
                    None => return,
                },
                done = work_rx.recv() => if let Some((id, result)) = done {
                    self.switch.work_done(id, result, Instant::now());
                },
                event = media.recv() => if let Some(e) = event {
                    self.media_event(e);
                },
                () = sleep => self.switch.handle_timeout(Instant::now()),
            }
            self.flush(&work_tx);
        }
    }

    fn flush(&mut self, work_tx: &mpsc::Sender<(WorkId, WorkResult)>) {
        while let Some(out) = self.switch.poll_output() {
            match out {
                SwitchOutput::Transmit(t) => self.send(t.flow, t.bytes),
                SwitchOutput::Work(id, work) => self.work(id, work, work_tx),
                SwitchOutput::Note(note) => tracing::info!(?note, "call"),
                SwitchOutput::Media(order) => {
                    let ports = &mut self.ports;
                    self.media.order(order, |port| ports.take(port));
                }
            }
        }
    }

    fn send(&mut self, flow: Flow, bytes: Bytes) {
        match flow.transport {
            Transport::Udp => match self.udp.get(&flow.local) {
                Some(sock) => {
                    if let Err(e) = sock.try_send_to(&bytes, flow.remote) {
                        tracing::debug!(remote = %flow.remote, error = %e, "udp send failed");
                    }
                }
                None => tracing::warn!(local = %flow.local, "no UDP socket for a flow"),
            },
            Transport::Tcp => {
                let conn = flow
                    .conn
                    .filter(|c| self.conns.contains_key(c))
                    .or_else(|| {
                        self.conns
                            .iter()
                            .find(|(_, c)| c.remote == flow.remote)
                            .map(|(id, _)| *id)
                    });
                match conn.and_then(|c| self.conns.get(&c)) {
                    Some(c) => {
                        if c.tx.try_send(bytes).is_err() {
                            tracing::debug!(remote = %flow.remote, "tcp connection backlog full; message dropped");
                        }
                    }
                    None => self.connect_and_send(flow, bytes),
                }
            }
        }
    }

    /// The peer's connection is gone: open one to it (RFC 3261 §18.2.2) and send.
    fn connect_and_send(&mut self, flow: Flow, bytes: Bytes) {
        let tx = self.in_tx.clone();
        let conn = self.conn_ids.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let Ok(stream) = TcpStream::connect(flow.remote).await else {
                return;
            };
            let local = stream.local_addr().unwrap_or(flow.local);
            tcp_connection(stream, local, flow.remote, conn, tx, Some(bytes)).await;
        });
    }

    fn media_event(&mut self, e: crate::media::MediaEvent) {
        use crate::media::MediaEvent as E;
        use plenum_conference::switch::{CallId, MediaInput};
        let input = match e {
            E::Digit { call, digit } => MediaInput::Digit {
                call: CallId(call),
                digit,
            },
            E::PlayFinished { call, id } => MediaInput::PlayFinished {
                call: CallId(call),
                id,
            },
            E::Recorded { call, samples, ms } => {
                self.media.recorded(CallId(call), samples);
                MediaInput::Recorded {
                    call: CallId(call),
                    ms,
                }
            }
            E::Announced { id } => MediaInput::Announced { id },
            E::Quiet { call, for_ms } => MediaInput::Quiet {
                call: CallId(call),
                for_ms,
            },
        };
        self.switch.media_input(input, Instant::now());
    }

    fn work(&mut self, id: WorkId, work: Work, work_tx: &mpsc::Sender<(WorkId, WorkResult)>) {
        match work {
            Work::OpenMedia { .. } => {
                let port = self.ports.open(self.media_ip());
                let _ = work_tx.try_send((id, WorkResult::Media(port)));
            }
            Work::CloseMedia { call, port } => {
                self.ports.close(port);
                self.sessions.end(call);
            }
            other => {
                let services = Arc::clone(&self.services);
                let sessions = Arc::clone(&self.sessions);
                let tx = work_tx.clone();
                tokio::task::spawn_blocking(move || {
                    let result = run_work(&services, &sessions, other);
                    let _ = tx.blocking_send((id, result));
                });
            }
        }
    }

    fn media_ip(&self) -> IpAddr {
        media_ip(&self.udp)
    }
}

/// The address media ports are bound on: the first UDP listening point's.
fn media_ip(udp: &HashMap<SocketAddr, Arc<UdpSocket>>) -> IpAddr {
    udp.keys()
        .next()
        .map_or(IpAddr::from([127, 0, 0, 1]), SocketAddr::ip)
}

/// Work that needs the pool or the plugins (blocking).
fn run_work(s: &Services, sessions: &crate::conference::Sessions, work: Work) -> WorkResult {
    use crate::conference as c;
    match work {
        Work::Ha1 {
            username,
            realm,
            algorithm,
        } => {
            let alg = match algorithm {
                Algorithm::Md5 => DigestAlgorithm::Md5,
                Algorithm::Sha256 => DigestAlgorithm::Sha256,
            };
            let uri = format!("sip:{username}@{realm}");
            WorkResult::Ha1(s.pool().digest_ha1(&uri, alg).ok().flatten())
        }
        Work::Route {
            tenant,
            profile,
            number,
            calling,
        } => WorkResult::Route(route(s, &tenant, profile, &number, calling)),
        Work::Service {
            requester,
            tenant,
            target,
            body,
        } => {
            let backend = crate::focus::PoolBackend::new(s);
            let requester = plenum_conference::focus_factory::Requester {
                uri: requester,
                tenant,
            };
            let answer =
                plenum_conference::focus_factory::handle(&backend, &requester, &target, &body);
            WorkResult::Service(answer)
        }
        Work::Attendant { call, event, info } => {
            WorkResult::Attendant(sessions.step(s, call, *info, &event))
        }
        Work::Lookup { tenant, pstn_id } => {
            let (r, m) = c::lookup(s, &tenant, &pstn_id);
            WorkResult::Lookup(r, m)
        }
        Work::VerifyPasscode {
            meeting,
            tenant,
            passcode,
        } => WorkResult::Passcode(c::verify_passcode(s, &tenant, meeting, &passcode)),
        Work::VerifyPin {
            tenant,
            profile,
            who,
            pin,
            meeting,
        } => WorkResult::Pin(c::verify_pin(
            s,
            &tenant,
            profile.as_deref(),
            &who,
            &pin,
            meeting,
        )),
        Work::Admit { tenant, request } => WorkResult::Admit(c::admit(s, &tenant, &request)),
        Work::FindMeeting {
            organizer,
            conference_id,
        } => WorkResult::Meeting(
            s.pool()
                .conference(&organizer, &conference_id)
                .ok()
                .flatten()
                .filter(|m| m.expires_at > plenum_types::unix_now())
                .map(|m| {
                    let ctx = c::policy_context(s, &m.tenant);
                    let settings = s.plugins().settings(&m.tenant, &ctx).value;
                    Box::new((c::meeting_ref(m), settings))
                }),
        ),
        Work::Audit {
            tenant,
            event,
            meeting,
            subject,
            detail,
        } => {
            match plenum_storage::AuditEvent::from_name(event) {
                Some(event) => c::audit(s, &tenant, event, meeting, &subject, &detail),
                None => tracing::error!(event, "the switch audited an event the pool cannot store"),
            }
            WorkResult::Done
        }
        Work::OpenMedia { .. } | Work::CloseMedia { .. } => WorkResult::Done,
    }
}

/// Normalize with the tenant's profile, then the reverse lookup.
fn route(
    s: &Services,
    tenant: &TenantId,
    profile: Option<String>,
    number: &str,
    calling: Option<String>,
) -> Route {
    let Ok(Some(t)) = s.pool().tenant(tenant) else {
        return Route::NotFound;
    };
    let Some(name) = profile.or(t.default_profile.clone()) else {
        return Route::NotFound;
    };
    let Ok(Some(p)) = s.pool().profile(tenant, &name) else {
        return Route::NotFound;
    };
    let request = NormalizeRequest {
        tenant: plenum_plugin_api::types::Tenant::new(tenant.as_str(), &t.sip_domain),
        profile: crate::server::location_profile(&p),
        number: number.to_owned(),
        kind: NumberKind::Called,
    };
    let NormalizeOutcome::E164(e164) = s.plugins().normalize(tenant, &request).value else {
        return Route::NotFound;
    };
    let Ok(e164) = E164::new(&e164) else {
        return Route::NotFound;
    };
    let Ok(Some(a)) = s.pool().access_number(&e164) else {
        return Route::NotFound;
    };
    // The profile of the access number's region: extensions and numbers typed at its
    // attendant are normalized with it.
    let profile = s
        .pool()
        .profiles(&a.tenant)
        .ok()
        .and_then(|ps| ps.into_iter().find(|p| p.region == a.region))
        .map(|p| p.name);
    let ctx = crate::conference::policy_context(s, &a.tenant);
    let settings = s.plugins().settings(&a.tenant, &ctx).value;
    // The caller ID as the PBX sent it (national, with an access prefix, ...), normalized with
    // the gateway's profile like the called number; kept as sent when no rule matches.
    let calling = calling.filter(|c| !c.is_empty()).map(|c| {
        let request = NormalizeRequest {
            number: c.clone(),
            kind: NumberKind::Calling,
            ..request
        };
        match s.plugins().normalize(tenant, &request).value {
            NormalizeOutcome::E164(n) if E164::new(&n).is_ok() => n,
            _ => c,
        }
    });
    Route::AccessNumber(Box::new(Routed {
        tenant: a.tenant.clone(),
        number: a.number.clone(),
        access: plenum_plugin_api::types::AccessNumber {
            number: a.number.as_str().to_owned(),
            display: a.display,
            region: a.region,
            languages: a.languages,
            priority: a.priority,
        },
        profile,
        settings,
        calling,
    }))
}

/// Media ports reserved per call: an even RTP port and the odd RTCP port above it, both
/// bound; the sockets go to the media engine when the leg opens, the port stays reserved until
/// the call ends. With a shared port, every call gets that one and nothing is bound here (the
/// engine holds its sockets).
struct MediaPorts {
    range: (u16, u16),
    next: u16,
    held: HashMap<u16, Option<(std::net::UdpSocket, std::net::UdpSocket)>>,
    shared: Option<u16>,
}

impl MediaPorts {
    fn new(range: (u16, u16), shared: Option<u16>) -> MediaPorts {
        MediaPorts {
            range,
            next: range.0,
            held: HashMap::new(),
            shared,
        }
    }

    /// An even port (RTP) whose odd neighbour (RTCP) binds too, or none; the shared port if
    /// there is one.
    fn open(&mut self, ip: IpAddr) -> Option<u16> {
        if self.shared.is_some() {
            return self.shared;
        }
        let (lo, hi) = self.range;
        let span = u32::from(hi.saturating_sub(lo)) + 1;
        for _ in 0..span / 2 + 1 {
            let port = self.next & !1;
            self.next = if self.next.saturating_add(2) > hi {
                lo
            } else {
                self.next + 2
            };
            if port < lo || port.saturating_add(1) > hi || self.held.contains_key(&port) {
                continue;
            }
            let Ok(rtp) = std::net::UdpSocket::bind((ip, port)) else {
                continue;
            };
            let Ok(rtcp) = std::net::UdpSocket::bind((ip, port + 1)) else {
                continue;
            };
            self.held.insert(port, Some((rtp, rtcp)));
            return Some(port);
        }
        None
    }

    /// The sockets of a reserved port, once; the shared port's marker, every time.
    fn take(&mut self, port: u16) -> Option<crate::media::LegSockets> {
        if self.shared == Some(port) {
            return Some(crate::media::LegSockets::Shared);
        }
        let (rtp, rtcp) = self.held.get_mut(&port).and_then(Option::take)?;
        Some(crate::media::LegSockets::Own { rtp, rtcp })
    }

    fn close(&mut self, port: u16) {
        self.held.remove(&port);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn live_meetings_say_when_the_core_does_not_answer() {
        // A core that answers: an empty list is "no meeting".
        let (tx, mut rx) = mpsc::channel(1);
        let core = tokio::spawn(async move {
            if let Some(Inbound::Live(reply)) = rx.recv().await {
                let _ = reply.send(Vec::new());
            }
            rx
        });
        assert_eq!(
            LiveHandle(tx.clone()).meetings().await.map(|m| m.len()),
            Some(0)
        );
        // A core that never reads its (full) queue: no answer, not "no meeting".
        let _rx = core.await.unwrap();
        let (full, _never_read) = mpsc::channel(1);
        full.try_send(Inbound::Live(tokio::sync::oneshot::channel().0))
            .ok()
            .unwrap();
        assert!(LiveHandle(full).meetings().await.is_none());
        // A core that took the question and dropped it.
        let (tx, mut rx) = mpsc::channel(1);
        tokio::spawn(async move { drop(rx.recv().await) });
        assert!(LiveHandle(tx).meetings().await.is_none());
    }
}
