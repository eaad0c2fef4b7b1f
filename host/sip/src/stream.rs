//! Framing SIP on a byte stream (TCP, RFC 3261 §18.3): bytes in as they arrive, whole messages
//! out as `Content-Length` delimits them. CRLF keep-alives (RFC 5626 §4.4.1) are answered and
//! skipped. A stream that breaks the framing (no `Content-Length`, a message over the size
//! limit, garbage that never forms a header block) is an error: the connection must close.

use bytes::{Buf, Bytes, BytesMut};

use crate::message::{HeaderName, MAX_MESSAGE, find_head_end};

/// What the decoder found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// One whole message.
    Message(Bytes),
    /// A double-CRLF keep-alive ping: answer with a single CRLF (pong).
    Ping,
}

/// Why the stream must be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// A message without a readable `Content-Length`.
    #[error("message without a valid Content-Length on a stream")]
    ContentLength,
    /// More than [`MAX_MESSAGE`] bytes without a complete message.
    #[error("message too large")]
    TooLarge,
}

/// A stream decoder; one per connection.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    buf: BytesMut,
}

impl StreamDecoder {
    /// A decoder.
    pub fn new() -> StreamDecoder {
        StreamDecoder::default()
    }

    /// Add bytes read from the connection.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, if the buffer holds one.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, StreamError> {
        if self.buf.starts_with(b"\r\n\r\n") {
            self.buf.advance(4);
            return Ok(Some(Frame::Ping));
        }
        // Stray line ends between messages are allowed (§7.5).
        while self.buf.first().is_some_and(|b| *b == b'\r' || *b == b'\n') {
            if self.buf.starts_with(b"\r\n\r\n") {
                break;
            }
            if self.buf.len() < 4 && self.buf.iter().all(|b| *b == b'\r' || *b == b'\n') {
                return Ok(None);
            }
            self.buf.advance(1);
        }
        let Some(head) = find_head_end(&self.buf) else {
            return if self.buf.len() > MAX_MESSAGE {
                Err(StreamError::TooLarge)
            } else {
                Ok(None)
            };
        };
        let len = content_length(self.buf.get(..head.start).unwrap_or_default())
            .ok_or(StreamError::ContentLength)?;
        let total = head.end.checked_add(len).ok_or(StreamError::TooLarge)?;
        if total > MAX_MESSAGE {
            return Err(StreamError::TooLarge);
        }
        if self.buf.len() < total {
            return Ok(None);
        }
        Ok(Some(Frame::Message(self.buf.split_to(total).freeze())))
    }

    /// Bytes held that do not form a message yet.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

/// The `Content-Length` (or `l`) of a header block.
fn content_length(head: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(head).ok()?;
    text.split('\n').skip(1).find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (HeaderName::parse(name.trim()) == HeaderName::CONTENT_LENGTH)
            .then(|| value.trim().parse().ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nl: 5\r\n\r\nhello";

    #[test]
    fn frames_across_arbitrary_splits() {
        let mut stream = Vec::new();
        stream.extend_from_slice(b"\r\n\r\n");
        stream.extend_from_slice(MSG);
        stream.extend_from_slice(b"\r\n");
        stream.extend_from_slice(MSG);
        for split in 1..stream.len() {
            let mut d = StreamDecoder::new();
            let mut frames = Vec::new();
            for chunk in stream.chunks(split) {
                d.push(chunk);
                while let Some(f) = d.next_frame().unwrap() {
                    frames.push(f);
                }
            }
            assert_eq!(frames.len(), 3, "split {split}");
            assert_eq!(frames[0], Frame::Ping);
            assert_eq!(frames[1], Frame::Message(Bytes::from_static(MSG)));
            assert_eq!(frames[2], Frame::Message(Bytes::from_static(MSG)));
            assert_eq!(d.buffered(), 0);
        }
    }

    #[test]
    fn broken_framing_closes_the_stream() {
        let mut d = StreamDecoder::new();
        d.push(b"OPTIONS sip:a@b SIP/2.0\r\n\r\n");
        assert_eq!(d.next_frame(), Err(StreamError::ContentLength));
        let mut d = StreamDecoder::new();
        d.push(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999999\r\n\r\n");
        assert_eq!(d.next_frame(), Err(StreamError::TooLarge));
        let mut d = StreamDecoder::new();
        d.push(&vec![b'x'; MAX_MESSAGE + 1]);
        assert_eq!(d.next_frame(), Err(StreamError::TooLarge));
    }
}
