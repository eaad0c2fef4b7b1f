//! Dialog rules on the simulated network: re-INVITE glare (491) and a BYE that arrives while a
//! re-INVITE is unanswered (RFC 5407).

use std::time::Duration;

use plenum_sip::compose;
use plenum_sip::dialog::{Dialog, DialogError};
use plenum_sip::endpoint::{Event, ServerTxId, Transport};
use plenum_sip::headers::SipHeaders;
use plenum_sip::message::{HeaderName, Method};

use crate::net::World;
use crate::{A, B, request, responses};

/// Set up a confirmed dialog between A (UAC) and B (UAS); returns (A's dialog, B's dialog).
fn established(w: &mut World) -> (Dialog, Dialog) {
    let mut invite = request(w, Method::Invite, "dlg", 1);
    invite.headers.push(
        HeaderName::CONTACT,
        format!("<sip:caller@{}>", w.nodes[A].addr),
    );
    let (flow, now) = (w.flow(A, B), w.now);
    w.nodes[A].ep.send_request(invite, flow, now);
    let mut b_dialog = None;
    let mut a_dialog = None;
    w.run(Duration::from_secs(2), |w| {
        for (at, e) in w.take_events(B) {
            match &e {
                Event::Request { tx, request, flow } if request.method == Method::Invite => {
                    let mut ok = compose::response(request, 200, Some("uas-tag"));
                    ok.headers.push(
                        HeaderName::CONTACT,
                        format!("<sip:plenum@{}>", w.nodes[B].addr),
                    );
                    b_dialog = Some(
                        Dialog::uas(
                            request,
                            "uas-tag",
                            &format!("sip:plenum@{}", w.nodes[B].addr),
                            *flow,
                        )
                        .unwrap(),
                    );
                    let now = w.now;
                    w.nodes[B].ep.respond(*tx, ok, now);
                }
                _ => {}
            }
            w.nodes[B].seen.push((at, e));
        }
        for (at, e) in w.take_events(A) {
            if let Event::Response { response, .. } = &e
                && response.code == 200
                && a_dialog.is_none()
            {
                let sent = request(w, Method::Invite, "dlg", 1);
                let mut sent = sent;
                sent.headers.push(
                    HeaderName::CONTACT,
                    format!("<sip:caller@{}>", w.nodes[A].addr),
                );
                let d = Dialog::uac(&sent, response, w.flow(A, B)).unwrap();
                let ack = d.ack(1);
                let (flow, now) = (w.flow(A, B), w.now);
                w.nodes[A].ep.send_request(ack, flow, now);
                a_dialog = Some(d);
            }
            w.nodes[A].seen.push((at, e));
        }
    });
    (a_dialog.expect("A's dialog"), b_dialog.expect("B's dialog"))
}

/// Handle in-dialog requests on node `n` with its dialog: refuse what the dialog refuses,
/// hold re-INVITEs (to answer later), answer everything else 200.
fn in_dialog(
    w: &mut World,
    n: usize,
    d: &mut Dialog,
    held: &mut Vec<(ServerTxId, plenum_sip::Request)>,
) {
    for (at, e) in w.take_events(n) {
        if let Event::Request { tx, request, .. } = &e
            && d.matches(request)
        {
            let now = w.now;
            match d.on_request(request) {
                Err(err) => {
                    let r = compose::response(request, err.status(), None);
                    w.nodes[n].ep.respond(*tx, r, now);
                }
                Ok(()) if request.method == Method::Invite => held.push((*tx, request.clone())),
                Ok(()) => {
                    let r = compose::response(request, 200, None);
                    w.nodes[n].ep.respond(*tx, r, now);
                    if d.take_interrupted_reinvite().is_some() {
                        for (tx, req) in held.drain(..) {
                            let r = compose::response(&req, 487, None);
                            w.nodes[n].ep.respond(tx, r, now);
                        }
                    }
                }
            }
        }
        w.nodes[n].seen.push((at, e));
    }
}

#[test]
fn reinvite_glare_gets_491_on_both_sides() {
    let mut w = World::new(Transport::Udp, 21);
    let (mut da, mut db) = established(&mut w);
    let (ra, rb) = (
        da.request(Method::Invite, None),
        db.request(Method::Invite, None),
    );
    let now = w.now;
    let (fab, fba) = (w.flow(A, B), w.flow(B, A));
    w.nodes[A].ep.send_request(ra, fab, now);
    w.nodes[B].ep.send_request(rb, fba, now);
    let (mut ha, mut hb) = (Vec::new(), Vec::new());
    w.run(Duration::from_secs(10), |w| {
        in_dialog(w, A, &mut da, &mut ha);
        in_dialog(w, B, &mut db, &mut hb);
    });
    assert!(responses(&w, A).contains(&491), "{:?}", responses(&w, A));
    assert!(responses(&w, B).contains(&491), "{:?}", responses(&w, B));
    assert_eq!(DialogError::Glare.status(), 491);
}

#[test]
fn bye_during_a_reinvite_ends_it_with_487() {
    let mut w = World::new(Transport::Udp, 22);
    let (mut da, mut db) = established(&mut w);
    let reinvite = da.request(Method::Invite, None);
    let (flow, now) = (w.flow(A, B), w.now);
    w.nodes[A].ep.send_request(reinvite, flow, now);
    let (mut ha, mut hb) = (Vec::new(), Vec::new());
    // B sits on the re-INVITE; A gives up and hangs up.
    w.run(Duration::from_secs(3), |w| {
        in_dialog(w, B, &mut db, &mut hb)
    });
    assert_eq!(hb.len(), 1, "B holds the re-INVITE");
    let bye = da.request(Method::Bye, None);
    let now = w.now;
    w.nodes[A].ep.send_request(bye, flow, now);
    w.run(Duration::from_secs(10), |w| {
        in_dialog(w, A, &mut da, &mut ha);
        in_dialog(w, B, &mut db, &mut hb);
    });
    let codes: Vec<(u16, Method)> = w.nodes[A]
        .all_events()
        .filter_map(|(_, e)| match e {
            Event::Response { response, .. } => {
                Some((response.code, response.cseq().unwrap().method))
            }
            _ => None,
        })
        .collect();
    assert!(codes.contains(&(200, Method::Bye)), "{codes:?}");
    assert!(codes.contains(&(487, Method::Invite)), "{codes:?}");
    // The dialog is over: a late request gets 481.
    let late = da.request(Method::Info, None);
    assert!(db.matches(&late));
    assert_eq!(db.on_request(&late), Err(DialogError::Terminated));
    assert_eq!(DialogError::Terminated.status(), 481);
}
