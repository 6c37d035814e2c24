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

/// Mints one credential id for a credential of facility `facility_id`'s site.
pub fn mint(tx: &Transaction<'_>, secrets: &Secrets, facility_id: i64) -> Result<[u8; 16]> {
    mint_many(tx, secrets, facility_id, 1)?.pop().ok_or_else(|| Error::Internal("no credential id minted".into()))
}

/// Mints `n` credential ids for credentials of facility `facility_id`'s site, with
/// consecutive serials: one counter update and one draw of random bytes for all of them
/// (a refresh bringing thousands of keys mints them together).
pub fn mint_many(tx: &Transaction<'_>, secrets: &Secrets, facility_id: i64, n: usize) -> Result<Vec<[u8; 16]>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let count = i64::try_from(n).map_err(|_| Error::Internal("too many credential ids at once".into()))?;
    let last: i64 = tx
        .prepare_cached(
            "UPDATE sites SET credential_serial = credential_serial + ?2
             WHERE id = (SELECT site_id FROM facilities WHERE id = ?1)
             RETURNING credential_serial",
        )?
        .query_row([facility_id, count], |r| r.get(0))
        .optional()?
        .ok_or(Error::NotFound("facility"))?;
    let first =
        u64::try_from(last - count + 1).map_err(|_| Error::Internal("credential serial out of range".into()))?;
    let random = secrets.random_bytes(8 * n)?;
    Ok(random
        .chunks_exact(8)
        .zip(first..)
        .map(|(tail, serial)| {
            let mut tail8 = [0u8; 8];
            tail8.copy_from_slice(tail);
            crate::signing::credential_id(serial, tail8)
        })
        .collect())
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

    #[test]
    fn a_refresh_minting_many_ids_at_once_gets_the_next_serials_in_order_and_distinct_tails() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut conn).unwrap();
        let tx = conn.transaction().unwrap();
        let secrets = Secrets::new(b"test").unwrap();
        let org = create_org(&tx, "Acme", 1).unwrap();
        let (site, _) = create_site(&tx, &secrets, org, "HQ", None, 1).unwrap();
        let facility = create_facility(&tx, site, "Lobby", 1).unwrap();
        let serial = |id: &[u8; 16]| u64::from_be_bytes(id[..8].try_into().unwrap());
        assert_eq!(serial(&mint(&tx, &secrets, facility).unwrap()), 1);
        let batch = mint_many(&tx, &secrets, facility, 5).unwrap();
        assert_eq!(batch.iter().map(serial).collect::<Vec<_>>(), [2, 3, 4, 5, 6]);
        let tails: std::collections::HashSet<&[u8]> = batch.iter().map(|id| &id[8..]).collect();
        assert_eq!(tails.len(), 5, "every id has its own random tail");
        assert!(mint_many(&tx, &secrets, facility, 0).unwrap().is_empty());
        assert_eq!(serial(&mint(&tx, &secrets, facility).unwrap()), 7, "the counter moved past the whole batch");
    }
}
