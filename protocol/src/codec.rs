//! Byte-level reading and writing shared by every wire format.
//!
//! All integers are big-endian. A [`Reader`] never panics: every short read,
//! trailing byte or bad value becomes a [`DecodeError`] naming what was being read.

use thiserror::Error;

/// Why a sequence of bytes is not a valid Keyway message.
///
/// Carries only the name of the field and sizes, never the bytes themselves,
/// so it is safe to log.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input ended while `field` was being read.
    #[error("message ends early while reading {field}")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// Bytes were left over after a complete message.
    #[error("{count} unexpected bytes after the end of the message")]
    TrailingBytes {
        /// How many bytes were left over.
        count: usize,
    },
    /// The message is of a format version this implementation does not speak.
    #[error("unsupported format version {found}")]
    UnsupportedVersion {
        /// The version byte found.
        found: u8,
    },
    /// The message-type byte is not the one expected here.
    #[error("unexpected message type 0x{found:02x}")]
    UnexpectedType {
        /// The type byte found.
        found: u8,
    },
    /// A field holds a value the format forbids.
    #[error("invalid {field}")]
    Invalid {
        /// The offending field.
        field: &'static str,
    },
}

/// A cursor over untrusted input.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// Bytes read so far are gone; this is what remains.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len()
    }

    /// Up to `n` of the next bytes, without consuming them.
    pub(crate) fn peek(&self, n: usize) -> &'a [u8] {
        &self.bytes[..n.min(self.bytes.len())]
    }

    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.bytes.len() < n {
            return Err(DecodeError::Truncated { field });
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::Invalid { field }),
        }
    }

    /// The rest of the input, consuming it.
    #[cfg_attr(not(feature = "lock"), allow(dead_code))]
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }

    /// Fails unless every byte has been consumed.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.bytes.is_empty() { Ok(()) } else { Err(DecodeError::TrailingBytes { count: self.bytes.len() }) }
    }
}

/// The wire form of a signed object (credential, bundle, receipt): its body's bytes
/// followed by the 64-byte `r ‖ s` signature.
pub(crate) fn with_signature(mut body: Vec<u8>, signature: &[u8; 64]) -> Vec<u8> {
    body.extend_from_slice(signature);
    body
}

/// Reads a signed object: the body with `read`, then the signature (named `field` in
/// errors), then nothing else.
pub(crate) fn read_signed<B>(
    bytes: &[u8],
    read: impl FnOnce(&mut Reader<'_>) -> Result<B, DecodeError>,
    field: &'static str,
) -> Result<(B, [u8; 64]), DecodeError> {
    let mut r = Reader::new(bytes);
    let body = read(&mut r)?;
    let signature = r.array(field)?;
    r.finish()?;
    Ok((body, signature))
}

/// An append-only output buffer with big-endian helpers.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self { bytes: Vec::with_capacity(n) }
    }
    pub(crate) fn put(&mut self, b: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(b);
        self
    }
    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.put(&[v])
    }
    pub(crate) fn u16(&mut self, v: u16) -> &mut Self {
        self.put(&v.to_be_bytes())
    }
    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.put(&v.to_be_bytes())
    }
    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.put(&v.to_be_bytes())
    }
    pub(crate) fn bool(&mut self, v: bool) -> &mut Self {
        self.u8(u8::from(v))
    }
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}
