//! Every name the core keeps a secret under in the [`SecureStore`](super::SecureStore),
//! in one place: a shell that inspects or migrates its store, and the tests that search
//! for leaked secrets, read them from here.

use keyway_protocol::ids::DoorId;

/// The session: access and refresh tokens, as one JSON entry.
pub const SESSION_SECRET: &str = "session";

/// The software device key (PKCS#8), when the shell uses
/// [`SoftwareSigner`](super::SoftwareSigner) rather than a hardware key.
pub const DEVICE_KEY_SECRET: &str = "device_key";

/// Today's doorcodes as the service last sent them (JSON), for showing them offline.
pub const DOORCODES_SECRET: &str = "doorcodes";

/// The secure-store name of a door's fast-unlock ticket.
pub fn ticket_secret_name(door: &DoorId) -> String {
    format!("ticket/{door}")
}
