//! Where every credential id is minted: `serial ‖ 8 random bytes`, the serial taken from
//! the site's counter in the same transaction that stores the credential.
//!
//! The serial is per site, not per issuer key, so it keeps counting across a key
//! rotation and no two credentials of a site share one: a lock trusting the old and the
//! new key at once never sees two credentials with the same 8-byte prefix. Consecutive
//! serials make a door's revoked prefixes close together, so a format-3 bundle spends
//! one or two bytes per revocation instead of twenty (docs/protocol.md §6.1). The random
//! half keeps the id unguessable (docs/security.md says what the serial reveals).

use rusqlite::{OptionalExtension, Transaction};

use crate::error::{Error, Result};
use crate::secrets::Secrets;

/// A new credential id for the site of `facility_id`: the site's next serial, then
/// 8 random bytes.
pub fn mint(tx: &Transaction<'_>, secrets: &Secrets, facility_id: i64) -> Result<[u8; 16]> {
    // Once per credential: a refresh bringing many keys mints many, so prepared once.
    let serial: i64 = tx
        .prepare_cached(
            "UPDATE sites SET credential_serial = credential_serial + 1
             WHERE id = (SELECT site_id FROM facilities WHERE id = ?1)
             RETURNING credential_serial",
        )?
        .query_row([facility_id], |r| r.get(0))
        .optional()?
        .ok_or(Error::NotFound("facility"))?;
    let serial = u64::try_from(serial).map_err(|_| Error::Internal("credential serial out of range".into()))?;
    let random: [u8; 8] = secrets
        .random_bytes(8)?
        .try_into()
        .map_err(|_| Error::Internal("random source gave the wrong length".into()))?;
    Ok(crate::signing::credential_id(serial, random))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orgs::{create_facility, create_org, create_site};

    #[test]
    fn a_sites_credential_ids_carry_consecutive_serials_and_random_tails() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut conn).unwrap();
        let tx = conn.transaction().unwrap();
        let secrets = Secrets::new(b"test").unwrap();
        let org = create_org(&tx, "Acme", 1).unwrap();
        let (site, _) = create_site(&tx, &secrets, org, "HQ", None, 1).unwrap();
        let facility = create_facility(&tx, site, "Lobby", 1).unwrap();
        let ids: Vec<[u8; 16]> = (0..3).map(|_| mint(&tx, &secrets, facility).unwrap()).collect();
        let serials: Vec<u64> = ids.iter().map(|id| u64::from_be_bytes(id[..8].try_into().unwrap())).collect();
        assert_eq!(serials, [1, 2, 3]);
        assert_ne!(ids[0][8..], ids[1][8..]);
        assert!(matches!(mint(&tx, &secrets, facility + 100), Err(Error::NotFound("facility"))));
    }
}
