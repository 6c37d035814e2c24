//! Daily doorcodes: the 8-digit codes a member types on a lock's keypad. The backend
//! computes today's codes (the door's secret never reaches the phone) and the core shows
//! each with its window. The last answer is kept in the platform's secure store (never in
//! SQLite), so codes already fetched for today still show offline until their window ends;
//! sign-out deletes them with every other secret.

use crate::error::{Error, Result};
use crate::keyway::Keyway;
use crate::platform::secret_names::DOORCODES_SECRET;
use crate::signin::clamp_time;
use crate::timestamp::Timestamp;
use keyway_api::DoorcodesResponse;
use keyway_api::endpoints::GetDoorcodes;
use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::ids::DoorId;

/// Today's doorcode for one door.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Doorcode {
    /// The door (what its lock advertises).
    pub door: DoorId,
    /// The door's name.
    pub door_name: String,
    /// The 8 digits to type on the keypad (show them; never log them).
    pub code: String,
    /// From when the code opens.
    pub valid_from: Timestamp,
    /// When it stops opening (the end of its UTC day, or of the key).
    pub valid_until: Timestamp,
    /// The door has changes its lock has not received: a code enabled since its last
    /// sync opens once a member's unlock (or a door sync) has carried them.
    pub sync_pending: bool,
}

impl std::fmt::Debug for Doorcode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Doorcode")
            .field("door", &self.door)
            .field("door_name", &self.door_name)
            .field("code", &"********")
            .field("valid_from", &self.valid_from)
            .field("valid_until", &self.valid_until)
            .field("sync_pending", &self.sync_pending)
            .finish()
    }
}

/// The codes of an answer that are valid at `now`; entries that do not parse are skipped.
fn valid_at(answer: &DoorcodesResponse, now: UnixSeconds) -> Vec<Doorcode> {
    let now = i64::from(now);
    answer
        .doorcodes
        .iter()
        .filter(|c| c.valid_from <= now && now < c.valid_until)
        .filter_map(|c| {
            let door = DoorId::from_hex(&c.lock_id)?;
            let digits_ok = c.code.len() == 8 && c.code.bytes().all(|b| b.is_ascii_digit());
            digits_ok.then(|| Doorcode {
                door,
                door_name: c.door_name.clone(),
                code: c.code.clone(),
                valid_from: Timestamp(clamp_time(c.valid_from)),
                valid_until: Timestamp(clamp_time(c.valid_until)),
                sync_pending: c.sync_pending,
            })
        })
        .collect()
}

impl Keyway {
    /// Today's doorcodes, one per door a doorcode-carrying key opens. Online, the backend's
    /// answer (and it is kept for offline use); offline or while the service fails, the
    /// codes fetched earlier whose window still holds. Empty when no key carries a doorcode.
    pub async fn doorcodes(&self) -> Result<Vec<Doorcode>> {
        match self.inner.auth.call(&GetDoorcodes {}).await {
            Ok(answer) => {
                let bytes = serde_json::to_vec(&answer).map_err(|e| Error::internal(format!("doorcodes: {e}")))?;
                self.inner.platform.secure_store.set(DOORCODES_SECRET, &bytes)?;
                Ok(valid_at(&answer, self.inner.platform.clock.now()))
            }
            Err(e @ (Error::Offline | Error::ServiceUnavailable)) => {
                let now = self.inner.platform.clock.now();
                let codes = self.stored_doorcodes()?.map(|stored| valid_at(&stored, now)).unwrap_or_default();
                if codes.is_empty() {
                    // Nothing fetched earlier is valid now: the person needs the network.
                    return Err(e);
                }
                Ok(codes)
            }
            Err(e) => self.note_result(Err(e)),
        }
    }

    /// Today's doorcode for `door`: [`Error::NoDoorcode`] when none of the person's keys
    /// carries a doorcode for it.
    pub async fn doorcode(&self, door: &DoorId) -> Result<Doorcode> {
        self.doorcodes().await?.into_iter().find(|c| c.door == *door).ok_or(Error::NoDoorcode)
    }

    /// The answer kept from the last fetch, if any (and readable).
    fn stored_doorcodes(&self) -> Result<Option<DoorcodesResponse>> {
        let Some(bytes) = self.inner.platform.secure_store.get(DOORCODES_SECRET)? else { return Ok(None) };
        Ok(serde_json::from_slice(&bytes).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyway_api::DoorcodeView;

    fn view(code: &str, from: i64, until: i64) -> DoorcodeView {
        DoorcodeView {
            door_id: 1,
            lock_id: "0011223344556677".into(),
            door_name: "Back gate".into(),
            code: code.into(),
            valid_from: from,
            valid_until: until,
            sync_pending: false,
        }
    }

    #[test]
    fn only_codes_whose_window_holds_now_are_shown() {
        let answer = DoorcodesResponse {
            doorcodes: vec![view("12345678", 100, 200), view("87654321", 200, 300)],
            server_time: 150,
        };
        let codes = valid_at(&answer, 150);
        assert_eq!(codes.len(), 1);
        assert_eq!(codes[0].code, "12345678");
        assert!(valid_at(&answer, 300).is_empty());
    }

    #[test]
    fn a_code_that_is_not_eight_digits_is_not_shown() {
        let answer =
            DoorcodesResponse { doorcodes: vec![view("1234", 0, 10), view("1234567x", 0, 10)], server_time: 1 };
        assert!(valid_at(&answer, 1).is_empty());
    }

    #[test]
    fn a_doorcode_never_shows_in_debug_output() {
        let codes = valid_at(&DoorcodesResponse { doorcodes: vec![view("24681357", 0, 10)], server_time: 1 }, 1);
        assert!(!format!("{codes:?}").contains("24681357"));
    }
}
