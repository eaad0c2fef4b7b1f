//! Building messages: responses from the request they answer (RFC 3261 §8.2.6), and the ACK
//! for a non-2xx final response (§17.1.1.3).

use bytes::Bytes;

use crate::headers::SipHeaders;
use crate::message::{HeaderName, Headers, Method, Request, Response, reason_phrase};

/// A response to `request`: the Vias, From, To, Call-ID and CSeq copied, a To tag added when
/// the request had none (`to_tag`), no body.
pub fn response(request: &Request, code: u16, to_tag: Option<&str>) -> Response {
    let mut headers = Headers::new();
    for (name, value) in request.headers.iter() {
        let copy = [
            HeaderName::VIA,
            HeaderName::FROM,
            HeaderName::CALL_ID,
            HeaderName::CSEQ,
        ];
        if copy.contains(name) {
            headers.push(name.clone(), value);
        } else if *name == HeaderName::TO {
            headers.push(name.clone(), to_value(value, request, code, to_tag));
        } else if *name == HeaderName::RECORD_ROUTE && (101..300).contains(&code) {
            // Dialog-creating responses echo the Record-Route set (§12.1.1).
            headers.push(name.clone(), value);
        }
    }
    Response {
        code,
        reason: reason_phrase(code).to_owned(),
        headers,
        body: Bytes::new(),
    }
}

fn to_value(value: &str, request: &Request, code: u16, to_tag: Option<&str>) -> String {
    let has_tag = request.field_to().ok().is_some_and(|t| t.tag().is_some());
    match to_tag {
        Some(tag) if code > 100 && !has_tag => format!("{value};tag={tag}"),
        _ => value.to_owned(),
    }
}

/// The ACK for a non-2xx final response to `invite` (same branch, §17.1.1.3).
pub fn ack_for_failure(invite: &Request, response: &Response) -> Request {
    let mut headers = Headers::new();
    if let Some(via) = invite.headers.values(&HeaderName::VIA).next() {
        headers.push(HeaderName::VIA, via);
    }
    for name in [HeaderName::FROM, HeaderName::CALL_ID] {
        if let Some(v) = invite.headers.get(&name) {
            headers.push(name, v);
        }
    }
    if let Some(to) = response.headers.get(&HeaderName::TO) {
        headers.push(HeaderName::TO, to);
    }
    if let Ok(cseq) = invite.cseq() {
        headers.push(HeaderName::CSEQ, format!("{} ACK", cseq.number));
    }
    for route in invite.headers.values(&HeaderName::ROUTE) {
        headers.push(HeaderName::ROUTE, route);
    }
    headers.push(HeaderName::MAX_FORWARDS, "70");
    Request {
        method: Method::Ack,
        uri: invite.uri.clone(),
        headers,
        body: Bytes::new(),
    }
}
