//! The member's own record (issue 17 `profile`): first and last name, email, phone, the
//! NFC card on their record and every membership — kept in the cache so the screen works
//! offline — and changing one's name. Names are checked here first, each problem typed.

use crate::cache::{Account, AccountAccess, Card, Profile};
use crate::error::{Error, Result};
use crate::keyway::Keyway;
use keyway_api::endpoints::UpdateMyName;
use keyway_api::{MembershipAccess, NameChange};

/// Longest first or last name, in characters (the service's limit too).
pub const NAME_MAX_CHARS: usize = 100;

/// A first and last name, as a person types them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PersonName {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
}

/// What is wrong with a typed name: show it under the field it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum NameProblem {
    /// The first name is empty.
    #[error("enter your first name")]
    FirstNameMissing,
    /// The last name is empty.
    #[error("enter your last name")]
    LastNameMissing,
    /// A name is longer than 100 characters.
    #[error("a name can be at most 100 characters")]
    TooLong,
    /// A name holds a control character (a line break, a tab).
    #[error("a name cannot hold line breaks or other control characters")]
    ControlCharacters,
}

impl PersonName {
    /// Trims both names and checks them.
    pub fn checked(&self) -> std::result::Result<PersonName, NameProblem> {
        let check = |raw: &str, missing: NameProblem| {
            let t = raw.trim();
            if t.is_empty() {
                Err(missing)
            } else if t.chars().count() > NAME_MAX_CHARS {
                Err(NameProblem::TooLong)
            } else if t.chars().any(char::is_control) {
                Err(NameProblem::ControlCharacters)
            } else {
                Ok(t.to_owned())
            }
        };
        Ok(PersonName {
            first_name: check(&self.first_name, NameProblem::FirstNameMissing)?,
            last_name: check(&self.last_name, NameProblem::LastNameMissing)?,
        })
    }
}

/// The app's form of the service's profile.
pub(crate) fn convert_profile(p: keyway_api::Profile) -> Profile {
    Profile {
        person_id: p.person_id,
        first_name: p.first_name,
        last_name: p.last_name,
        email: p.email,
        phone: p.phone,
        card: p.card.map(|c| Card { hex: c.hex, decimal: c.decimal, surface_id: c.surface_id }),
        memberships: p
            .memberships
            .into_iter()
            .map(|m| Account {
                org_id: m.org_id,
                organisation: m.organisation,
                role: m.role,
                access: match m.access {
                    MembershipAccess::NoAccessYet => AccountAccess::NoAccessYet,
                    MembershipAccess::HasKeys => AccountAccess::HasKeys,
                    MembershipAccess::AccessEnded => AccountAccess::AccessEnded,
                    MembershipAccess::Suspended => AccountAccess::Suspended,
                },
                invited_by: m.invited_by,
            })
            .collect(),
    }
}

impl Keyway {
    /// The member's profile as last fetched (works offline); `None` until a first refresh
    /// online has fetched it.
    pub fn profile(&self) -> Result<Option<Profile>> {
        Ok(self.inner.cache.profile()?)
    }

    /// Sets the member's first and last name; returns the updated profile (also cached).
    pub async fn update_name(&self, name: &PersonName) -> Result<Profile> {
        let name = name.checked().map_err(|problem| Error::InvalidName { problem })?;
        let call = UpdateMyName { body: NameChange { first_name: name.first_name, last_name: name.last_name } };
        let result = self.inner.auth.call(&call).await;
        let profile = convert_profile(self.note_result(result)?);
        self.inner.cache.store_profile(&profile)?;
        Ok(profile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(first: &str, last: &str) -> PersonName {
        PersonName { first_name: first.into(), last_name: last.into() }
    }

    #[test]
    fn a_typed_name_is_trimmed_and_each_mistake_is_its_own_problem() {
        assert_eq!(name(" Ana ", " Ruiz").checked(), Ok(name("Ana", "Ruiz")));
        assert_eq!(name(" ", "Ruiz").checked(), Err(NameProblem::FirstNameMissing));
        assert_eq!(name("Ana", "").checked(), Err(NameProblem::LastNameMissing));
        assert_eq!(name(&"a".repeat(101), "Ruiz").checked(), Err(NameProblem::TooLong));
        assert_eq!(name("Ana", "Ru\niz").checked(), Err(NameProblem::ControlCharacters));
        assert!(name(&"é".repeat(100), "Ruiz").checked().is_ok());
    }
}
