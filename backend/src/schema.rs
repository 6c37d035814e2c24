//! Versioned schema migrations, applied in order and recorded in `PRAGMA user_version`.
//!
//! Never edit a released step; add a new one. Secrets are never stored in the clear:
//! `*_hash` columns hold keyed hashes, `issuer_key_sealed` holds an AES-GCM sealed key.

use rusqlite::Connection;

use crate::error::Result;

/// The migration steps; step `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // v1: the whole first schema.
    r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta (key, value) VALUES ('change_seq', 0);

CREATE TABLE orgs (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE sites (
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs(id), name TEXT NOT NULL,
  credential_ttl_secs INTEGER NOT NULL, issuer_key_sealed BLOB NOT NULL,
  issuer_public_key BLOB NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE facilities (
  id INTEGER PRIMARY KEY, site_id INTEGER NOT NULL REFERENCES sites(id), name TEXT NOT NULL,
  created_at INTEGER NOT NULL);

CREATE TABLE people (
  id INTEGER PRIMARY KEY, email TEXT UNIQUE, phone TEXT UNIQUE, name TEXT,
  app_adoption TEXT NOT NULL DEFAULT 'none', first_sign_in_at INTEGER, created_at INTEGER NOT NULL);
CREATE TABLE memberships (
  id INTEGER PRIMARY KEY, person_id INTEGER NOT NULL REFERENCES people(id),
  org_id INTEGER NOT NULL REFERENCES orgs(id), role TEXT NOT NULL,
  invitation_status TEXT NOT NULL DEFAULT 'not_invited', invited_at INTEGER,
  created_at INTEGER NOT NULL, deleted_at INTEGER, UNIQUE (person_id, org_id));
CREATE TABLE invitations (
  id INTEGER PRIMARY KEY, membership_id INTEGER NOT NULL REFERENCES memberships(id),
  facility_id INTEGER NOT NULL REFERENCES facilities(id), email TEXT NOT NULL, role TEXT NOT NULL,
  token_hash BLOB NOT NULL UNIQUE, access_start INTEGER NOT NULL, created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, state TEXT NOT NULL, finished_at INTEGER);

CREATE TABLE otp_challenges (
  identifier TEXT PRIMARY KEY, code_hash BLOB NOT NULL, code_expires_at INTEGER NOT NULL,
  code_used INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER NOT NULL DEFAULT 0, last_sent_at INTEGER NOT NULL,
  window_start INTEGER NOT NULL, window_count INTEGER NOT NULL, deliverable INTEGER NOT NULL);

CREATE TABLE sessions (
  id INTEGER PRIMARY KEY, person_id INTEGER NOT NULL REFERENCES people(id),
  device_public_key BLOB NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER,
  revoke_reason TEXT);
CREATE TABLE access_tokens (
  token_hash BLOB PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
  expires_at INTEGER NOT NULL);
CREATE TABLE refresh_tokens (
  token_hash BLOB PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
  issued_at INTEGER NOT NULL, rotated_at INTEGER, successor_hash BLOB);

CREATE TABLE doors (
  id INTEGER PRIMARY KEY, facility_id INTEGER NOT NULL REFERENCES facilities(id),
  name TEXT NOT NULL, lock_id BLOB NOT NULL UNIQUE, lock_public_key BLOB NOT NULL,
  lock_signing_public_key BLOB NOT NULL, online INTEGER NOT NULL,
  unlock_ms INTEGER NOT NULL DEFAULT 5000, fast_unlock INTEGER NOT NULL DEFAULT 1,
  bundle_version INTEGER NOT NULL DEFAULT 1, synced_version INTEGER NOT NULL DEFAULT 0,
  synced_at INTEGER, lock_clock INTEGER, created_at INTEGER NOT NULL);
CREATE TABLE keys (
  id INTEGER PRIMARY KEY, facility_id INTEGER NOT NULL REFERENCES facilities(id),
  name TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE key_doors (
  key_id INTEGER NOT NULL REFERENCES keys(id), door_id INTEGER NOT NULL REFERENCES doors(id),
  PRIMARY KEY (key_id, door_id));
CREATE TABLE grants (
  id INTEGER PRIMARY KEY, key_id INTEGER NOT NULL REFERENCES keys(id),
  person_id INTEGER NOT NULL REFERENCES people(id), org_id INTEGER NOT NULL REFERENCES orgs(id),
  share_id INTEGER, starts_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  shareable INTEGER NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER,
  revoke_reason TEXT, change_seq INTEGER NOT NULL);
CREATE TABLE shares (
  id INTEGER PRIMARY KEY, grant_id INTEGER NOT NULL REFERENCES grants(id),
  parent_credential_id BLOB NOT NULL, guest_identifier TEXT NOT NULL,
  token_hash BLOB NOT NULL UNIQUE, starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL,
  link_expires_at INTEGER NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL,
  redeemed_at INTEGER, guest_grant_id INTEGER);
CREATE TABLE share_doors (
  share_id INTEGER NOT NULL REFERENCES shares(id), door_id INTEGER NOT NULL REFERENCES doors(id),
  PRIMARY KEY (share_id, door_id));
CREATE TABLE credentials (
  id BLOB PRIMARY KEY, grant_id INTEGER NOT NULL REFERENCES grants(id),
  session_id INTEGER NOT NULL REFERENCES sessions(id), device_public_key BLOB NOT NULL,
  not_before INTEGER NOT NULL, not_after INTEGER NOT NULL, parent_id BLOB,
  guest INTEGER NOT NULL, shareable INTEGER NOT NULL, issued_at INTEGER NOT NULL,
  revoked_at INTEGER);
CREATE TABLE credential_doors (
  credential_id BLOB NOT NULL REFERENCES credentials(id),
  door_id INTEGER NOT NULL REFERENCES doors(id), PRIMARY KEY (credential_id, door_id));
CREATE TABLE door_revocations (
  door_id INTEGER NOT NULL REFERENCES doors(id), credential_id BLOB NOT NULL,
  version INTEGER NOT NULL, not_after INTEGER NOT NULL, PRIMARY KEY (door_id, credential_id));
CREATE TABLE audit_events (
  door_id INTEGER NOT NULL REFERENCES doors(id), seq INTEGER NOT NULL, at INTEGER NOT NULL,
  kind TEXT NOT NULL, detail INTEGER, credential_id BLOB, received_at INTEGER NOT NULL,
  PRIMARY KEY (door_id, seq));
CREATE TABLE outbox_log (
  id INTEGER PRIMARY KEY, channel TEXT NOT NULL, recipient TEXT NOT NULL, kind TEXT NOT NULL,
  created_at INTEGER NOT NULL, delivered INTEGER NOT NULL);

CREATE INDEX grants_person ON grants(person_id);
CREATE INDEX grants_seq ON grants(change_seq);
CREATE INDEX credentials_grant ON credentials(grant_id);
CREATE INDEX shares_grant ON shares(grant_id);
"#,
    // v2: the security second pass (issue 16).
    // - Codes are bound to the client address that asked for them; failure counters per
    //   identifier, per client and per (identifier, client), and a global budget per hour.
    // - A credential keeps its bytes (so a repeated request gets the same one back) and
    //   when it was superseded by a newer one for the same device and grant.
    // - Grants remember the invitation they came with; shares count per sharer and guest.
    r#"
DROP TABLE otp_challenges;
CREATE TABLE otp_codes (
  identifier TEXT NOT NULL, client TEXT NOT NULL, code_hash BLOB NOT NULL,
  expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0, guesses INTEGER NOT NULL DEFAULT 0,
  deliverable INTEGER NOT NULL, last_sent_at INTEGER NOT NULL, window_start INTEGER NOT NULL,
  window_count INTEGER NOT NULL, PRIMARY KEY (identifier, client));
CREATE TABLE otp_limits (
  scope TEXT NOT NULL, subject TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER NOT NULL DEFAULT 0, last_failure_at INTEGER NOT NULL DEFAULT 0,
  window_start INTEGER NOT NULL DEFAULT 0, window_count INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (scope, subject));
CREATE TABLE otp_global (hour INTEGER PRIMARY KEY, failures INTEGER NOT NULL);

ALTER TABLE credentials ADD COLUMN bytes BLOB;
ALTER TABLE credentials ADD COLUMN superseded_at INTEGER;
CREATE INDEX credentials_parent ON credentials(parent_id);
CREATE INDEX credentials_device ON credentials(grant_id, device_public_key);

ALTER TABLE grants ADD COLUMN invitation_id INTEGER REFERENCES invitations(id);
CREATE INDEX grants_invitation ON grants(invitation_id);
CREATE INDEX shares_parent ON shares(parent_credential_id);
-- How the share link went out: 'none' (left to the member), 'known' or 'stranger' (an SMS
-- to a number no person has).
ALTER TABLE shares ADD COLUMN message TEXT NOT NULL DEFAULT 'none';
CREATE INDEX outbox_recipient ON outbox_log(recipient, kind, created_at);
"#,
    // v3: a share request carries the member's device signature; its nonce is single-use.
    r#"
ALTER TABLE shares ADD COLUMN proof_nonce BLOB;
CREATE UNIQUE INDEX shares_proof_nonce ON shares(proof_nonce);
"#,
    // access_suspended, revoke_reason: the "Access enabled" switch per membership, the
    // administrator's words to the holder, and keys that can be deleted.
    r#"
ALTER TABLE memberships ADD COLUMN suspended_at INTEGER;
ALTER TABLE memberships ADD COLUMN suspend_message TEXT;
ALTER TABLE grants ADD COLUMN revoke_message TEXT;
ALTER TABLE keys ADD COLUMN deleted_at INTEGER;
CREATE INDEX grants_key ON grants(key_id);
-- The grants whose holder's access is turned off: a member's own grants, and guest grants
-- shared from a suspended member's grant.
CREATE VIEW suspended_grants AS
  SELECT g.id AS grant_id, m.suspended_at AS suspended_at, m.suspend_message AS message
  FROM grants g
  JOIN grants holder ON holder.id = COALESCE((SELECT s.grant_id FROM shares s WHERE s.id = g.share_id), g.id)
  JOIN memberships m ON m.person_id = holder.person_id AND m.org_id = holder.org_id
  WHERE m.suspended_at IS NOT NULL;
"#,
    // doorcode: each door's doorcode secret (sealed like issuer keys, the lock's copy
    // registered when it is fitted), a grant's doorcode switch, and each person's doorcode
    // slot per organisation (numbered once, never reused).
    r#"
ALTER TABLE doors ADD COLUMN doorcode_secret BLOB;
ALTER TABLE grants ADD COLUMN doorcode INTEGER NOT NULL DEFAULT 0;
CREATE TABLE doorcode_slots (
  org_id INTEGER NOT NULL, person_id INTEGER NOT NULL, slot INTEGER NOT NULL,
  created_at INTEGER NOT NULL, PRIMARY KEY (org_id, slot), UNIQUE (org_id, person_id));
"#,
    // v6: profile, invitation_without_keys, delete_account (issue 17).
    // - A person has a first and a last name, and may have an NFC card (its UID in
    //   upper-case hex, one card per record, and the number printed on it).
    // - Who sent an invitation ("invited by"), kept on the invitation and the membership.
    // - A person who deleted their account keeps a row with no personal data, so the
    //   doors' history (credentials, audit events) still points at a pseudonymous id.
    r#"
ALTER TABLE people ADD COLUMN first_name TEXT;
ALTER TABLE people ADD COLUMN last_name TEXT;
ALTER TABLE people ADD COLUMN card_id TEXT;
ALTER TABLE people ADD COLUMN card_surface_id TEXT;
ALTER TABLE people ADD COLUMN deleted_at INTEGER;
CREATE UNIQUE INDEX people_card ON people(card_id);
ALTER TABLE invitations ADD COLUMN invited_by TEXT;
ALTER TABLE memberships ADD COLUMN invited_by TEXT;
"#,
    // v7: push_ (issue 18): each device's push token, and at most one waiting silent push
    // per device. Triggers queue it in the same transaction as the change that needs it, so
    // no code path can forget to: a grant added or changed (its change_seq moves: window,
    // sharing, revocation, suspension, the key's doors) wakes the holder's devices; a new
    // bundle for an offline door wakes up to 5 devices of people who can open it (couriers).
    r#"
CREATE TABLE push_tokens (
  session_id INTEGER PRIMARY KEY REFERENCES sessions(id), platform TEXT NOT NULL,
  token TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE UNIQUE INDEX push_tokens_token ON push_tokens(platform, token);
CREATE TABLE push_queue (
  session_id INTEGER PRIMARY KEY REFERENCES sessions(id), reason TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT);
CREATE TRIGGER push_when_a_grant_is_added AFTER INSERT ON grants BEGIN
  INSERT INTO push_queue (session_id, reason)
    SELECT t.session_id, 'keys' FROM push_tokens t JOIN sessions s ON s.id = t.session_id
    WHERE s.person_id = NEW.person_id AND s.revoked_at IS NULL
  ON CONFLICT (session_id) DO UPDATE SET reason = 'keys';
END;
CREATE TRIGGER push_when_a_grant_changes AFTER UPDATE OF change_seq ON grants BEGIN
  INSERT INTO push_queue (session_id, reason)
    SELECT t.session_id, 'keys' FROM push_tokens t JOIN sessions s ON s.id = t.session_id
    WHERE s.person_id = NEW.person_id AND s.revoked_at IS NULL
  ON CONFLICT (session_id) DO UPDATE SET reason = 'keys';
END;
CREATE TRIGGER push_when_an_offline_door_needs_a_courier AFTER UPDATE OF bundle_version ON doors
  WHEN NEW.bundle_version > OLD.bundle_version AND NEW.online = 0 BEGIN
  INSERT INTO push_queue (session_id, reason)
    SELECT t.session_id, 'door_sync' FROM push_tokens t JOIN sessions s ON s.id = t.session_id
    WHERE s.revoked_at IS NULL AND s.person_id IN (
      SELECT g.person_id FROM grants g JOIN key_doors kd ON kd.key_id = g.key_id
      WHERE kd.door_id = NEW.id AND g.revoked_at IS NULL)
    ORDER BY t.updated_at DESC LIMIT 5
  ON CONFLICT (session_id) DO NOTHING;
END;
"#,
    // v8: smtp_, sms_, outbox_survives_restart: the outbox becomes a durable queue (issue 18).
    // Each message is a row, written in the transaction that caused it: its content sealed
    // (AES-GCM under the server secret, bound to channel and recipient; NULL once sent or
    // given up), its state (`queued`, `sent`, `failed`), how many attempts, when the next
    // is due, the last failure in a few words, when the content stops being useful, and the
    // invitation it carries (so a failure shows "Send failed" on the membership).
    r#"
ALTER TABLE outbox_log ADD COLUMN state TEXT NOT NULL DEFAULT 'sent';
UPDATE outbox_log SET state = CASE WHEN delivered THEN 'sent' ELSE 'failed' END;
ALTER TABLE outbox_log ADD COLUMN sealed BLOB;
ALTER TABLE outbox_log ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox_log ADD COLUMN next_attempt_at INTEGER;
ALTER TABLE outbox_log ADD COLUMN failure TEXT;
ALTER TABLE outbox_log ADD COLUMN delivered_at INTEGER;
ALTER TABLE outbox_log ADD COLUMN expires_at INTEGER;
ALTER TABLE outbox_log ADD COLUMN invitation_id INTEGER;
CREATE INDEX outbox_due ON outbox_log(state, next_attempt_at);
CREATE INDEX outbox_invitation ON outbox_log(invitation_id);
"#,
    // v9: online_door (issue 18 item 4): a lock's online link. `link_up` says its lock is
    // connected now (reset whenever the backend starts), `link_seen_at` when it was last
    // heard; each challenge a lock signed is kept until it expires so it is accepted once.
    r#"
ALTER TABLE doors ADD COLUMN link_up INTEGER NOT NULL DEFAULT 0;
ALTER TABLE doors ADD COLUMN link_seen_at INTEGER;
CREATE TABLE link_challenges_used (
  door_id INTEGER NOT NULL REFERENCES doors(id) ON DELETE CASCADE, nonce BLOB NOT NULL,
  expires_at INTEGER NOT NULL, PRIMARY KEY (door_id, nonce));
-- Couriers are asked for a door whose lock is not connected now (fitted offline, or an
-- online lock whose link is down): replaces the push_ step's trigger on the fitted flag.
DROP TRIGGER push_when_an_offline_door_needs_a_courier;
CREATE TRIGGER push_when_an_offline_door_needs_a_courier AFTER UPDATE OF bundle_version ON doors
  WHEN NEW.bundle_version > OLD.bundle_version AND NEW.link_up = 0 BEGIN
  INSERT INTO push_queue (session_id, reason)
    SELECT t.session_id, 'door_sync' FROM push_tokens t JOIN sessions s ON s.id = t.session_id
    WHERE s.revoked_at IS NULL AND s.person_id IN (
      SELECT g.person_id FROM grants g JOIN key_doors kd ON kd.key_id = g.key_id
      WHERE kd.door_id = NEW.id AND g.revoked_at IS NULL)
    ORDER BY t.updated_at DESC LIMIT 5
  ON CONFLICT (session_id) DO NOTHING;
END;
"#,
    // v10: bundle_v3 (issue 19): each site's credential serial counter. New credential ids are
    // `serial u64 ‖ 8 random bytes` (credential_ids.rs), so a door's revocations can be
    // named by consecutive 8-byte prefixes; ids minted before keep their random form.
    r#"
ALTER TABLE sites ADD COLUMN credential_serial INTEGER NOT NULL DEFAULT 0;
"#,
    // v11: issue 16 (future_bundle, rtc_jump): the time last signed into each door's bundle
    // (the signer never goes behind it, signing_time.rs), kept beside the door so that
    // writing it does not count as a change of the door; and every clock reset signed for
    // a door, who asked (a person, or an administrator when `person_id` is NULL), for
    // which advertised nonce and time: the audit trail and the rate limit (clock_resets.rs).
    r#"
CREATE TABLE door_signed_times (
  door_id INTEGER PRIMARY KEY REFERENCES doors(id) ON DELETE CASCADE,
  last_signed_time INTEGER NOT NULL);
CREATE TABLE clock_resets (
  id INTEGER PRIMARY KEY,
  door_id INTEGER NOT NULL REFERENCES doors(id) ON DELETE CASCADE,
  person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,
  by_admin INTEGER NOT NULL,
  nonce BLOB NOT NULL,
  signed_time INTEGER NOT NULL,
  asked_at INTEGER NOT NULL);
CREATE INDEX clock_resets_door ON clock_resets(door_id, asked_at);
CREATE INDEX clock_resets_person ON clock_resets(person_id, asked_at);
"#,
    // v12: anchor_rotation (issue 16 item 6): issuer keys get a life. Each site's keys, one
    // `active` (signs everything), at most one `outgoing` (replaced, still trusted by
    // locks, signs only anchor updates) and any number `retired` (sign nothing; the sealed
    // private key is erased). `sites.issuer_key_sealed` / `issuer_public_key` stay a copy
    // of the active key. A site's anchor-set version counts its rotations; each door keeps
    // the signed anchor update it must be told, and the bundle version that first carries
    // it (the lock has it once its receipts report that version).
    r#"
CREATE TABLE issuer_keys (
  id INTEGER PRIMARY KEY, site_id INTEGER NOT NULL REFERENCES sites(id),
  key_sealed BLOB, public_key BLOB NOT NULL, state TEXT NOT NULL,
  created_at INTEGER NOT NULL, replaced_at INTEGER, retired_at INTEGER);
CREATE UNIQUE INDEX issuer_keys_one_active ON issuer_keys(site_id) WHERE state = 'active';
CREATE UNIQUE INDEX issuer_keys_one_outgoing ON issuer_keys(site_id) WHERE state = 'outgoing';
INSERT INTO issuer_keys (site_id, key_sealed, public_key, state, created_at)
  SELECT id, issuer_key_sealed, issuer_public_key, 'active', created_at FROM sites;
CREATE TRIGGER issuer_key_of_a_new_site AFTER INSERT ON sites BEGIN
  INSERT INTO issuer_keys (site_id, key_sealed, public_key, state, created_at)
    VALUES (NEW.id, NEW.issuer_key_sealed, NEW.issuer_public_key, 'active', NEW.created_at);
END;
ALTER TABLE sites ADD COLUMN anchor_version INTEGER NOT NULL DEFAULT 0;
CREATE TABLE door_anchor_updates (
  door_id INTEGER PRIMARY KEY REFERENCES doors(id), version INTEGER NOT NULL,
  signed BLOB NOT NULL, first_bundle_version INTEGER NOT NULL);
"#,
];

/// The schema version this build writes.
pub const CURRENT_VERSION: u32 = MIGRATIONS.len() as u32;

/// Applies every step the database has not seen yet, each in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let mut version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    while (version as usize) < MIGRATIONS.len() {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[version as usize])?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
        version += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_database_reaches_the_current_version_and_migrating_again_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, CURRENT_VERSION);
    }
}
