//! Dialogs (RFC 3261 §12), with re-INVITE rules (§14: glare → 491, overlap → 500 with
//! Retry-After; RFC 5407: BYE during a re-INVITE) and session timers (RFC 4028).
//!
//! A [`Dialog`] is a value: it checks in-dialog requests, builds our in-dialog requests
//! (BYE, re-INVITE, INFO, NOTIFY, ACK), and tells when the session timer wants a refresh or
//! an end. The transaction user keeps its dialogs and feeds them; the endpoint carries the
//! messages.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::endpoint::Flow;
use crate::headers::{NameAddr, SipHeaders};
use crate::message::{HeaderName, Headers, Method, ParseError, Request, Response, Uri};

/// What identifies a dialog (§12): Call-ID and the two tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// Call-ID.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
}

impl DialogId {
    /// The dialog an incoming in-dialog request belongs to (our tag is in its To).
    pub fn of_request(r: &Request) -> Result<DialogId, ParseError> {
        Ok(DialogId {
            call_id: r.call_id()?.to_owned(),
            local_tag: r.field_to()?.tag().unwrap_or_default().to_owned(),
            remote_tag: r.field_from()?.tag().unwrap_or_default().to_owned(),
        })
    }
}

/// Why an in-dialog request is refused; the status to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialogError {
    /// A CSeq lower than the last one (§12.2.2): 500.
    #[error("CSeq out of order")]
    CSeqOrder,
    /// A re-INVITE while ours is pending (glare, §14.2): 491.
    #[error("request pending (glare)")]
    Glare,
    /// A re-INVITE while the peer's previous one is still unanswered (§14.2): 500 with
    /// Retry-After.
    #[error("a previous re-INVITE is still in progress")]
    Overlap,
    /// The dialog has ended: 481.
    #[error("dialog terminated")]
    Terminated,
}

impl DialogError {
    /// The status code to answer with.
    pub fn status(self) -> u16 {
        match self {
            DialogError::CSeqOrder | DialogError::Overlap => 500,
            DialogError::Glare => 491,
            DialogError::Terminated => 481,
        }
    }
}

/// Which side refreshes the session (RFC 4028).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresher {
    /// We send the refreshes.
    Us,
    /// The peer does; if it stops, we end the session.
    Them,
}

/// A negotiated session timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimer {
    /// The interval.
    pub interval: Duration,
    /// Who refreshes.
    pub refresher: Refresher,
    /// When the last refresh happened.
    pub refreshed: Instant,
}

/// The smallest session interval we accept (RFC 4028 recommends 90 s).
pub const MIN_SE: Duration = Duration::from_secs(90);

/// What a session timer wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerAction {
    /// Send a refresh (a re-INVITE or UPDATE) now.
    Refresh,
    /// The peer did not refresh in time: end the session (BYE).
    Expire,
}

impl SessionTimer {
    /// Read the Session-Expires of a request we answer as UAS; `Err(min)` when the interval
    /// is below our minimum (answer 422 with `Min-SE: min`).
    pub fn negotiate_uas(
        request: &Request,
        now: Instant,
    ) -> Result<Option<SessionTimer>, Duration> {
        let Some(value) = request.headers.get(&HeaderName::SESSION_EXPIRES) else {
            return Ok(None);
        };
        let mut parts = value.split(';');
        let secs: u64 = match parts.next().and_then(|s| s.trim().parse().ok()) {
            Some(s) => s,
            None => return Ok(None),
        };
        let interval = Duration::from_secs(secs);
        if interval < MIN_SE {
            return Err(MIN_SE);
        }
        let asked = parts.find_map(|p| {
            p.trim()
                .strip_prefix("refresher=")
                .map(str::to_ascii_lowercase)
        });
        let supports = request
            .option_tags(&HeaderName::SUPPORTED)
            .iter()
            .any(|t| t == "timer");
        // The UAC refreshes if it asked to, or if it supports timers and did not say; a UAC
        // without timer support cannot refresh, so we do (RFC 4028 §9).
        let refresher = match asked.as_deref() {
            Some("uac") => Refresher::Them,
            Some("uas") => Refresher::Us,
            _ if supports => Refresher::Them,
            _ => Refresher::Us,
        };
        Ok(Some(SessionTimer {
            interval,
            refresher,
            refreshed: now,
        }))
    }

    /// The `Session-Expires` value for our 2xx.
    pub fn header(&self) -> String {
        let who = match self.refresher {
            Refresher::Us => "uas",
            Refresher::Them => "uac",
        };
        format!("{};refresher={who}", self.interval.as_secs())
    }

    /// When the timer next wants attention.
    pub fn deadline(&self) -> Instant {
        match self.refresher {
            Refresher::Us => self.refreshed + self.interval / 2,
            // RFC 4028 §10: BYE at interval minus min(32 s, interval/3).
            Refresher::Them => {
                self.refreshed + self.interval - (self.interval / 3).min(Duration::from_secs(32))
            }
        }
    }

    /// What is due at `now`, if anything.
    pub fn poll(&self, now: Instant) -> Option<TimerAction> {
        (now >= self.deadline()).then_some(match self.refresher {
            Refresher::Us => TimerAction::Refresh,
            Refresher::Them => TimerAction::Expire,
        })
    }
}

/// Dialog state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    /// Confirmed (2xx sent or received).
    Confirmed,
    /// Ended (BYE sent or received).
    Terminated,
}

/// One dialog.
#[derive(Debug, Clone)]
pub struct Dialog {
    /// Its id.
    pub id: DialogId,
    /// State.
    pub state: DialogState,
    /// Our From/To value (with our tag).
    local: String,
    /// The peer's From/To value (with its tag).
    remote: String,
    /// Where in-dialog requests go: the peer's Contact.
    pub remote_target: Uri,
    /// Route set (from Record-Route), in the order to use.
    route_set: Vec<String>,
    /// Our Contact.
    contact: String,
    /// Our last CSeq.
    local_cseq: u32,
    /// The peer's last CSeq.
    remote_cseq: Option<u32>,
    /// The flow to send on.
    pub flow: Flow,
    /// A re-INVITE we sent is waiting for its final response.
    our_reinvite: bool,
    /// The CSeq of a re-INVITE from the peer we have not answered with a final response.
    their_reinvite: Option<u32>,
    /// The session timer, if negotiated.
    pub session_timer: Option<SessionTimer>,
}

impl Dialog {
    /// The dialog we create by answering `invite` (or SUBSCRIBE) with a 2xx carrying
    /// `local_tag`; `contact` is our Contact URI.
    pub fn uas(
        invite: &Request,
        local_tag: &str,
        contact: &str,
        flow: Flow,
    ) -> Result<Dialog, ParseError> {
        let from = invite.field_from()?;
        let remote_tag = from.tag().ok_or(ParseError::Header("From"))?.to_owned();
        let to_value = invite
            .headers
            .get(&HeaderName::TO)
            .ok_or(ParseError::Header("To"))?;
        let remote_target = match invite.contact() {
            Some(c) => c?.uri,
            None => from.uri.clone(),
        };
        Ok(Dialog {
            id: DialogId {
                call_id: invite.call_id()?.to_owned(),
                local_tag: local_tag.to_owned(),
                remote_tag,
            },
            state: DialogState::Confirmed,
            local: format!("{to_value};tag={local_tag}"),
            remote: invite
                .headers
                .get(&HeaderName::FROM)
                .unwrap_or_default()
                .to_owned(),
            remote_target,
            route_set: invite
                .headers
                .values(&HeaderName::RECORD_ROUTE)
                .map(str::to_owned)
                .collect(),
            contact: contact.to_owned(),
            local_cseq: 0,
            remote_cseq: Some(invite.cseq()?.number),
            flow,
            our_reinvite: false,
            their_reinvite: None,
            session_timer: None,
        })
    }

    /// The dialog our `invite` created when `response` (a 2xx) arrived.
    pub fn uac(invite: &Request, response: &Response, flow: Flow) -> Result<Dialog, ParseError> {
        let from = invite.field_from()?;
        let to = response.field_to()?;
        let remote_target = match response.contact() {
            Some(c) => c?.uri,
            None => to.uri.clone(),
        };
        let mut route_set: Vec<String> = response
            .headers
            .values(&HeaderName::RECORD_ROUTE)
            .map(str::to_owned)
            .collect();
        route_set.reverse();
        let contact = invite
            .contact()
            .and_then(Result::ok)
            .map(|c| c.uri.to_string())
            .unwrap_or_default();
        Ok(Dialog {
            id: DialogId {
                call_id: invite.call_id()?.to_owned(),
                local_tag: from.tag().ok_or(ParseError::Header("From"))?.to_owned(),
                remote_tag: to.tag().ok_or(ParseError::Header("To"))?.to_owned(),
            },
            state: DialogState::Confirmed,
            local: invite
                .headers
                .get(&HeaderName::FROM)
                .unwrap_or_default()
                .to_owned(),
            remote: response
                .headers
                .get(&HeaderName::TO)
                .unwrap_or_default()
                .to_owned(),
            remote_target,
            route_set,
            contact,
            local_cseq: invite.cseq()?.number,
            remote_cseq: None,
            flow,
            our_reinvite: false,
            their_reinvite: None,
            session_timer: None,
        })
    }

    /// The dialog an incoming in-dialog request from the peer belongs to, as seen from here.
    pub fn matches(&self, r: &Request) -> bool {
        DialogId::of_request(r).is_ok_and(|id| id == self.id)
    }

    /// Check an in-dialog request from the peer and note its CSeq. For a re-INVITE this is
    /// where glare (491) and overlap (500) are caught.
    pub fn on_request(&mut self, r: &Request) -> Result<(), DialogError> {
        if self.state == DialogState::Terminated && r.method != Method::Ack {
            return Err(DialogError::Terminated);
        }
        if r.method == Method::Ack || r.method == Method::Cancel {
            return Ok(());
        }
        let cseq = r.cseq().map_err(|_| DialogError::CSeqOrder)?.number;
        if self.remote_cseq.is_some_and(|last| cseq <= last) {
            return Err(DialogError::CSeqOrder);
        }
        if r.method == Method::Invite {
            if self.our_reinvite {
                return Err(DialogError::Glare);
            }
            if self.their_reinvite.is_some() {
                return Err(DialogError::Overlap);
            }
            self.their_reinvite = Some(cseq);
        }
        if r.method == Method::Bye {
            self.state = DialogState::Terminated;
        }
        self.remote_cseq = Some(cseq);
        Ok(())
    }

    /// Whether a BYE just ended the dialog while the peer's re-INVITE was unanswered: that
    /// re-INVITE must now get 487 (RFC 5407 §3.2). Returns its CSeq once.
    pub fn take_interrupted_reinvite(&mut self) -> Option<u32> {
        if self.state == DialogState::Terminated {
            self.their_reinvite.take()
        } else {
            None
        }
    }

    /// We sent a final response to the peer's re-INVITE.
    pub fn answered_reinvite(&mut self) {
        self.their_reinvite = None;
    }

    /// Build an in-dialog request of ours (BYE, INFO, NOTIFY, or a re-INVITE, which also
    /// marks our re-INVITE pending until [`Dialog::reinvite_done`]).
    pub fn request(&mut self, method: Method, content: Option<(&str, Bytes)>) -> Request {
        self.local_cseq = self.local_cseq.saturating_add(1);
        let mut h = Headers::new();
        h.push(HeaderName::FROM, self.local.clone());
        h.push(HeaderName::TO, self.remote.clone());
        h.push(HeaderName::CALL_ID, self.id.call_id.clone());
        h.push(HeaderName::CSEQ, format!("{} {method}", self.local_cseq));
        h.push(HeaderName::MAX_FORWARDS, "70");
        for r in &self.route_set {
            h.push(HeaderName::ROUTE, r.clone());
        }
        if matches!(
            method,
            Method::Invite | Method::Subscribe | Method::Notify | Method::Update
        ) {
            h.push(HeaderName::CONTACT, format!("<{}>", self.contact));
        }
        let body = match content {
            Some((ctype, body)) => {
                h.push(HeaderName::CONTENT_TYPE, ctype);
                body
            }
            None => Bytes::new(),
        };
        if method == Method::Invite {
            self.our_reinvite = true;
        }
        if method == Method::Bye {
            self.state = DialogState::Terminated;
        }
        Request {
            method,
            uri: self.remote_target.clone(),
            headers: h,
            body,
        }
    }

    /// Our re-INVITE got its final response.
    pub fn reinvite_done(&mut self) {
        self.our_reinvite = false;
    }

    /// The ACK for a 2xx to our re-INVITE with CSeq `cseq`.
    pub fn ack(&self, cseq: u32) -> Request {
        let mut h = Headers::new();
        h.push(HeaderName::FROM, self.local.clone());
        h.push(HeaderName::TO, self.remote.clone());
        h.push(HeaderName::CALL_ID, self.id.call_id.clone());
        h.push(HeaderName::CSEQ, format!("{cseq} ACK"));
        h.push(HeaderName::MAX_FORWARDS, "70");
        for r in &self.route_set {
            h.push(HeaderName::ROUTE, r.clone());
        }
        Request {
            method: Method::Ack,
            uri: self.remote_target.clone(),
            headers: h,
            body: Bytes::new(),
        }
    }

    /// A target refresh from the peer (re-INVITE, UPDATE) may move its Contact.
    pub fn refresh_target(&mut self, r: &Request) {
        if let Some(Ok(NameAddr { uri, .. })) = r.contact() {
            self.remote_target = uri;
        }
    }

    /// Note a refresh of the session (a re-INVITE or UPDATE 2xx).
    pub fn session_refreshed(&mut self, now: Instant) {
        if let Some(t) = &mut self.session_timer {
            t.refreshed = now;
        }
    }

    /// The Contact URI the dialog advertises.
    pub fn contact(&self) -> &str {
        &self.contact
    }
}

/// Headers a 2xx carries for a negotiated session timer (`Session-Expires`, and `Require:
/// timer` when the peer refreshes and said it supports timers).
pub fn session_timer_headers(request: &Request, timer: &SessionTimer, response: &mut Response) {
    response
        .headers
        .push(HeaderName::SESSION_EXPIRES, timer.header());
    let supports = request
        .option_tags(&HeaderName::SUPPORTED)
        .iter()
        .any(|t| t == "timer");
    if supports {
        response.headers.push(HeaderName::REQUIRE, "timer");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Framing, Message, parse};

    fn invite(extra: &str) -> Request {
        let raw = format!(
            "INVITE sip:p@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:p@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContact: <sip:a@10.0.0.1>\r\n{extra}\r\n"
        );
        match parse(raw.as_bytes(), Framing::Datagram) {
            Ok(Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn session_timer_negotiation() {
        let now = Instant::now();
        assert_eq!(SessionTimer::negotiate_uas(&invite(""), now), Ok(None));
        let t = SessionTimer::negotiate_uas(
            &invite("Session-Expires: 1800;refresher=uac\r\nSupported: timer\r\n"),
            now,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (t.interval, t.refresher),
            (Duration::from_secs(1800), Refresher::Them)
        );
        assert_eq!(t.header(), "1800;refresher=uac");
        // The peer refreshes: we give up 32 s before the interval ends.
        assert_eq!(t.deadline(), now + Duration::from_secs(1768));
        assert_eq!(t.poll(now + Duration::from_secs(1767)), None);
        assert_eq!(
            t.poll(now + Duration::from_secs(1768)),
            Some(TimerAction::Expire)
        );
        // No timer support on the UAC: we refresh, at half the interval.
        let us = SessionTimer::negotiate_uas(&invite("Session-Expires: 600\r\n"), now)
            .unwrap()
            .unwrap();
        assert_eq!(us.refresher, Refresher::Us);
        assert_eq!(
            us.poll(now + Duration::from_secs(300)),
            Some(TimerAction::Refresh)
        );
        // Too small: 422 with our minimum.
        assert_eq!(
            SessionTimer::negotiate_uas(&invite("Session-Expires: 30\r\n"), now),
            Err(MIN_SE)
        );
    }

    #[test]
    fn cseq_order_and_overlap() {
        let inv = invite("");
        let flow = Flow {
            transport: crate::endpoint::Transport::Udp,
            local: "127.0.0.1:5060".parse().unwrap(),
            remote: "10.0.0.1:5060".parse().unwrap(),
            conn: None,
        };
        let mut d = Dialog::uas(&inv, "me", "sip:plenum@127.0.0.1", flow).unwrap();
        let mut again = invite("");
        again.headers.set(HeaderName::CSEQ, "1 INVITE");
        assert_eq!(d.on_request(&again), Err(DialogError::CSeqOrder));
        let mut re = invite("");
        re.headers.set(HeaderName::CSEQ, "2 INVITE");
        assert_eq!(d.on_request(&re), Ok(()));
        let mut re2 = invite("");
        re2.headers.set(HeaderName::CSEQ, "3 INVITE");
        assert_eq!(d.on_request(&re2), Err(DialogError::Overlap));
        d.answered_reinvite();
        assert_eq!(d.on_request(&re2), Ok(()));
        // Our requests count up from 1 and go to the peer's Contact.
        let bye = d.request(Method::Bye, None);
        assert_eq!(bye.headers.get(&HeaderName::CSEQ), Some("1 BYE"));
        assert_eq!(bye.uri.to_string(), "sip:a@10.0.0.1");
        assert_eq!(bye.headers.get(&HeaderName::FROM), Some("<sip:p@h>;tag=me"));
    }
}
