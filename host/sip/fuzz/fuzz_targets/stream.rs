//! TCP framing: arbitrary bytes in arbitrary chunks; never a panic, never more buffered than the
//! message limit allows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plenum_sip::stream::StreamDecoder;

fuzz_target!(|data: &[u8]| {
    let split = data.first().copied().unwrap_or(1).max(1) as usize;
    let mut d = StreamDecoder::new();
    for chunk in data.chunks(split) {
        d.push(chunk);
        loop {
            match d.next_frame() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
        assert!(d.buffered() <= plenum_sip::message::MAX_MESSAGE + split);
    }
});
