//! Whole messages over the radio: fragments a message into ATT-sized frames and
//! reassembles notifications into the lock's reply.

use crate::crash::crash_point;
use crate::platform::{BleError, BleTransport, PeripheralId};
use keyway_protocol::framing::{FrameError, Reassembler, fragment};
use std::time::Duration;
use tokio::time::Instant;

/// A connected lock: the transport, the peripheral and its MTU.
pub(crate) struct Link<'a> {
    pub transport: &'a dyn BleTransport,
    pub peripheral: &'a PeripheralId,
    pub mtu: u16,
}

/// Why a message could not be exchanged.
#[derive(Debug)]
pub(crate) enum LinkError {
    Transport(BleError),
    Frame(FrameError),
}

impl From<BleError> for LinkError {
    fn from(e: BleError) -> Self {
        Self::Transport(e)
    }
}

impl From<FrameError> for LinkError {
    fn from(e: FrameError) -> Self {
        Self::Frame(e)
    }
}

impl Link<'_> {
    /// Sends a message, every frame as a write without response: the frames pipeline in
    /// as few connection events as the phone allows (the shell's transport applies the
    /// platform's flow control), and the lock's reply is the confirmation — a write
    /// response would cost a connection event and prove less.
    /// `on_sent(sent, total)` hears, after each frame, the bytes written so far of all
    /// the frames' bytes (what goes over the air, frame headers included).
    async fn send(&self, message: &[u8], on_sent: &(dyn Fn(usize, usize) + Send + Sync)) -> Result<(), LinkError> {
        let frames = fragment(message, self.mtu)?;
        let total = frames.iter().map(Vec::len).sum();
        let mut sent = 0;
        for frame in &frames {
            self.transport.write(self.peripheral, frame, false).await?;
            crash_point!("ble.after_frame_written");
            sent += frame.len();
            on_sent(sent, total);
        }
        Ok(())
    }

    /// Receives one whole message, within `timeout` overall.
    pub(crate) async fn receive(&self, timeout: Duration) -> Result<Vec<u8>, LinkError> {
        let deadline = Instant::now() + timeout;
        let mut reassembler = Reassembler::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(BleError::Timeout.into());
            }
            let frame = self.transport.next_notification(self.peripheral, left).await?;
            if let Some(message) = reassembler.push(&frame)? {
                crash_point!("ble.after_message_received");
                return Ok(message);
            }
        }
    }

    /// Sends a message and waits for the reply.
    pub(crate) async fn exchange(&self, message: &[u8], timeout: Duration) -> Result<Vec<u8>, LinkError> {
        self.exchange_reporting(message, timeout, &|_, _| {}).await
    }

    /// As [`Link::exchange`], telling `on_sent` how much of the message has gone.
    pub(crate) async fn exchange_reporting(
        &self,
        message: &[u8],
        timeout: Duration,
        on_sent: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<Vec<u8>, LinkError> {
        let deadline = Instant::now() + timeout;
        tokio::time::timeout_at(deadline, self.send(message, on_sent))
            .await
            .map_err(|_| LinkError::Transport(BleError::Timeout))??;
        self.receive(deadline.saturating_duration_since(Instant::now())).await
    }
}
