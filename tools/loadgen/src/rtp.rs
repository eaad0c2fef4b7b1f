//! Just enough of an RTP header (RFC 3550 §5.1) to route, count and find the payload of what
//! the server sends; the payload of an SRTP packet is still encrypted.

use std::ops::Range;

/// The fixed header's fields the load generator reads, and where the payload is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Payload type.
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// Timestamp.
    pub timestamp: u32,
    /// SSRC.
    pub ssrc: u32,
    /// The payload's bytes in the datagram (after CSRCs and the extension, before padding).
    pub payload: Range<usize>,
}

/// The header of an RTP packet (version 2, not RTCP), or `None`.
pub fn parse(d: &[u8]) -> Option<Header> {
    let b0 = *d.first()?;
    let b1 = *d.get(1)?;
    if b0 >> 6 != 2 || (200..=204).contains(&b1) {
        return None;
    }
    let u16_at = |i: usize| Some(u16::from_be_bytes([*d.get(i)?, *d.get(i + 1)?]));
    let u32_at = |i: usize| {
        Some(u32::from_be_bytes([
            *d.get(i)?,
            *d.get(i + 1)?,
            *d.get(i + 2)?,
            *d.get(i + 3)?,
        ]))
    };
    let mut start = 12 + 4 * usize::from(b0 & 0x0f);
    if b0 & 0x10 != 0 {
        let words = usize::from(u16_at(start + 2)?);
        start += 4 + 4 * words;
    }
    let mut end = d.len();
    if b0 & 0x20 != 0 {
        end = end.checked_sub(usize::from(*d.last()?))?;
    }
    if start > end {
        return None;
    }
    Some(Header {
        payload_type: b1 & 0x7f,
        sequence: u16_at(2)?,
        timestamp: u32_at(4)?,
        ssrc: u32_at(8)?,
        payload: start..end,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_headers_with_csrcs_extension_and_padding() {
        let mut p = vec![0x80, 0x00, 0x12, 0x34, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef];
        p.extend_from_slice(&[0xff; 160]);
        let h = parse(&p).unwrap();
        assert_eq!((h.payload_type, h.sequence, h.timestamp), (0, 0x1234, 160));
        assert_eq!((h.ssrc, h.payload), (0xdead_beef, 12..172));
        // One CSRC, a one-word extension, 3 bytes of padding.
        let mut q = vec![0xb1, 0x80 | 8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
        q.extend_from_slice(&[0, 0, 0, 9]);
        q.extend_from_slice(&[0xbe, 0xde, 0, 1, 1, 2, 3, 4]);
        q.extend_from_slice(&[0xd5; 10]);
        q.extend_from_slice(&[0, 0, 3]);
        let h = parse(&q).unwrap();
        assert_eq!((h.payload_type, h.payload), (8, 24..34));
        // RTCP and garbage are not RTP.
        assert!(parse(&[0x80, 200, 0, 6]).is_none());
        assert!(parse(&[0x80, 0]).is_none());
        let mut bad_padding = p.clone();
        bad_padding[0] |= 0x20;
        *bad_padding.last_mut().unwrap() = 250;
        assert!(parse(&bad_padding).is_none());
    }
}
