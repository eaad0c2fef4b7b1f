//! RFC 3261 §17 transactions (with the RFC 6026 "Accepted" states), as plain state machines.
//!
//! Each transaction is a value that the [`crate::endpoint::Endpoint`] feeds with messages and
//! the current time, and that answers with what to send and when it next wants to be woken:
//! every timer (A, B, D, E, F, G, H, I, J, K, L, M) is a deadline the endpoint keeps, never a
//! sleep. Retransmissions happen only on unreliable transports; the timeouts apply on both.

use std::time::{Duration, Instant};

use bytes::Bytes;

/// The protocol timers' base values (RFC 3261 §17.1.1.1, Table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate (500 ms).
    pub t1: Duration,
    /// Longest retransmit interval for non-INVITE requests and INVITE responses (4 s).
    pub t2: Duration,
    /// Longest time a message stays in the network (5 s).
    pub t4: Duration,
}

impl Default for Timers {
    fn default() -> Timers {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl Timers {
    /// 64·T1: the transaction timeout (Timers B, F, H, J, L, M).
    pub fn timeout(&self) -> Duration {
        self.t1 * 64
    }
}

/// Which timer fired (for tests and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerName {
    /// ICT retransmit.
    A,
    /// ICT timeout.
    B,
    /// ICT wait for response retransmissions.
    D,
    /// NICT retransmit.
    E,
    /// NICT timeout.
    F,
    /// IST final response retransmit.
    G,
    /// IST wait for ACK.
    H,
    /// IST wait for ACK retransmissions.
    I,
    /// NIST wait for request retransmissions.
    J,
    /// NICT wait for response retransmissions.
    K,
    /// IST (accepted) wait for INVITE retransmissions.
    L,
    /// ICT (accepted) wait for 2xx retransmissions.
    M,
    /// IST 2xx retransmit (UAS core, RFC 3261 §13.3.1.4).
    Ok2xx,
}

/// What a transaction asks for after an input.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    /// Bytes to send to the peer.
    pub send: Vec<Bytes>,
    /// Tell the TU something.
    pub notify: Option<TxNotice>,
    /// The transaction is over and can be dropped.
    pub terminated: bool,
}

/// What the TU hears from a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TxNotice {
    /// A client transaction got a response to pass up (not retransmissions).
    Response,
    /// A client transaction timed out (B or F): the TU sees a 408.
    Timeout,
    /// A server INVITE transaction never got the ACK for its final response (H), or for its 2xx
    /// (the 2xx retransmissions ran out).
    NoAck,
}

/// One timer of a transaction: when it fires and its current interval.
#[derive(Debug, Clone, Copy)]
struct Timer {
    at: Instant,
    interval: Duration,
}

/// The state of any transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxState {
    /// Client: request sent, no response yet.
    Calling,
    /// Non-INVITE client: request sent, no response yet.
    Trying,
    /// A provisional response was sent or received.
    Proceeding,
    /// A final non-2xx was sent or received; absorbing retransmissions.
    Completed,
    /// Server INVITE: the ACK for a non-2xx arrived.
    Confirmed,
    /// INVITE, 2xx sent or received (RFC 6026).
    Accepted,
    /// Over.
    Terminated,
}

/// What kind of transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // the RFC's names
pub(crate) enum Role {
    /// Client INVITE.
    ClientInvite,
    /// Client non-INVITE.
    ClientNonInvite,
    /// Server INVITE.
    ServerInvite,
    /// Server non-INVITE.
    ServerNonInvite,
}

/// A transaction's state machine. The endpoint owns the message bytes it needs to resend.
#[derive(Debug)]
pub(crate) struct Machine {
    pub role: Role,
    pub state: TxState,
    pub reliable: bool,
    timers: Timers,
    /// The retransmission timer (A, E, G or the 2xx retransmission).
    retransmit: Option<(TimerName, Timer)>,
    /// The one timeout timer (B, D, F, H, I, J, K, L, M).
    timeout: Option<(TimerName, Instant)>,
    /// What a retransmission resends: the request (client) or the last response (server).
    pub last: Option<Bytes>,
}

impl Machine {
    /// A client transaction that has just sent `request`.
    pub fn client(
        invite: bool,
        reliable: bool,
        timers: Timers,
        request: Bytes,
        now: Instant,
    ) -> Machine {
        let mut m = Machine {
            role: if invite {
                Role::ClientInvite
            } else {
                Role::ClientNonInvite
            },
            state: if invite {
                TxState::Calling
            } else {
                TxState::Trying
            },
            reliable,
            timers,
            retransmit: None,
            timeout: None,
            last: Some(request),
        };
        let retransmit_name = if invite { TimerName::A } else { TimerName::E };
        if !reliable {
            m.retransmit = Some((
                retransmit_name,
                Timer {
                    at: now + timers.t1,
                    interval: timers.t1,
                },
            ));
        }
        m.timeout = Some((
            if invite { TimerName::B } else { TimerName::F },
            now + timers.timeout(),
        ));
        m
    }

    /// A server transaction for a request that has just arrived.
    pub fn server(invite: bool, reliable: bool, timers: Timers) -> Machine {
        Machine {
            role: if invite {
                Role::ServerInvite
            } else {
                Role::ServerNonInvite
            },
            state: if invite {
                TxState::Proceeding
            } else {
                TxState::Trying
            },
            reliable,
            timers,
            retransmit: None,
            timeout: None,
            last: None,
        }
    }

    /// When this transaction next wants [`Machine::on_timer`].
    pub fn deadline(&self) -> Option<Instant> {
        let r = self.retransmit.map(|(_, t)| t.at);
        let t = self.timeout.map(|(_, at)| at);
        match (r, t) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Time passed; fire whatever is due.
    pub fn on_timer(&mut self, now: Instant) -> (Effects, Vec<TimerName>) {
        let mut fx = Effects::default();
        let mut fired = Vec::new();
        if let Some((name, at)) = self.timeout
            && at <= now
        {
            fired.push(name);
            self.timeout = None;
            self.retransmit = None;
            match name {
                TimerName::B | TimerName::F => fx.notify = Some(TxNotice::Timeout),
                TimerName::H => fx.notify = Some(TxNotice::NoAck),
                TimerName::L if self.role == Role::ServerInvite && self.awaiting_2xx_ack() => {
                    fx.notify = Some(TxNotice::NoAck)
                }
                _ => {}
            }
            self.state = TxState::Terminated;
            fx.terminated = true;
            return (fx, fired);
        }
        if let Some((name, mut t)) = self.retransmit
            && t.at <= now
        {
            fired.push(name);
            fx.send.extend(self.last.clone());
            t.interval = match name {
                // INVITE request retransmissions double without a cap (bounded by Timer B).
                TimerName::A => t.interval * 2,
                // Non-INVITE requests in Proceeding retransmit every T2.
                TimerName::E if self.state == TxState::Proceeding => self.timers.t2,
                _ => (t.interval * 2).min(self.timers.t2),
            };
            t.at = now + t.interval;
            self.retransmit = Some((name, t));
        }
        (fx, fired)
    }

    fn awaiting_2xx_ack(&self) -> bool {
        matches!(self.retransmit, Some((TimerName::Ok2xx, _)))
    }

    // ---- client side ----

    /// A response to our request arrived (`code`); `ack` is the ACK to send for a non-2xx
    /// final response to an INVITE (built by the endpoint).
    pub fn client_response(&mut self, code: u16, ack: Option<Bytes>, now: Instant) -> Effects {
        let mut fx = Effects::default();
        let provisional = code < 200;
        match (self.role, self.state) {
            (Role::ClientInvite, TxState::Calling | TxState::Proceeding) => {
                fx.notify = Some(TxNotice::Response);
                if provisional {
                    self.state = TxState::Proceeding;
                    self.retransmit = None;
                } else if code < 300 {
                    // RFC 6026: Accepted — further 2xx go to the TU (each may need an ACK).
                    self.state = TxState::Accepted;
                    self.retransmit = None;
                    self.timeout = Some((TimerName::M, now + self.timers.timeout()));
                } else {
                    self.state = TxState::Completed;
                    self.retransmit = None;
                    fx.send.extend(ack.clone());
                    self.last = ack;
                    let d = if self.reliable {
                        Duration::ZERO
                    } else {
                        Duration::from_secs(32).max(self.timers.timeout())
                    };
                    self.timeout = Some((TimerName::D, now + d));
                }
            }
            (Role::ClientInvite, TxState::Accepted) if (200..300).contains(&code) => {
                fx.notify = Some(TxNotice::Response);
            }
            (Role::ClientInvite, TxState::Completed) if code >= 300 => {
                // A retransmitted final response: resend the ACK.
                fx.send.extend(self.last.clone());
            }
            (Role::ClientNonInvite, TxState::Trying | TxState::Proceeding) => {
                fx.notify = Some(TxNotice::Response);
                if provisional {
                    self.state = TxState::Proceeding;
                    if let Some((name, t)) = self.retransmit {
                        self.retransmit = Some((
                            name,
                            Timer {
                                at: t.at,
                                interval: self.timers.t2,
                            },
                        ));
                    }
                } else {
                    self.state = TxState::Completed;
                    self.retransmit = None;
                    let k = if self.reliable {
                        Duration::ZERO
                    } else {
                        self.timers.t4
                    };
                    self.timeout = Some((TimerName::K, now + k));
                }
            }
            _ => {}
        }
        if self.timeout.is_some_and(|(_, at)| at <= now) {
            self.state = TxState::Terminated;
            fx.terminated = true;
        }
        fx
    }

    // ---- server side ----

    /// The TU sends a response (`code`, printed as `bytes`).
    pub fn server_respond(&mut self, code: u16, bytes: Bytes, now: Instant) -> Effects {
        let mut fx = Effects::default();
        match (self.role, self.state) {
            (Role::ServerInvite, TxState::Proceeding) => {
                fx.send.push(bytes.clone());
                self.last = Some(bytes);
                if code < 200 {
                    return fx;
                }
                if code < 300 {
                    // RFC 6026 Accepted; the 2xx is retransmitted until the ACK (§13.3.1.4).
                    self.state = TxState::Accepted;
                    if !self.reliable {
                        let t = Timer {
                            at: now + self.timers.t1,
                            interval: self.timers.t1,
                        };
                        self.retransmit = Some((TimerName::Ok2xx, t));
                    }
                    self.timeout = Some((TimerName::L, now + self.timers.timeout()));
                } else {
                    self.state = TxState::Completed;
                    if !self.reliable {
                        let t = Timer {
                            at: now + self.timers.t1,
                            interval: self.timers.t1,
                        };
                        self.retransmit = Some((TimerName::G, t));
                    }
                    self.timeout = Some((TimerName::H, now + self.timers.timeout()));
                }
            }
            (Role::ServerNonInvite, TxState::Trying | TxState::Proceeding) => {
                fx.send.push(bytes.clone());
                self.last = Some(bytes);
                if code < 200 {
                    self.state = TxState::Proceeding;
                } else {
                    self.state = TxState::Completed;
                    let j = if self.reliable {
                        Duration::ZERO
                    } else {
                        self.timers.timeout()
                    };
                    self.timeout = Some((TimerName::J, now + j));
                    if j.is_zero() {
                        self.state = TxState::Terminated;
                        fx.terminated = true;
                    }
                }
            }
            _ => {}
        }
        fx
    }

    /// The request arrived again (a retransmission): resend the last response, if any.
    pub fn server_retransmission(&mut self) -> Effects {
        let mut fx = Effects::default();
        if matches!(
            self.state,
            TxState::Proceeding | TxState::Completed | TxState::Accepted
        ) {
            fx.send.extend(self.last.clone());
        }
        fx
    }

    /// An ACK arrived for this INVITE server transaction. Returns whether it belongs to a 2xx
    /// (the TU must see it) or to a non-2xx (absorbed here).
    pub fn server_ack(&mut self, now: Instant) -> (Effects, bool) {
        let mut fx = Effects::default();
        match self.state {
            TxState::Completed => {
                self.state = TxState::Confirmed;
                self.retransmit = None;
                let i = if self.reliable {
                    Duration::ZERO
                } else {
                    self.timers.t4
                };
                self.timeout = Some((TimerName::I, now + i));
                if i.is_zero() {
                    self.state = TxState::Terminated;
                    fx.terminated = true;
                }
                (fx, false)
            }
            TxState::Accepted => {
                let first = self.awaiting_2xx_ack() || self.last.is_some();
                // Stop retransmitting the 2xx; stay until Timer L to absorb INVITE copies.
                self.retransmit = None;
                self.last = None;
                (fx, first)
            }
            _ => (fx, false),
        }
    }
}
