//! What can go wrong inside the lock itself (storage, the random source, a corrupt state
//! file, a bad connection handle). Refusals of a phone's request are not errors here:
//! they are [`keyway_protocol::Refusal`]s, answered on the wire.

use thiserror::Error;

/// A failure of the lock's own machinery.
#[derive(Debug, Error)]
pub enum LockError {
    /// Reading or writing the state file failed. Nothing was changed by the failed write.
    #[error("storage failed: {0}")]
    Storage(#[from] std::io::Error),
    /// A storage fault injected by a test.
    #[error("injected storage fault: {0}")]
    InjectedFault(&'static str),
    /// The stored state is damaged (bad checksum, bad field). The lock refuses to start
    /// rather than start blank and forget its revocations.
    #[error("the stored lock state is corrupt: {0}")]
    Corrupt(&'static str),
    /// The stored state was written by a newer format.
    #[error("unsupported state format {0}")]
    UnsupportedFormat(u8),
    /// There is no stored state and no provisioning was given.
    #[error("the lock has not been provisioned")]
    NotProvisioned,
    /// A trust anchor is not a valid uncompressed P-256 public key.
    #[error("invalid trust anchor")]
    BadTrustAnchor,
    /// The operating system's random source failed.
    #[error("the random source failed")]
    Random,
    /// The connection handle does not name an open connection.
    #[error("no such connection")]
    UnknownConnection,
    /// The connection took too long to complete a handshake, or sat idle; it is closed.
    #[error("the connection timed out")]
    ConnectionTimedOut,
    /// An ATT MTU outside 23–517.
    #[error("ATT MTU {0} out of range")]
    BadMtu(u16),
    /// A frame could not be reassembled; the connection should be dropped.
    #[error(transparent)]
    Frame(#[from] keyway_protocol::framing::FrameError),
}
