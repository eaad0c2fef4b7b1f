//! RFC 4733 telephone-event packets into the reader, and the same bytes as SIP INFO bodies.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use plenum_media::dtmf::{
    DigitDeduplicator, DigitSource, EventPacket, TelephoneEvent, TelephoneEventReader, parse_dtmf,
    parse_dtmf_relay, parse_info_body,
};

const KEYS: &str = "0123456789*#ABCD";

fuzz_target!(|data: &[u8]| {
    // The whole input as INFO bodies.
    for result in [
        parse_dtmf_relay(data).map(|d| d.digit),
        parse_dtmf(data),
        parse_info_body("application/dtmf-relay", data).map(|d| d.digit),
        parse_info_body("Application/DTMF", data).map(|d| d.digit),
    ] {
        if let Ok(digit) = result {
            assert!(KEYS.contains(digit));
        }
    }
    if let Ok(content_type) = std::str::from_utf8(data) {
        let _ = parse_info_body(content_type, b"Signal=5\r\n");
    }

    // 9-byte records: ssrc selector, timestamp (4), marker + delay, payload (... 4 bytes from
    // the record and what follows).
    let t0 = Instant::now();
    let mut now = t0;
    let mut reader = TelephoneEventReader::new();
    let mut dedup = DigitDeduplicator::default();
    let mut packets = 0u64;
    let mut digits = 0u64;
    for record in data.chunks_exact(9) {
        let ssrc = u32::from(record[0] & 3);
        let ts = u32::from_be_bytes([record[1], record[2], record[3], record[4]]);
        let marker = record[5] & 0x80 != 0;
        now += Duration::from_millis(u64::from(record[5] & 0x7F) * 10);
        let payload = &record[5..9];
        let kind = reader.handle_packet(ssrc, ts, marker, payload, now);
        packets += 1;
        if let Some(ev) = TelephoneEvent::parse(payload) {
            assert_eq!(TelephoneEvent::parse(&ev.to_bytes()), Some(ev));
            if kind == EventPacket::End {
                assert!(ev.end);
            }
        }
        if let Some(t) = reader.poll_timeout().filter(|_| record[0] & 0x80 != 0) {
            now = now.max(t);
            reader.handle_timeout(now);
            assert!(reader.poll_timeout().is_none_or(|t| t > now));
        }
        while let Some(d) = reader.poll_event() {
            digits += 1;
            assert!(KEYS.contains(d.digit));
            assert!(d.started <= now);
            let source = if record[0] & 4 == 0 {
                DigitSource::Rtp
            } else {
                DigitSource::Info
            };
            dedup.offer(source, d.digit, d.started);
        }
    }
    assert!(digits <= packets);
    assert_eq!(reader.detected(), digits + reader.dropped());
});
