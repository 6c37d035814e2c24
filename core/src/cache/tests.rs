//! The cache's behaviour as the app relies on it.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::timestamp::Timestamp;

const DOOR: DoorId = DoorId([1, 2, 3, 4, 5, 6, 7, 8]);
const NOW: u32 = 1_800_000_000;

fn door() -> DoorRecord {
    DoorRecord {
        lock_id: DOOR,
        backend_id: 7,
        name: "Front door".into(),
        online: false,
        lock_public_key: [4; 65],
        lock_signing_key: [4; 65],
        bundle_version: 3,
        synced_version: 1,
        synced_at: None,
    }
}

fn key(grant_id: i64, starts_at: u32, expires_at: u32) -> Key {
    Key {
        grant_id,
        key_id: 1,
        name: "Member".into(),
        organisation: "Harbour Gym".into(),
        facility: "Main".into(),
        doors: vec![DOOR],
        starts_at: Timestamp(starts_at),
        expires_at: Timestamp(expires_at),
        shareable: true,
        guest: false,
        status: KeyStatus::Active,
    }
}

fn credential(grant_id: i64, not_before: u32, not_after: u32) -> StoredCredential {
    StoredCredential {
        grant_id,
        credential_id: format!("{grant_id:032x}"),
        bytes: vec![1, 2, 3],
        not_before,
        not_after,
    }
}

fn schema_of(cache: &Cache) -> Vec<(String, String)> {
    cache
        .read(|c| {
            let mut stmt = c.prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")?;
            Ok(stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?)
        })
        .unwrap()
}

#[test]
fn a_first_version_cache_file_upgrades_to_the_current_schema_and_keeps_its_rows() {
    let dir = tempdir();
    let path = dir.path().join("v1.sqlite");
    {
        // A file as the first release wrote it.
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute("INSERT INTO meta(name, value) VALUES ('keys_cursor', '42')", []).unwrap();
    }
    let upgraded = Cache::open(&path).unwrap();
    let fresh = Cache::in_memory().unwrap();
    assert_eq!(schema_of(&upgraded), schema_of(&fresh));
    assert_eq!(upgraded.meta("keys_cursor").unwrap().as_deref(), Some("42"));
}

#[test]
fn a_cache_from_a_newer_app_is_refused_rather_than_guessed_at() {
    let dir = tempdir();
    let path = dir.path().join("future.sqlite");
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    assert!(Cache::open(&path).is_err());
}

#[test]
fn keys_and_credentials_survive_reopening_the_file() {
    let dir = tempdir();
    let path = dir.path().join("cache.sqlite");
    {
        let cache = Cache::open(&path).unwrap();
        cache.upsert_doors(&[door()]).unwrap();
        cache.upsert_keys(&[key(1, NOW - 10, NOW + 1000)]).unwrap();
        cache.store_credentials(&[credential(1, NOW - 10, NOW + 100)]).unwrap();
    }
    let cache = Cache::open(&path).unwrap();
    assert_eq!(cache.keys().unwrap(), vec![key(1, NOW - 10, NOW + 1000)]);
    assert_eq!(cache.door(&DOOR).unwrap(), Some(door()));
    assert_eq!(cache.credential_for_door(&DOOR, NOW).unwrap().unwrap().grant_id, 1);
}

#[test]
fn a_suspended_key_loses_its_credential_shows_suspended_and_comes_back_with_a_new_one() {
    let cache = Cache::in_memory().unwrap();
    cache.upsert_doors(&[door()]).unwrap();
    cache.upsert_keys(&[key(1, NOW - 10, NOW + 1000)]).unwrap();
    cache.store_credentials(&[credential(1, NOW - 10, NOW + 100)]).unwrap();
    let mut suspended = key(1, NOW - 10, NOW + 1000);
    suspended.status = KeyStatus::Suspended { message: Some("See the front desk".into()) };
    cache.upsert_keys(&[suspended.clone()]).unwrap();
    assert!(cache.credentials().unwrap().is_empty());
    assert_eq!(cache.keys().unwrap()[0].status, suspended.status);
    assert_eq!(cache.access_state(&DOOR, NOW).unwrap(), AccessState::Suspended);
    assert_eq!(cache.store_credentials(&[credential(1, NOW - 10, NOW + 100)]).unwrap(), 0);
    // Turned back on: the key is active and a new credential is kept.
    cache.upsert_keys(&[key(1, NOW - 10, NOW + 1000)]).unwrap();
    assert_eq!(cache.store_credentials(&[credential(1, NOW - 10, NOW + 100)]).unwrap(), 1);
    assert!(matches!(cache.access_state(&DOOR, NOW).unwrap(), AccessState::Ready { .. }));
}

#[test]
fn a_revocation_keeps_its_cause_and_words_and_an_unknown_cause_reads_as_other() {
    let cache = Cache::in_memory().unwrap();
    let mut revoked = key(1, NOW - 10, NOW + 1000);
    let status = KeyStatus::Revoked { reason: RevokeReason::KeyDeleted, message: Some("Gate replaced".into()) };
    revoked.status = status.clone();
    cache.upsert_keys(&[revoked]).unwrap();
    assert_eq!(cache.keys().unwrap()[0].status, status);
    assert_eq!(RevokeReason::from_word("a_cause_from_a_newer_service"), RevokeReason::Other);
    for reason in [RevokeReason::ByAdministrator, RevokeReason::SharerLostAccess, RevokeReason::InvitationCancelled] {
        assert_eq!(RevokeReason::from_word(reason.word()), reason);
    }
}

#[test]
fn a_revoked_key_loses_its_credential_and_shows_revoked() {
    let cache = Cache::in_memory().unwrap();
    cache.upsert_doors(&[door()]).unwrap();
    cache.upsert_keys(&[key(1, NOW - 10, NOW + 1000)]).unwrap();
    cache.store_credentials(&[credential(1, NOW - 10, NOW + 100)]).unwrap();
    let mut revoked = key(1, NOW - 10, NOW + 1000);
    revoked.status = KeyStatus::Revoked { reason: RevokeReason::ByAdministrator, message: None };
    cache.upsert_keys(&[revoked]).unwrap();
    assert!(cache.credentials().unwrap().is_empty());
    assert_eq!(cache.access_state(&DOOR, NOW).unwrap(), AccessState::Revoked);
    // A late credential for a revoked grant is not stored.
    assert_eq!(cache.store_credentials(&[credential(1, NOW - 10, NOW + 100)]).unwrap(), 0);
}

#[test]
fn access_state_tells_ready_starts_at_expired_awaiting_and_no_access() {
    let cache = Cache::in_memory().unwrap();
    assert_eq!(cache.access_state(&DOOR, NOW).unwrap(), AccessState::NoAccess);
    cache.upsert_doors(&[door()]).unwrap();
    cache.upsert_keys(&[key(1, NOW + 3600, NOW + 7200)]).unwrap();
    assert_eq!(cache.access_state(&DOOR, NOW).unwrap(), AccessState::StartsAt { starts_at: Timestamp(NOW + 3600) });
    assert_eq!(cache.access_state(&DOOR, NOW + 4000).unwrap(), AccessState::AwaitingCredential);
    cache.store_credentials(&[credential(1, NOW + 3600, NOW + 7200)]).unwrap();
    assert_eq!(cache.access_state(&DOOR, NOW + 4000).unwrap(), AccessState::Ready { until: Timestamp(NOW + 7200) });
    assert_eq!(
        cache.access_state(&DOOR, NOW + 8000).unwrap(),
        AccessState::Expired { expired_at: Timestamp(NOW + 7200) }
    );
}

#[test]
fn only_a_newer_bundle_replaces_the_one_held() {
    let cache = Cache::in_memory().unwrap();
    cache.store_bundle(&DOOR, 5, b"five").unwrap();
    cache.store_bundle(&DOOR, 4, b"four").unwrap();
    assert_eq!(cache.bundle(&DOOR).unwrap(), Some((5, b"five".to_vec())));
    cache.store_bundle(&DOOR, 6, b"six").unwrap();
    assert_eq!(cache.bundle(&DOOR).unwrap(), Some((6, b"six".to_vec())));
}

#[test]
fn receipts_wait_in_the_outbox_until_delivered() {
    let cache = Cache::in_memory().unwrap();
    let a = cache.queue_receipt(&DOOR, b"first", NOW).unwrap();
    cache.queue_receipt(&DOOR, b"second", NOW).unwrap();
    let pending = cache.pending_receipts().unwrap();
    assert_eq!(
        pending.iter().map(|p| p.receipt.clone()).collect::<Vec<_>>(),
        vec![b"first".to_vec(), b"second".to_vec()]
    );
    cache.receipt_delivered(a).unwrap();
    assert_eq!(cache.pending_receipts().unwrap().len(), 1);
}

#[test]
fn wipe_forgets_every_key_door_and_receipt() {
    let cache = Cache::in_memory().unwrap();
    cache.upsert_doors(&[door()]).unwrap();
    cache.upsert_keys(&[key(1, NOW - 10, NOW + 1000)]).unwrap();
    cache.store_credentials(&[credential(1, NOW - 10, NOW + 100)]).unwrap();
    cache.queue_receipt(&DOOR, b"r", NOW).unwrap();
    cache.set_meta("keys_cursor", "9").unwrap();
    cache.wipe().unwrap();
    assert!(cache.keys().unwrap().is_empty());
    assert!(cache.doors().unwrap().is_empty());
    assert!(cache.credentials().unwrap().is_empty());
    assert!(cache.pending_receipts().unwrap().is_empty());
    assert_eq!(cache.meta("keys_cursor").unwrap(), None);
}

fn profile() -> Profile {
    Profile {
        person_id: 5,
        first_name: Some("Cora".into()),
        last_name: Some("Díaz".into()),
        email: Some("cora@example.com".into()),
        phone: None,
        card: Some(Card { hex: "04A22BB2".into(), decimal: "77736882".into(), surface_id: Some("HG-0042".into()) }),
        memberships: vec![Account {
            org_id: 1,
            organisation: "Harbour Gym".into(),
            role: "member".into(),
            access: AccountAccess::NoAccessYet,
            invited_by: Some("Maria Lopez".into()),
        }],
    }
}

#[test]
fn the_profile_and_an_accounts_no_access_yet_survive_reopening_the_file() {
    let dir = tempdir();
    let path = dir.path().join("cache.sqlite");
    {
        let cache = Cache::open(&path).unwrap();
        assert_eq!(cache.profile().unwrap(), None);
        cache.store_profile(&profile()).unwrap();
    }
    let cache = Cache::open(&path).unwrap();
    assert_eq!(cache.profile().unwrap(), Some(profile()));
    assert_eq!(cache.accounts().unwrap()[0].access, AccountAccess::NoAccessYet);
}

#[test]
fn an_account_cached_by_the_first_version_shows_its_access_as_not_yet_known() {
    let dir = tempdir();
    let path = dir.path().join("v1.sqlite");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute("INSERT INTO accounts(org_id, organisation, role) VALUES (1, 'Harbour Gym', 'member')", [])
            .unwrap();
    }
    let cache = Cache::open(&path).unwrap();
    assert_eq!(cache.accounts().unwrap()[0].access, AccountAccess::NotYetKnown);
}

#[test]
fn wipe_leaves_no_row_in_any_table_the_profile_included() {
    let cache = Cache::in_memory().unwrap();
    cache.upsert_doors(&[door()]).unwrap();
    cache.upsert_keys(&[key(1, NOW - 10, NOW + 1000)]).unwrap();
    cache.store_credentials(&[credential(1, NOW - 10, NOW + 100)]).unwrap();
    cache.store_bundle(&DOOR, 3, b"bundle").unwrap();
    cache.store_profile(&profile()).unwrap();
    cache.wipe().unwrap();
    assert_eq!(cache.profile().unwrap(), None);
    let rows: i64 = cache
        .read(|c| {
            let tables: Vec<String> = c
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut n = 0;
            for t in tables {
                n += c.query_row(&format!("SELECT COUNT(*) FROM \"{t}\""), [], |r| r.get::<_, i64>(0))?;
            }
            Ok(n)
        })
        .unwrap();
    assert_eq!(rows, 0);
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn a_key_revoked_through_another_connection_to_the_file_is_not_used_at_the_door() {
    // The app and its background refresh may hold the same file open twice: the door
    // index the first built must not outlive a revocation the second wrote.
    let dir = tempdir();
    let path = dir.path().join("cache.sqlite");
    let app = Cache::open(&path).unwrap();
    app.upsert_doors(&[door()]).unwrap();
    app.upsert_keys(&[key(1, NOW - 10, NOW + 1000)]).unwrap();
    app.store_credentials(&[credential(1, NOW - 10, NOW + 100)]).unwrap();
    assert_eq!(app.credential_for_door(&DOOR, NOW).unwrap().unwrap().grant_id, 1);

    let background = Cache::open(&path).unwrap();
    background.mark_revoked(&[1]).unwrap();
    assert_eq!(app.credential_for_door(&DOOR, NOW).unwrap(), None);
}

#[test]
fn the_door_lookup_follows_every_change_the_cache_itself_makes() {
    let cache = Cache::in_memory().unwrap();
    cache.upsert_doors(&[door()]).unwrap();
    cache.upsert_keys(&[key(1, NOW - 10, NOW + 1000)]).unwrap();
    assert_eq!(cache.credential_for_door(&DOOR, NOW).unwrap(), None, "no credential yet");
    cache.store_credentials(&[credential(1, NOW - 10, NOW + 100)]).unwrap();
    assert_eq!(cache.credential_for_door(&DOOR, NOW).unwrap().unwrap().not_after, NOW + 100);
    // A second key for the same door with a longer credential wins.
    let mut second = key(2, NOW - 10, NOW + 1000);
    second.key_id = 2;
    cache.upsert_keys(&[key(1, NOW - 10, NOW + 1000), second]).unwrap();
    cache.store_credentials(&[credential(2, NOW - 10, NOW + 500)]).unwrap();
    assert_eq!(cache.credential_for_door(&DOOR, NOW).unwrap().unwrap().grant_id, 2);
    // Outside its window a credential is never the answer, even from the index.
    assert_eq!(cache.credential_for_door(&DOOR, NOW + 200).unwrap().unwrap().grant_id, 2);
    assert_eq!(cache.credential_for_door(&DOOR, NOW + 501).unwrap(), None);
    assert_eq!(cache.credential_for_door(&DOOR, NOW - 11).unwrap(), None);
    cache.mark_revoked(&[2]).unwrap();
    assert_eq!(cache.credential_for_door(&DOOR, NOW).unwrap().unwrap().grant_id, 1);
    cache.wipe().unwrap();
    assert_eq!(cache.credential_for_door(&DOOR, NOW).unwrap(), None, "nothing after sign-out");
}

#[test]
fn an_unreadable_row_for_one_door_does_not_stop_the_others_from_opening() {
    let dir = tempdir();
    let path = dir.path().join("cache.sqlite");
    let cache = Cache::open(&path).unwrap();
    cache.upsert_doors(&[door()]).unwrap();
    let mut other = key(2, NOW - 10, NOW + 1000);
    other.doors = vec![DoorId([9; 8])];
    cache.upsert_keys(&[key(1, NOW - 10, NOW + 1000), other]).unwrap();
    cache.store_credentials(&[credential(1, NOW - 10, NOW + 100), credential(2, NOW - 10, NOW + 100)]).unwrap();
    {
        // Damage the other door's credential the way a foreign writer could.
        let conn = Connection::open(&path).unwrap();
        conn.execute("UPDATE credentials SET not_after = 'soon' WHERE grant_id = 2", []).unwrap();
    }
    assert_eq!(cache.credential_for_door(&DOOR, NOW).unwrap().unwrap().grant_id, 1);
    // The damaged door gets an error, never a guessed window.
    assert!(cache.credential_for_door(&DoorId([9; 8]), NOW).is_err());
}
