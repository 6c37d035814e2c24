//! Splitting messages into ATT-sized frames and putting them back together.
//!
//! Each frame is one ATT write or notification value (at most `MTU − 3` bytes):
//!
//! ```text
//! header u8 = FIRST(0x80) | LAST(0x40) | sequence (6 bits, 0 on the first frame, +1 mod 64)
//! [total length u24]  only on the first frame
//! chunk
//! ```
//!
//! The sequence catches a lost or repeated frame; the length catches truncation.

use thiserror::Error;

/// The smallest ATT MTU (BLE 4.0 default).
pub const MIN_ATT_MTU: u16 = 23;
/// The largest ATT MTU.
pub const MAX_ATT_MTU: u16 = 517;
/// The largest message either side accepts (a door-sync bundle of ~50,000 revocations).
pub const MAX_MESSAGE_LEN: usize = 1 << 20;

const FIRST: u8 = 0x80;

/// Whether `frame` starts a message (its header has the FIRST bit).
pub fn starts_message(frame: &[u8]) -> bool {
    frame.first().is_some_and(|header| header & FIRST != 0)
}
const LAST: u8 = 0x40;
const SEQ_MASK: u8 = 0x3f;
const LEN_BYTES: usize = 3;

/// Why a frame could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// A frame with no header.
    #[error("empty frame")]
    Empty,
    /// A continuation frame arrived with no message in progress.
    #[error("continuation frame without a first frame")]
    UnexpectedContinuation,
    /// A first frame arrived while a message was still in progress.
    #[error("new message started before the previous one finished")]
    Interrupted,
    /// A frame was lost, repeated or reordered.
    #[error("frame sequence gap: expected {expected}, got {got}")]
    SequenceGap {
        /// The sequence number expected.
        expected: u8,
        /// The sequence number received.
        got: u8,
    },
    /// The frames carried more or fewer bytes than the first frame announced.
    #[error("message length mismatch: announced {announced}, received {received}")]
    LengthMismatch {
        /// The length in the first frame.
        announced: usize,
        /// The bytes received.
        received: usize,
    },
    /// The announced length is zero or over [`MAX_MESSAGE_LEN`].
    #[error("message length {0} out of range")]
    BadLength(usize),
    /// The MTU is outside 23–517.
    #[error("ATT MTU {0} out of range")]
    BadMtu(u16),
}

/// Splits `message` into frames for an ATT MTU. Each frame fits one write or notification.
pub fn fragment(message: &[u8], att_mtu: u16) -> Result<Vec<Vec<u8>>, FrameError> {
    if !(MIN_ATT_MTU..=MAX_ATT_MTU).contains(&att_mtu) {
        return Err(FrameError::BadMtu(att_mtu));
    }
    if message.is_empty() || message.len() > MAX_MESSAGE_LEN {
        return Err(FrameError::BadLength(message.len()));
    }
    let payload = usize::from(att_mtu) - 3;
    let mut frames = Vec::with_capacity(message.len() / (payload - 1) + 1);
    let first_chunk = message.len().min(payload - 1 - LEN_BYTES);
    let (head, mut rest) = message.split_at(first_chunk);
    let len = (message.len() as u32).to_be_bytes();
    let mut first = Vec::with_capacity(1 + LEN_BYTES + head.len());
    first.push(FIRST | if rest.is_empty() { LAST } else { 0 });
    first.extend_from_slice(&len[1..]);
    first.extend_from_slice(head);
    frames.push(first);
    let mut seq: u8 = 0;
    while !rest.is_empty() {
        seq = (seq + 1) & SEQ_MASK;
        let take = rest.len().min(payload - 1);
        let (chunk, tail) = rest.split_at(take);
        rest = tail;
        let mut frame = Vec::with_capacity(1 + chunk.len());
        frame.push(seq | if rest.is_empty() { LAST } else { 0 });
        frame.extend_from_slice(chunk);
        frames.push(frame);
    }
    Ok(frames)
}

/// How many frames `len` bytes take at an ATT MTU (clamped to 23–517).
pub fn frame_count(len: usize, att_mtu: u16) -> usize {
    let payload = usize::from(att_mtu.clamp(MIN_ATT_MTU, MAX_ATT_MTU)) - 3;
    let first = payload - 1 - LEN_BYTES;
    if len <= first { 1 } else { 1 + (len - first).div_ceil(payload - 1) }
}

/// Reassembles frames into messages. One per direction per connection.
#[derive(Debug)]
pub struct Reassembler {
    in_progress: Option<InProgress>,
    max_len: usize,
}

impl Default for Reassembler {
    fn default() -> Self {
        Self { in_progress: None, max_len: MAX_MESSAGE_LEN }
    }
}

/// The largest handshake request (a credential naming 32 doors): what a lock should
/// accept before a handshake succeeds, so a stranger cannot make it buffer a megabyte.
pub const MAX_HANDSHAKE_LEN: usize = 1024;

#[derive(Debug)]
struct InProgress {
    announced: usize,
    next_seq: u8,
    bytes: Vec<u8>,
}

impl Reassembler {
    /// A reassembler with nothing in progress.
    pub fn new() -> Self {
        Self::default()
    }

    /// A reassembler that refuses messages longer than `max_len` (at most [`MAX_MESSAGE_LEN`]).
    pub fn with_max_len(max_len: usize) -> Self {
        Self { in_progress: None, max_len: max_len.min(MAX_MESSAGE_LEN) }
    }

    /// Changes the limit for the next message (e.g. raise it once a handshake succeeded).
    pub fn set_max_len(&mut self, max_len: usize) {
        self.max_len = max_len.min(MAX_MESSAGE_LEN);
    }

    /// Whether part of a message has arrived.
    pub fn is_idle(&self) -> bool {
        self.in_progress.is_none()
    }

    /// Feeds one frame. Returns the message once its last frame arrives. On error the
    /// message in progress is dropped, so the next first frame starts clean.
    pub fn push(&mut self, frame: &[u8]) -> Result<Option<Vec<u8>>, FrameError> {
        let result = self.push_inner(frame);
        if result.is_err() {
            self.in_progress = None;
        }
        result
    }

    fn push_inner(&mut self, frame: &[u8]) -> Result<Option<Vec<u8>>, FrameError> {
        let (&header, body) = frame.split_first().ok_or(FrameError::Empty)?;
        let seq = header & SEQ_MASK;
        let chunk = if header & FIRST != 0 {
            if self.in_progress.is_some() {
                return Err(FrameError::Interrupted);
            }
            if seq != 0 {
                return Err(FrameError::SequenceGap { expected: 0, got: seq });
            }
            if body.len() < LEN_BYTES {
                return Err(FrameError::BadLength(body.len()));
            }
            let announced = (usize::from(body[0]) << 16) | (usize::from(body[1]) << 8) | usize::from(body[2]);
            if announced == 0 || announced > self.max_len {
                return Err(FrameError::BadLength(announced));
            }
            self.in_progress =
                Some(InProgress { announced, next_seq: 1, bytes: Vec::with_capacity(announced.min(4096)) });
            &body[LEN_BYTES..]
        } else {
            let progress = self.in_progress.as_mut().ok_or(FrameError::UnexpectedContinuation)?;
            if seq != progress.next_seq {
                return Err(FrameError::SequenceGap { expected: progress.next_seq, got: seq });
            }
            progress.next_seq = (progress.next_seq + 1) & SEQ_MASK;
            body
        };
        let progress = self.in_progress.as_mut().ok_or(FrameError::UnexpectedContinuation)?;
        if progress.bytes.len() + chunk.len() > progress.announced {
            return Err(FrameError::LengthMismatch {
                announced: progress.announced,
                received: progress.bytes.len() + chunk.len(),
            });
        }
        progress.bytes.extend_from_slice(chunk);
        if header & LAST == 0 {
            return Ok(None);
        }
        let done = self.in_progress.take().ok_or(FrameError::UnexpectedContinuation)?;
        if done.bytes.len() != done.announced {
            return Err(FrameError::LengthMismatch { announced: done.announced, received: done.bytes.len() });
        }
        Ok(Some(done.bytes))
    }
}
