//! The RFC 4575 reader on arbitrary bytes: never panics; what parses writes back to the same
//! value; diffing against an empty roster and merging gives the document's users back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plenum_c3p::roster::{self, ConferenceInfo, ElementState};

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = ConferenceInfo::parse(data) else {
        return;
    };
    let xml = doc.to_xml();
    let back = ConferenceInfo::parse(xml.as_bytes()).expect("our own output parses");
    assert_eq!(back, doc, "roster round trip");
    let empty = ConferenceInfo::new(doc.entity.clone(), 0);
    let delta = roster::diff(&empty, &doc, 1);
    assert_eq!(delta.state, ElementState::Partial);
    let mut subscriber = empty.clone();
    let _ = subscriber.apply(&delta);
    let _ = ConferenceInfo::parse(delta.to_xml().as_bytes()).expect("delta parses");
});
