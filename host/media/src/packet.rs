//! RTP and RTCP wire checks that run before any library parser sees a datagram.
//!
//! Owns: telling RTP from RTCP (RFC 5761 §4: the second octet 192..=223 is RTCP), the bounds
//! checks of the RTP header (CSRCs, the extension block and, inside it, every RFC 8285 element),
//! padding removal, and splitting an RTCP compound packet into its parts.
//!
//! Why the header is walked here before `rtp::header::Header::unmarshal` sees it: that parser
//! (rtp 0.17.2) reads RFC 8285 extension elements with `Buf::copy_to_bytes`/`get_u8`, which
//! panic when an element's length runs past the end of the datagram. A datagram is only handed
//! to it after this walk proved every read it will make is in bounds.
//!
//! Does not own: decryption ([`crate::srtp`]), sequence and stream state ([`crate::leg`]).

use bytes::Bytes;
use rtp::header::{EXTENSION_PROFILE_ONE_BYTE, EXTENSION_PROFILE_TWO_BYTE, Extension, Header};
use webrtc_util::marshal::{MarshalSize, Unmarshal};

/// Largest datagram the leg looks at; anything longer is not G.711 voice and is dropped.
pub(crate) const MAX_DATAGRAM: usize = 1500;

/// Which protocol a datagram carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Rtp,
    Rtcp,
}

/// Classifies a datagram: version 2 and at least the fixed header of its kind.
pub(crate) fn classify(buf: &[u8]) -> Option<Kind> {
    let (&b0, &b1) = (buf.first()?, buf.get(1)?);
    if b0 >> 6 != 2 || buf.len() > MAX_DATAGRAM {
        return None;
    }
    if (192..=223).contains(&b1) {
        (buf.len() >= 8).then_some(Kind::Rtcp)
    } else {
        (buf.len() >= 12).then_some(Kind::Rtp)
    }
}

/// A parsed RTP header with the length it has on the wire.
#[derive(Debug)]
pub(crate) struct RtpHeader {
    pub header: Header,
    pub len: usize,
}

/// Parses the RTP header of `buf` after proving it is in bounds. `None` means garbage.
pub(crate) fn parse_rtp(buf: &[u8]) -> Option<RtpHeader> {
    let len = wire_header_len(buf)?;
    let mut reader = buf;
    let mut header = Header::unmarshal(&mut reader).ok()?;
    if header.extension && header.marshal_size() != len {
        // The library's idea of the header size must match the wire (checked below); when it
        // does not (reserved element id 15, odd padding), describe the extension block as one
        // opaque RFC 3550 extension of the exact wire length.
        let body = buf.get(12 + 4 * header.csrc.len() + 4..len)?;
        header.extension_profile = 0;
        header.extensions = vec![Extension {
            id: 0,
            payload: Bytes::copy_from_slice(body),
        }];
        header.extensions_padding = 0;
    }
    (header.marshal_size() == len).then_some(RtpHeader { header, len })
}

/// The payload of an RTP packet: after the header, without padding (RFC 3550 §5.1: the last
/// octet counts the padding octets, itself included, so it is at least 1).
pub(crate) fn rtp_payload(packet: &[u8], header_len: usize, padding: bool) -> Option<&[u8]> {
    let body = packet.get(header_len..)?;
    if !padding {
        return Some(body);
    }
    let pad = usize::from(*body.last()?);
    if pad == 0 || pad > body.len() {
        return None;
    }
    body.get(..body.len() - pad)
}

/// Header length on the wire, with every read the `rtp` parser will make checked.
fn wire_header_len(buf: &[u8]) -> Option<usize> {
    let b0 = *buf.first()?;
    if b0 >> 6 != 2 {
        return None;
    }
    let fixed = 12 + 4 * usize::from(b0 & 0x0F);
    if buf.len() < fixed {
        return None;
    }
    if b0 & 0x10 == 0 {
        return Some(fixed);
    }
    let ext = buf.get(fixed..fixed + 4)?;
    let profile = u16::from_be_bytes([*ext.first()?, *ext.get(1)?]);
    let words = usize::from(u16::from_be_bytes([*ext.get(2)?, *ext.get(3)?]));
    let start = fixed + 4;
    let end = start + 4 * words;
    let block = buf.get(start..end)?;
    let ok = match profile {
        EXTENSION_PROFILE_ONE_BYTE => one_byte_elements_fit(block),
        EXTENSION_PROFILE_TWO_BYTE => two_byte_elements_fit(block),
        _ => true,
    };
    ok.then_some(end)
}

/// RFC 8285 §4.2 elements: `ID(4) L(4)` then L+1 octets; 0 is padding; ID 15 stops parsing.
fn one_byte_elements_fit(block: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&b) = block.get(i) {
        i += 1;
        if b == 0 {
            continue;
        }
        if b >> 4 == 0x0F {
            return true;
        }
        i += usize::from(b & 0x0F) + 1;
        if i > block.len() {
            return false;
        }
    }
    true
}

/// RFC 8285 §4.3 elements: `ID(8) L(8)` then L octets; 0 is padding.
fn two_byte_elements_fit(block: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&b) = block.get(i) {
        i += 1;
        if b == 0 {
            continue;
        }
        let Some(&len) = block.get(i) else {
            return false;
        };
        i += 1 + usize::from(len);
        if i > block.len() {
            return false;
        }
    }
    true
}

/// One part of an RTCP compound packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RtcpPart<'a> {
    /// The packet type octet (200 SR, 201 RR, 202 SDES, 203 BYE, 204 APP, ...).
    pub packet_type: u8,
    /// The whole part, header included.
    pub bytes: &'a [u8],
}

/// Splits a compound RTCP packet; `None` if any part is malformed (RFC 3550 §6.1: version 2,
/// lengths that tile the datagram exactly).
pub(crate) fn split_rtcp(buf: &[u8]) -> Option<Vec<RtcpPart<'_>>> {
    let mut parts = Vec::with_capacity(4);
    let mut rest = buf;
    while !rest.is_empty() {
        let b0 = *rest.first()?;
        if b0 >> 6 != 2 {
            return None;
        }
        let packet_type = *rest.get(1)?;
        let words = usize::from(u16::from_be_bytes([*rest.get(2)?, *rest.get(3)?]));
        let len = 4 * (words + 1);
        let bytes = rest.get(..len)?;
        parts.push(RtcpPart { packet_type, bytes });
        rest = rest.get(len..)?;
    }
    (!parts.is_empty()).then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rtp(b0: u8, extra: &[u8]) -> Vec<u8> {
        let mut v = vec![b0, 0, 0, 1, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef];
        v.extend_from_slice(extra);
        v
    }

    #[test]
    fn classifies_by_rfc5761_range() {
        assert_eq!(classify(&rtp(0x80, &[])), Some(Kind::Rtp));
        let mut marker_pt0 = rtp(0x80, &[]);
        marker_pt0[1] = 0x80;
        assert_eq!(classify(&marker_pt0), Some(Kind::Rtp));
        assert_eq!(classify(&[0x80, 200, 0, 1, 0, 0, 0, 1]), Some(Kind::Rtcp));
        assert_eq!(classify(&[0x80, 223, 0, 1, 0, 0, 0, 1]), Some(Kind::Rtcp));
        assert_eq!(
            classify(&[0x80, 224, 0, 1, 0, 0, 0, 1]),
            None,
            "too short for RTP"
        );
        assert_eq!(classify(&[0x00, 0x01, 0, 0]), None, "STUN is not version 2");
        assert_eq!(classify(&[]), None);
        assert_eq!(classify(&vec![0x80; MAX_DATAGRAM + 1]), None);
    }

    #[test]
    fn header_lengths() {
        assert_eq!(parse_rtp(&rtp(0x80, &[])).map(|h| h.len), Some(12));
        assert!(parse_rtp(&rtp(0x81, &[])).is_none(), "CSRC missing");
        assert_eq!(
            parse_rtp(&rtp(0x81, &[0, 0, 0, 7])).map(|h| h.len),
            Some(16)
        );
        // One-byte extension: one element id 1 len 2 (3 octets) + padding to a word.
        let ext = [0xBE, 0xDE, 0, 1, 0x12, 1, 2, 3];
        assert_eq!(parse_rtp(&rtp(0x90, &ext)).map(|h| h.len), Some(20));
    }

    #[test]
    fn extension_elements_running_past_the_end_are_garbage() {
        // One-byte element claiming 16 octets inside a one-word block at the datagram's end.
        assert!(parse_rtp(&rtp(0x90, &[0xBE, 0xDE, 0, 1, 0x1F, 0, 0, 0])).is_none());
        // Two-byte element whose length octet is the block's last octet.
        assert!(parse_rtp(&rtp(0x90, &[0x10, 0x00, 0, 1, 0, 0, 0, 5])).is_none());
        // Block longer than the datagram.
        assert!(parse_rtp(&rtp(0x90, &[0xBE, 0xDE, 0, 9, 0, 0, 0, 0])).is_none());
    }

    #[test]
    fn reserved_id_keeps_the_wire_length() {
        // ID 15 stops the library's parse after one element; the header must still be 24 long.
        let ext = [0xBE, 0xDE, 0, 2, 0x10, 9, 0xF0, 1, 2, 3, 4, 5];
        let h = parse_rtp(&rtp(0x90, &ext)).expect("valid");
        assert_eq!(h.len, 24);
        assert_eq!(h.header.marshal_size(), 24);
    }

    #[test]
    fn padding() {
        assert_eq!(rtp_payload(&[0; 16], 12, false), Some(&[0u8; 4][..]));
        assert_eq!(
            rtp_payload(&[0, 0, 0, 0, 9, 9, 0, 2], 4, true),
            Some(&[9u8, 9][..])
        );
        assert_eq!(rtp_payload(&[0, 0, 0, 0, 9, 9, 0, 0], 4, true), None);
        assert_eq!(rtp_payload(&[0, 0, 0, 0, 9, 9, 0, 5], 4, true), None);
        assert_eq!(rtp_payload(&[0, 0, 0, 0], 4, true), None);
    }

    #[test]
    fn compound_rtcp() {
        let rr = [0x80, 201, 0, 1, 0, 0, 0, 1];
        let bye = [0x81, 203, 0, 1, 0, 0, 0, 1];
        let both: Vec<u8> = rr.iter().chain(bye.iter()).copied().collect();
        let parts = split_rtcp(&both).expect("valid");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].packet_type, 203);
        assert!(split_rtcp(&both[..12]).is_none());
        assert!(split_rtcp(&[]).is_none());
    }
}
