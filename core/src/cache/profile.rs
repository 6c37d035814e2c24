//! The member's own record in the cache (one row), so the profile screen works offline.

use super::{Account, Cache, CacheError, Card, Profile};
use rusqlite::{OptionalExtension, params};

impl Cache {
    /// Replaces the cached profile (its memberships are the accounts table).
    pub fn store_profile(&self, p: &Profile) -> Result<(), CacheError> {
        self.replace_accounts(&p.memberships)?;
        self.write(|tx| {
            let card = p.card.as_ref();
            tx.execute(
                "INSERT INTO profile (id, person_id, email, phone, first_name, last_name, card_hex, card_decimal,
                     card_surface_id)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (id) DO UPDATE SET person_id = ?1, email = ?2, phone = ?3, first_name = ?4,
                     last_name = ?5, card_hex = ?6, card_decimal = ?7, card_surface_id = ?8",
                params![
                    p.person_id,
                    p.email,
                    p.phone,
                    p.first_name,
                    p.last_name,
                    card.map(|c| c.hex.as_str()),
                    card.map(|c| c.decimal.as_str()),
                    card.and_then(|c| c.surface_id.as_deref()),
                ],
            )?;
            Ok(())
        })
    }

    /// The cached profile, if one was ever fetched.
    pub fn profile(&self) -> Result<Option<Profile>, CacheError> {
        type Row = (i64, Option<String>, Option<String>, Option<String>, Option<String>, Option<Card>);
        let row: Option<Row> = self.read(|c| {
            Ok(c.query_row(
                "SELECT person_id, email, phone, first_name, last_name, card_hex, card_decimal, card_surface_id
                 FROM profile WHERE id = 1",
                [],
                |r| {
                    let hex: Option<String> = r.get(5)?;
                    let decimal: Option<String> = r.get(6)?;
                    let card = match hex {
                        Some(hex) => Some(Card { hex, decimal: decimal.unwrap_or_default(), surface_id: r.get(7)? }),
                        None => None,
                    };
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, card))
                },
            )
            .optional()?)
        })?;
        let Some((person_id, email, phone, first_name, last_name, card)) = row else {
            return Ok(None);
        };
        let memberships: Vec<Account> = self.accounts()?;
        Ok(Some(Profile { person_id, first_name, last_name, email, phone, card, memberships }))
    }
}
