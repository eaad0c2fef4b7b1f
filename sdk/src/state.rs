//! A small, dependency-free codec for an attendant's opaque state.
//!
//! The host keeps the bytes a step returns and hands them to the next step; their format is the
//! plugin's business. This codec is enough for most IVRs: unsigned varints, strings, flags.
//! Decoding never panics: truncated or foreign bytes give a [`StateError`], which a plugin
//! should answer by starting over (a new version of a plugin may meet an old version's state).

/// Writes state.
#[derive(Debug, Default, Clone)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// An empty encoder.
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// A byte.
    pub fn u8(&mut self, v: u8) -> &mut Encoder {
        self.buf.push(v);
        self
    }

    /// An unsigned integer as a LEB128 varint.
    pub fn uint(&mut self, mut v: u64) -> &mut Encoder {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.buf.push(byte);
                return self;
            }
            self.buf.push(byte | 0x80);
        }
    }

    /// A flag.
    pub fn bool(&mut self, v: bool) -> &mut Encoder {
        self.u8(u8::from(v))
    }

    /// A length-prefixed string.
    pub fn str(&mut self, v: &str) -> &mut Encoder {
        self.uint(v.len() as u64);
        self.buf.extend_from_slice(v.as_bytes());
        self
    }

    /// An optional string.
    pub fn opt_str(&mut self, v: Option<&str>) -> &mut Encoder {
        match v {
            Some(s) => self.bool(true).str(s),
            None => self.bool(false),
        }
    }

    /// The bytes.
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

/// Reads state written by an [`Encoder`].
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    data: &'a [u8],
}

/// The state bytes do not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateError;

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("attendant state does not decode")
    }
}

impl std::error::Error for StateError {}

impl<'a> Decoder<'a> {
    /// Read from `data`.
    pub fn new(data: &'a [u8]) -> Decoder<'a> {
        Decoder { data }
    }

    /// A byte.
    pub fn u8(&mut self) -> Result<u8, StateError> {
        let (&first, rest) = self.data.split_first().ok_or(StateError)?;
        self.data = rest;
        Ok(first)
    }

    /// A varint.
    pub fn uint(&mut self) -> Result<u64, StateError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(StateError)
    }

    /// A flag.
    pub fn bool(&mut self) -> Result<bool, StateError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(StateError),
        }
    }

    /// A string.
    pub fn str(&mut self) -> Result<String, StateError> {
        let len = usize::try_from(self.uint()?).map_err(|_| StateError)?;
        if len > self.data.len() {
            return Err(StateError);
        }
        let (s, rest) = self.data.split_at(len);
        self.data = rest;
        String::from_utf8(s.to_vec()).map_err(|_| StateError)
    }

    /// An optional string.
    pub fn opt_str(&mut self) -> Result<Option<String>, StateError> {
        if self.bool()? {
            self.str().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let bytes = Encoder::new()
            .u8(7)
            .uint(300)
            .uint(u64::MAX)
            .bool(true)
            .str("de-DE")
            .opt_str(None)
            .opt_str(Some("x"))
            .finish();
        let mut d = Decoder::new(&bytes);
        assert_eq!(d.u8(), Ok(7));
        assert_eq!(d.uint(), Ok(300));
        assert_eq!(d.uint(), Ok(u64::MAX));
        assert_eq!(d.bool(), Ok(true));
        assert_eq!(d.str().as_deref(), Ok("de-DE"));
        assert_eq!(d.opt_str(), Ok(None));
        assert_eq!(d.opt_str(), Ok(Some("x".into())));
        assert!(d.is_empty());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [&[][..], &[0xff; 11], &[5, b'a'], &[1, 0xff], &[9]] {
            let mut d = Decoder::new(bytes);
            let _ = d.str();
            let mut d = Decoder::new(bytes);
            let _ = d.uint();
            let mut d = Decoder::new(bytes);
            let _ = d.bool();
        }
        assert_eq!(Decoder::new(&[3, b'a']).str(), Err(StateError));
    }
}
