//! The roster (conference event package, RFC 4575) end to end: a small SIP client subscribes to
//! a meeting's focus URI as its organizer (digest), answers every NOTIFY, and applies the
//! documents (full, then partial with growing versions) with plenum-c3p's roster model, while
//! SIPp callers from the demo gateway dial in: the guest appears on hold, is connected when the
//! organizer arrives (by PIN), is muted after `*6`, and is deleted after the BYE. Also: a SIP
//! client INVITEs the focus URI directly and is mixed without an attendant; a wrong event
//! package gets 489; another tenant's user cannot subscribe.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

mod common;

use std::time::Duration;

use common::Server;
use common::subscriber::{Subscriber, status_of};
use plenum_c3p::roster::{ElementState, EndpointStatus};

fn server() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    (dir, s)
}

/// Schedule a meeting for alice: (conference ID, PSTN ID).
fn schedule(s: &Server) -> (String, String) {
    let v = common::schedule_for_alice(
        s,
        "Roster test",
        &["--passcode", "135790", "--admission", "anonymous"],
    );
    (
        v["conference_id"].as_str().unwrap().to_owned(),
        v["pstn_conference_id"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn a_subscriber_sees_the_caller_on_hold_connected_muted_and_gone() {
    let (_d, s) = server();
    let (conference_id, pstn) = schedule(&s);
    let focus = format!("sip:alice@contoso.example;gruu;opaque=app:conf:focus:id:{conference_id}");
    let mut sub = Subscriber::new(
        s.sip_addr("udp"),
        "alice",
        &s.password("alice"),
        "contoso.example",
        &focus,
    );
    assert_eq!(sub.subscribe_authenticated("conference"), 200);
    let first = sub.notifies(Duration::from_millis(800));
    assert_eq!(first.len(), 1, "one NOTIFY with the full state first");
    assert_eq!(first[0].state, ElementState::Full);
    assert!(first[0].users.is_empty());
    let mut state = first[0].clone();

    let dir = tempfile::tempdir().unwrap();
    // The guest: English, ID, passcode, `#` ends the name recording; on hold until the
    // organizer arrives; `*6` some seconds later; hangs up after.
    let guest_keys = plenum_rtp_pcap::Script {
        steps: {
            let mut steps = plenum_rtp_pcap::Script::keyed(&format!("1{pstn}#135790##")).steps;
            steps.push(plenum_rtp_pcap::Step::Silence(15_000));
            steps.extend(plenum_rtp_pcap::Script::keyed("*6").steps);
            steps
        },
        ssrc: 0x1234_5678,
    };
    let guest = common::gateway_call(
        &s,
        dir.path(),
        "guest",
        &guest_keys,
        Duration::from_secs(24),
    );
    std::thread::sleep(Duration::from_secs(7));
    let organizer = common::gateway_call(
        &s,
        dir.path(),
        "organizer",
        &plenum_rtp_pcap::Script::keyed(&format!("1{pstn}#*1001#24680#")),
        Duration::from_secs(20),
    );
    let docs = sub.notifies(Duration::from_secs(24));
    common::sipp_done(guest, dir.path(), "guest");
    common::sipp_done(organizer, dir.path(), "organizer");
    let docs = [docs, sub.notifies(Duration::from_secs(2))].concat();
    let mut seen = Vec::new();
    for d in &docs {
        assert_eq!(d.state, ElementState::Partial, "deltas after the first");
        state.apply(d).expect("versions grow by one");
        // A user deleted by a delta leaves the applied state.
        let st = status_of(&state, "tel:+14255551234")
            .or_else(|| (!seen.is_empty()).then(|| "deleted".to_owned()));
        if let Some(st) = st
            && seen.last() != Some(&st)
        {
            seen.push(st);
        }
    }
    let want = [
        EndpointStatus::OnHold.as_str(),
        EndpointStatus::Connected.as_str(),
        EndpointStatus::MutedViaFocus.as_str(),
        "deleted",
    ];
    let mut it = seen.iter();
    for w in want {
        assert!(
            it.any(|s| s == w),
            "the guest went through {want:?} in order; seen {seen:?}"
        );
    }
    let organizer_seen = docs.iter().any(|d| {
        d.users
            .iter()
            .any(|u| u.entity == "sip:alice@contoso.example")
    });
    assert!(organizer_seen, "the organizer was on the roster");
}

#[test]
fn wrong_package_and_other_tenants_are_refused() {
    let (_d, s) = server();
    let (conference_id, _) = schedule(&s);
    let focus = format!("sip:alice@contoso.example;gruu;opaque=app:conf:focus:id:{conference_id}");
    let mut sub = Subscriber::new(
        s.sip_addr("udp"),
        "alice",
        &s.password("alice"),
        "contoso.example",
        &focus,
    );
    sub.subscribe("presence", None);
    assert_eq!(sub.response().0, 489);
    // carol (fabrikam) authenticates fine but the meeting is not hers to watch.
    let mut carol = Subscriber::new(
        s.sip_addr("udp"),
        "carol",
        &s.password("carol"),
        "fabrikam.example",
        &focus,
    );
    assert_eq!(carol.subscribe_authenticated("conference"), 404);
}
