//! The C3P readers on arbitrary bytes: never panic, and whatever parses writes back to a
//! document that reads to the same value (the writer is exact).
#![no_main]

use libfuzzer_sys::fuzz_target;
use plenum_c3p::{Request, RequestError, Response};

fuzz_target!(|data: &[u8]| {
    match Request::parse(data) {
        Ok(request) => {
            let xml = request.to_xml();
            let back = Request::parse(xml.as_bytes()).expect("our own output parses");
            assert_eq!(back, request, "request round trip");
            assert_eq!(back.to_xml(), xml, "writer is deterministic");
        }
        // Every error has an answer, and a C3P failure answer is writable.
        Err(e) => {
            if let plenum_c3p::Answer::C3p(response) = e.answer() {
                let xml = response.to_xml();
                assert_eq!(Response::parse(xml.as_bytes()).as_ref(), Ok(&*response));
            }
            let _ = matches!(e, RequestError::Malformed(_));
        }
    }
    if let Ok(response) = Response::parse(data) {
        let xml = response.to_xml();
        let back = Response::parse(xml.as_bytes()).expect("our own output parses");
        assert_eq!(back, response, "response round trip");
    }
});
