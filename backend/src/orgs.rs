//! Organisations (accounts), sites (each with its own issuer key and credential life)
//! and facilities.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::{Error, Result};
use crate::secrets::Secrets;
use crate::signing;

/// Default credential life for a site: 72 hours.
pub const DEFAULT_CREDENTIAL_TTL_SECS: i64 = 72 * 3600;

/// Creates an organisation; returns its id.
pub fn create_org(tx: &Transaction<'_>, name: &str, now: i64) -> Result<i64> {
    tx.execute("INSERT INTO orgs (name, created_at) VALUES (?1, ?2)", params![name, now])?;
    Ok(tx.last_insert_rowid())
}

/// Creates a site with a fresh issuer key (stored sealed); returns its id and issuer public key.
pub fn create_site(
    tx: &Transaction<'_>,
    secrets: &Secrets,
    org_id: i64,
    name: &str,
    credential_ttl_secs: Option<i64>,
    now: i64,
) -> Result<(i64, Vec<u8>)> {
    exists(tx, "orgs", org_id, "organisation")?;
    let ttl = credential_ttl_secs.unwrap_or(DEFAULT_CREDENTIAL_TTL_SECS);
    if !(60..=90 * 24 * 3600).contains(&ttl) {
        return Err(Error::field("credential_ttl_secs", "must be between 60 seconds and 90 days"));
    }
    let key = signing::generate_key()?;
    let sealed = secrets.seal(&key.pkcs8)?;
    tx.execute(
        "INSERT INTO sites (org_id, name, credential_ttl_secs, issuer_key_sealed, issuer_public_key, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![org_id, name, ttl, sealed, key.public_key, now],
    )?;
    Ok((tx.last_insert_rowid(), key.public_key))
}

/// Creates a facility in a site; returns its id.
pub fn create_facility(tx: &Transaction<'_>, site_id: i64, name: &str, now: i64) -> Result<i64> {
    exists(tx, "sites", site_id, "site")?;
    tx.execute("INSERT INTO facilities (site_id, name, created_at) VALUES (?1, ?2, ?3)", params![site_id, name, now])?;
    Ok(tx.last_insert_rowid())
}

/// The organisation a facility belongs to.
pub fn org_of_facility(tx: &Transaction<'_>, facility_id: i64) -> Result<i64> {
    tx.query_row(
        "SELECT s.org_id FROM facilities f JOIN sites s ON s.id = f.site_id WHERE f.id = ?1",
        [facility_id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(Error::NotFound("facility"))
}

/// A site's active issuer key (opened) and credential life, found from a facility.
pub fn issuer_for_facility(tx: &Transaction<'_>, secrets: &Secrets, facility_id: i64) -> Result<Issuer> {
    let (sealed, public_key, ttl, state): (Option<Vec<u8>>, Vec<u8>, i64, String) = tx
        .query_row(
            "SELECT k.key_sealed, k.public_key, s.credential_ttl_secs, k.state
             FROM facilities f JOIN sites s ON s.id = f.site_id
             JOIN issuer_keys k ON k.site_id = s.id AND k.state = 'active' WHERE f.id = ?1",
            [facility_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?
        .ok_or(Error::NotFound("facility"))?;
    let sealed = sealed.ok_or(Error::IssuerKeyRetired)?;
    let signer = signing::SigningIssuer::new(secrets.open(&sealed)?, signing::KeyLifecycle::parse(&state)?);
    Ok(Issuer { signer, public_key, credential_ttl_secs: ttl })
}

/// A site's issuer, ready to sign.
pub struct Issuer {
    /// The opened key with its lifecycle state; lives only in memory for the request.
    pub signer: signing::SigningIssuer,
    /// 65-byte public key.
    pub public_key: Vec<u8>,
    /// Credential life for this site.
    pub credential_ttl_secs: i64,
}

/// Fails with [`Error::NotFound`] unless `table` has a row `id`.
pub fn exists(tx: &Transaction<'_>, table: &'static str, id: i64, what: &'static str) -> Result<()> {
    let found: Option<i64> =
        tx.query_row(&format!("SELECT id FROM {table} WHERE id = ?1"), [id], |r| r.get(0)).optional()?;
    found.map(|_| ()).ok_or(Error::NotFound(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sites_issuer_key_opens_only_with_the_server_secret_it_was_sealed_under() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut conn).unwrap();
        let tx = conn.transaction().unwrap();
        let ours = Secrets::new(b"our secret").unwrap();
        let org = create_org(&tx, "Acme", 1).unwrap();
        let (site, public_key) = create_site(&tx, &ours, org, "Main", None, 1).unwrap();
        let facility = create_facility(&tx, site, "Gym", 1).unwrap();
        let issuer = issuer_for_facility(&tx, &ours, facility).unwrap();
        assert_eq!(issuer.public_key, public_key);
        assert_eq!(issuer.credential_ttl_secs, DEFAULT_CREDENTIAL_TTL_SECS);
        let stored: Vec<u8> = tx.query_row("SELECT issuer_key_sealed FROM sites", [], |r| r.get(0)).unwrap();
        let pkcs8 = issuer.signer.pkcs8();
        assert!(!stored.windows(pkcs8.len()).any(|w| w == pkcs8));
        let theirs = Secrets::new(b"another secret").unwrap();
        assert!(matches!(issuer_for_facility(&tx, &theirs, facility), Err(Error::Internal(_))));
    }
}
