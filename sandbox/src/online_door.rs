//! Online doors in the test world: the lock of a door keeps its online link to the
//! world's backend (HTTPS, trusting the run's CA), so changes reach it with no phone
//! involved (docs/backend.md, "Online doors").

use crate::world::{DoorHandle, World};
use keyway_lock::online::{LinkState, OnlineError, OnlineLink, OnlineOptions, RadioLock};
use std::sync::Arc;
use std::time::Duration;

impl World {
    /// Starts the online link of `door`'s lock (on the world's radio) to the world's
    /// backend, and waits (at most 10 s) until its first poll is answered. The link runs
    /// until the returned handle is dropped. Call it from inside the world's tokio runtime.
    pub async fn connect_online(&self, door: &DoorHandle) -> Result<OnlineLink, OnlineError> {
        let mut options = OnlineOptions::new(&self.base_url);
        options.extra_roots_pem = Some(self.ca_pem().as_bytes().to_vec());
        options.first_backoff = Duration::from_millis(100);
        options.max_backoff = Duration::from_secs(2);
        let lock = RadioLock { radio: self.radio.as_ref().clone(), peripheral: door.peripheral };
        let link = OnlineLink::start(Arc::new(lock), options)?;
        match link.wait_for(Duration::from_secs(10), |s| s.state == LinkState::Connected).await {
            Some(_) => Ok(link),
            None => Err(OnlineError::Unreachable(format!("{:?}", link.status().state))),
        }
    }
}
