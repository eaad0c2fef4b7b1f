//! The conference event package (RFC 4575, reference/c3p.md §6): `SUBSCRIBE` to a meeting's
//! focus URI with `Event: conference` → digest → the meeting from the pool → `200` and a
//! `NOTIFY` with the full roster; then a partial `NOTIFY` with a higher version on every change;
//! refresh and unsubscribe in the dialog; expiry ends it with `Subscription-State: terminated`.
//!
//! The meeting's [`Focus`] stays while it has subscribers, even with nobody in it, so that the
//! versions a subscriber sees only grow.

use std::cmp::Reverse;
use std::time::{Duration, Instant};

use bytes::Bytes;
use plenum_c3p::roster::{CONTENT_TYPE, ConferenceInfo, EVENT_PACKAGE};
use plenum_plugin_api::policy::MeetingSettings;
use plenum_sip::compose;
use plenum_sip::dialog::Dialog;
use plenum_sip::endpoint::{ClientTxId, Flow, ServerTxId};
use plenum_sip::error::SipError;
use plenum_sip::message::{HeaderName, Method, Request};
use plenum_types::TenantId;

use super::{Switch, Waiter, Work, contact_uri, digest_subject, focus_of, sender_tenant};
use crate::focus::{Focus, MeetingRef};

/// Longest subscription we grant (and the default).
pub const MAX_EXPIRES: Duration = Duration::from_secs(3600);

/// A SUBSCRIBE being authenticated or looked up.
pub(super) struct PendingSubscribe {
    tx: ServerTxId,
    request: Request,
    flow: Flow,
    realm: String,
    tenant: TenantId,
    organizer: String,
    conference_id: String,
}

/// A subscriber of a meeting's roster.
pub(super) struct Subscription {
    dialog: Dialog,
    meeting: i64,
    expires_at: Instant,
}

fn expires_of(request: &Request) -> Duration {
    request
        .headers
        .get(&HeaderName::EXPIRES)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(MAX_EXPIRES, Duration::from_secs)
        .min(MAX_EXPIRES)
}

fn event_is_conference(request: &Request) -> bool {
    request
        .headers
        .get(&HeaderName::EVENT)
        .and_then(|e| e.split(';').next())
        .is_some_and(|e| e.trim().eq_ignore_ascii_case(EVENT_PACKAGE))
}

impl Switch {
    /// A dialog-creating SUBSCRIBE.
    pub(super) fn subscribe(&mut self, tx: ServerTxId, request: Request, flow: Flow, now: Instant) {
        if !event_is_conference(&request) {
            let error = SipError::BadEvent {
                allow: EVENT_PACKAGE,
            };
            self.refuse(tx, &request, &error, now);
            return;
        }
        let Some((organizer, conference_id)) = focus_of(&request.uri) else {
            self.refuse(tx, &request, &SipError::NotFound, now);
            return;
        };
        let Some(tenant) = sender_tenant(&self.directory, &request) else {
            self.refuse(tx, &request, &SipError::Forbidden, now);
            return;
        };
        let Some(work) = digest_subject(&request, &tenant.domain) else {
            let challenge = self.challenge(&tenant.domain, false, now);
            self.refuse(tx, &request, &challenge, now);
            return;
        };
        let id = self.id();
        self.subscribes.insert(
            id,
            PendingSubscribe {
                tx,
                request,
                flow,
                realm: tenant.domain,
                tenant: tenant.id,
                organizer,
                conference_id,
            },
        );
        self.request_work_for(Waiter::Subscribe(id), work);
    }

    pub(super) fn subscribe_authenticated(&mut self, id: u64, ha1: Option<String>, now: Instant) {
        let Some(p) = self.subscribes.get(&id) else {
            return;
        };
        let (request, realm, tenant) = (p.request.clone(), p.realm.clone(), p.tenant.clone());
        match self.verify_digest(&request, &realm, ha1, now) {
            Ok((_, t)) if t == tenant => {
                let Some(p) = self.subscribes.get(&id) else {
                    return;
                };
                let work = Work::FindMeeting {
                    organizer: p.organizer.clone(),
                    conference_id: p.conference_id.clone(),
                };
                self.request_work_for(Waiter::Subscribe(id), work);
            }
            Ok(_) => self.subscribe_refused(id, &SipError::Forbidden, now),
            Err((error, _)) => self.subscribe_refused(id, &error, now),
        }
    }

    fn subscribe_refused(&mut self, id: u64, error: &SipError, now: Instant) {
        if let Some(p) = self.subscribes.remove(&id) {
            self.refuse(p.tx, &p.request, error, now);
        }
    }

    pub(super) fn subscribe_found(
        &mut self,
        id: u64,
        found: Option<Box<(MeetingRef, MeetingSettings)>>,
        now: Instant,
    ) {
        let Some(p) = self.subscribes.remove(&id) else {
            return;
        };
        // Another tenant's meeting is nobody's business here.
        let Some(meeting) = found.map(|f| f.0).filter(|m| m.tenant == p.tenant) else {
            self.refuse(p.tx, &p.request, &SipError::NotFound, now);
            return;
        };
        let tag = self.ep.new_tag();
        let contact = contact_uri(p.flow);
        let Ok(dialog) = Dialog::uas(&p.request, &tag, &contact, p.flow) else {
            let error = SipError::Malformed(plenum_sip::ParseError::Header("From"));
            self.refuse(p.tx, &p.request, &error, now);
            return;
        };
        let expires = expires_of(&p.request);
        let mut ok = compose::response(&p.request, 200, Some(&tag));
        ok.headers.push(HeaderName::CONTACT, format!("<{contact}>"));
        ok.headers
            .push(HeaderName::EXPIRES, expires.as_secs().to_string());
        self.ep.respond(p.tx, ok, now);
        let key = meeting.id;
        let focus = self.focus_of_meeting(meeting);
        if focus.published().is_none() {
            focus.publish();
        }
        let full = focus.published().cloned();
        let sub = self.id();
        self.sub_by_dialog.insert(dialog.id.clone(), sub);
        self.subs.insert(
            sub,
            Subscription {
                dialog,
                meeting: key,
                expires_at: now + expires,
            },
        );
        self.sub_timers.push(Reverse((now + expires, sub)));
        if let Some(full) = full {
            // A fetch (Expires: 0) gets the state once and ends.
            self.notify(sub, &full, expires.is_zero().then_some("timeout"), now);
        }
        if expires.is_zero() {
            self.end_subscription(sub);
        }
    }

    /// A request inside a subscription's dialog: a refresh or an unsubscribe.
    pub(super) fn subscription_request(
        &mut self,
        sub: u64,
        tx: ServerTxId,
        request: &Request,
        now: Instant,
    ) {
        let Some(s) = self.subs.get_mut(&sub) else {
            self.refuse(tx, request, &SipError::NoSuchCall, now);
            return;
        };
        if let Err(e) = s.dialog.on_request(request) {
            self.refuse(tx, request, &SipError::from(e), now);
            return;
        }
        if request.method != Method::Subscribe {
            self.refuse(
                tx,
                request,
                &SipError::MethodNotAllowed { allow: "SUBSCRIBE" },
                now,
            );
            return;
        }
        let expires = expires_of(request);
        s.expires_at = now + expires;
        let mut ok = compose::response(request, 200, None);
        ok.headers
            .push(HeaderName::EXPIRES, expires.as_secs().to_string());
        self.ep.respond(tx, ok, now);
        let full = self
            .focuses
            .get(&s.meeting)
            .and_then(|f| f.published().cloned());
        if let Some(full) = full {
            // RFC 6665 §4.2.1.2: a refresh is answered with the current state.
            self.notify(sub, &full, expires.is_zero().then_some("timeout"), now);
        }
        if expires.is_zero() {
            self.end_subscription(sub);
        } else {
            self.sub_timers.push(Reverse((now + expires, sub)));
        }
    }

    pub(super) fn subscription_timer(&mut self, sub: u64, now: Instant) {
        let Some(s) = self.subs.get(&sub) else {
            return;
        };
        if s.expires_at > now {
            return;
        }
        let full = self
            .focuses
            .get(&s.meeting)
            .and_then(|f| f.published().cloned());
        if let Some(full) = full {
            self.notify(sub, &full, Some("timeout"), now);
        }
        self.end_subscription(sub);
    }

    /// The meeting is gone: each subscription gets a last NOTIFY with the final state and
    /// `terminated;reason=noresource` (RFC 6665 §4.2.2).
    pub(super) fn end_subscriptions(&mut self, key: i64, now: Instant) {
        let subs: Vec<u64> = self
            .subs
            .iter()
            .filter(|(_, s)| s.meeting == key)
            .map(|(id, _)| *id)
            .collect();
        let last = self.focuses.get_mut(&key).map(|f| {
            f.publish();
            f.published().cloned()
        });
        for sub in subs {
            if let Some(Some(doc)) = &last {
                self.notify(sub, doc, Some("noresource"), now);
            }
            self.end_subscription(sub);
        }
    }

    /// Send one NOTIFY in a subscription's dialog.
    /// `end`: the subscription's last NOTIFY, with this reason.
    fn notify(&mut self, sub: u64, doc: &ConferenceInfo, end: Option<&str>, now: Instant) {
        let Some(s) = self.subs.get_mut(&sub) else {
            return;
        };
        let state = if let Some(reason) = end {
            format!("terminated;reason={reason}")
        } else {
            let left = s.expires_at.saturating_duration_since(now).as_secs();
            format!("active;expires={left}")
        };
        let body = Bytes::from(doc.to_xml());
        let mut notify = s.dialog.request(Method::Notify, Some((CONTENT_TYPE, body)));
        notify.headers.push(HeaderName::EVENT, EVENT_PACKAGE);
        notify.headers.push(HeaderName::SUBSCRIPTION_STATE, state);
        let flow = s.dialog.flow;
        let tx = self.ep.send_request(notify, flow, now);
        self.notify_tx.insert(tx, sub);
    }

    /// The roster changed: a partial NOTIFY to every subscriber of the meeting.
    pub(super) fn notify_subscribers(
        &mut self,
        key: i64,
        _full: &ConferenceInfo,
        delta: &ConferenceInfo,
    ) {
        let now = self.clock;
        let subs: Vec<u64> = self
            .subs
            .iter()
            .filter(|(_, s)| s.meeting == key)
            .map(|(id, _)| *id)
            .collect();
        for sub in subs {
            self.notify(sub, delta, None, now);
        }
    }

    /// A subscriber answered a NOTIFY: a refusal ends the subscription (RFC 6665 §4.1.3).
    pub(super) fn notify_answered(&mut self, tx: ClientTxId, code: u16, _now: Instant) {
        if code < 200 {
            return;
        }
        let Some(sub) = self.notify_tx.remove(&tx) else {
            return;
        };
        if code >= 300 {
            self.end_subscription(sub);
        }
    }

    fn end_subscription(&mut self, sub: u64) {
        let Some(s) = self.subs.remove(&sub) else {
            return;
        };
        self.sub_by_dialog.remove(&s.dialog.id);
        self.notify_tx.retain(|_, v| *v != sub);
        self.focus_idle(s.meeting);
    }

    /// Whether a meeting has subscribers.
    pub(super) fn has_subscribers(&self, key: i64) -> bool {
        self.subs.values().any(|s| s.meeting == key)
    }

    /// Drop a meeting's Focus when nobody is in it and nobody watches it.
    pub(super) fn focus_idle(&mut self, key: i64) {
        let empty = self.focuses.get(&key).is_some_and(Focus::is_empty);
        if empty && !self.has_subscribers(key) {
            self.focuses.remove(&key);
        }
    }
}
