//! Every endpoint of the API, one type each: the list the backend mounts, the core calls
//! and the OpenAPI document is checked against.
//!
//! A value of an endpoint type is one call: `ListKeys { since: Some(cursor) }`,
//! `UploadReceipt { door_id, body }`. Path parameters are fields of their own type; the
//! query parameters are optional fields; the body, if any, is the field `body`.

use crate::path::{fill, push_query};
use crate::{
    AcceptRequest, Access, AccessRequest, AuditEventView, CodeRequest, CodeSentResponse, CreateShareRequest, Created,
    CredentialsRequest, CredentialsResponse, DoorConfigRequest, DoorRequest, DoorView, Endpoint, EndpointVisitor,
    GrantChange, GrantSpec, Health, InvitationPreview, InvitationSent, InvitationView, InviteRequest, IssuedCredential,
    KeyChange, KeyRequest, KeysResponse, Method, NameRequest, NoBody, OutboxMessage, PendingDoors, PersonAdded,
    PersonRequest, PersonSummary, Profile, ReceiptOutcome, ReceiptUpload, RefreshRequest, RevokeRequest, Revoked,
    SessionTokens, ShareCreated, SharePreview, ShareView, SignedBundle, SiteCreated, SiteRequest, UnfreezeRequest,
    VerifyRequest,
};
use crate::{CardRequest, CardView, DeleteAccountRequest, NameChange, PushTokenRequest};
use crate::{ClockResetRequest, SignedClockReset};
use crate::{DoorcodeSecretRequest, DoorcodeSetting, DoorcodeState, DoorcodesResponse};
use crate::{IssuerKeys, RetireIssuerKeyRequest};
use crate::{LinkAnswer, LinkChallenge, LinkPoll};

/// Declares the endpoint types and [`visit_all`] over them, from one list.
macro_rules! endpoints {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident: $method:ident $path:literal, $access:ident
            ($($param:ident: $pty:ty),*)
            $(query ($($q:ident: $qty:ty),*))?
            $(body $body:ty)?
            => $answer:ty;
    )*) => {
        $(
            $(#[doc = $doc])*
            #[derive(Clone)]
            pub struct $name {
                $(
                    #[doc = concat!("The path parameter `", stringify!($param), "`.")]
                    pub $param: $pty,
                )*
                $($(
                    #[doc = concat!("The query parameter `", stringify!($q), "` (left out when `None`).")]
                    pub $q: Option<$qty>,
                )*)?
                $(
                    /// The request body.
                    pub body: $body,
                )?
            }

            impl Endpoint for $name {
                type Body = endpoints!(@body $($body)?);
                type Answer = $answer;
                const METHOD: Method = Method::$method;
                const PATH: &'static str = $path;
                const ACCESS: Access = Access::$access;
                const QUERY: &'static [&'static str] = &[$($(stringify!($q)),*)?];

                fn path(&self) -> String {
                    #[allow(unused_mut)]
                    let mut path = fill(Self::PATH, &[$((stringify!($param), &self.$param)),*]);
                    $($(
                        push_query(&mut path, stringify!($q), self.$q.as_ref().map(|v| v as _));
                    )*)?
                    path
                }

                fn body(&self) -> Option<&Self::Body> {
                    endpoints!(@get self $($body)?)
                }
            }
        )*

        /// Shows every endpoint type to `visitor`, in the order of this module.
        pub fn visit_all<V: EndpointVisitor>(visitor: &mut V) {
            $(visitor.visit::<$name>();)*
        }
    };
    (@body) => { NoBody };
    (@body $body:ty) => { $body };
    (@get $self:ident) => { None };
    (@get $self:ident $body:ty) => { Some(&$self.body) };
}

endpoints! {
    // Service.
    /// Whether the service is up, and its time.
    GetHealth: Get "/v1/health", Public () => Health;

    // Sign-in and sessions.
    /// Sends a sign-in code to an email address or phone number.
    SendCode: Post "/v1/auth/code", Public () body CodeRequest => CodeSentResponse;
    /// Checks the code and starts a session bound to the device key.
    Verify: Post "/v1/auth/verify", Public () body VerifyRequest => SessionTokens;
    /// Rotates the refresh token.
    Refresh: Post "/v1/auth/refresh", Public () body RefreshRequest => SessionTokens;
    /// Ends the caller's session.
    Logout: Post "/v1/auth/logout", Member () => ();

    // Invitations.
    /// What an invitation offers.
    PreviewInvitation: Get "/v1/invitations/{token}", Public (token: String) => InvitationPreview;
    /// Sends a sign-in code to the invited address.
    SendInvitationCode: Post "/v1/invitations/{token}/code", Public (token: String) => CodeSentResponse;
    /// Accepts an invitation and signs the person in on this device.
    AcceptInvitation: Post "/v1/invitations/{token}/accept", Public (token: String)
        body AcceptRequest => SessionTokens;

    // The signed-in person.
    /// Who is signed in, and in which organisations.
    GetProfile: Get "/v1/me", Member () => Profile;
    /// The person's keys; with `since`, only those changed after that cursor.
    ListKeys: Get "/v1/me/keys", Member () query (since: i64) => KeysResponse;
    /// Issues or renews credentials for the session's device key.
    IssueCredentials: Post "/v1/credentials", Member () body CredentialsRequest => CredentialsResponse;
    /// Sets the signed-in person's first and last name.
    UpdateMyName: Post "/v1/me/name", Member () body NameChange => Profile;
    /// Deletes the signed-in person's account (with a device signature): sessions and keys
    /// end, personal data is forgotten, the doors' history stays.
    DeleteMyAccount: Post "/v1/me/delete-account", Member () body DeleteAccountRequest => ();
    /// Registers (or replaces) this device's push token: silent pushes then wake the app
    /// when the person's keys or doors change.
    RegisterPushToken: Post "/v1/me/push-token", Member () body PushTokenRequest => ();
    /// Forgets this device's push token (the app turned push off).
    ForgetPushToken: Delete "/v1/me/push-token", Member () => ();

    // Guest sharing.
    /// Shares a shareable key with a guest.
    CreateShare: Post "/v1/shares", Member () body CreateShareRequest => ShareCreated;
    /// The sharing member revokes a share and the guest's key.
    RevokeShare: Post "/v1/shares/{share_id}/revoke", Member (share_id: i64) => ();
    /// What a share link offers.
    PreviewShareLink: Get "/v1/share-links/{token}", Public (token: String) => SharePreview;
    /// The signed-in guest redeems a share link for a guest credential.
    RedeemShareLink: Post "/v1/share-links/{token}/redeem", Member (token: String) => IssuedCredential;
    /// The shares the caller has made.
    ListMyShares: Get "/v1/me/shares", Member () => Vec<ShareView>;

    // Door sync.
    /// The caller's offline doors whose lock is behind.
    ListPendingDoors: Get "/v1/door-sync/pending", Member () => PendingDoors;
    /// The current signed bundle for an offline door, its revocations a delta from `since`.
    GetBundle: Get "/v1/doors/{door_id}/bundle", Member (door_id: i64) query (since: i64) => SignedBundle;
    /// Uploads a lock's signed receipt.
    UploadReceipt: Post "/v1/doors/{door_id}/receipts", Member (door_id: i64)
        body ReceiptUpload => ReceiptOutcome;
    /// A clock reset for the door's lock, signed for the nonce it advertises: for a member
    /// with a live key for the door whose lock refuses every key because its clock is wrong.
    RequestClockReset: Post "/v1/doors/{door_id}/clock-reset", Member (door_id: i64)
        body ClockResetRequest => SignedClockReset;

    // Locks with internet (no session: each poll is signed with the lock's own key).
    /// A challenge for the lock's next signed poll.
    GetLinkChallenge: Post "/v1/locks/{lock_id}/challenge", Public (lock_id: String) => LinkChallenge;
    /// The lock's long-poll: hands in its receipt, waits (bounded) for a newer bundle.
    PollLink: Post "/v1/locks/{lock_id}/link", Public (lock_id: String) body LinkPoll => LinkAnswer;

    // Operators.
    /// Creates an organisation.
    CreateOrg: Post "/v1/admin/orgs", Admin () body NameRequest => Created;
    /// Creates a site with its own issuer key.
    CreateSite: Post "/v1/admin/orgs/{org_id}/sites", Admin (org_id: i64) body SiteRequest => SiteCreated;
    /// A site's issuer keys and the doors that have not confirmed its anchor set.
    ListIssuerKeys: Get "/v1/admin/sites/{site_id}/issuer-keys", Admin (site_id: i64) => IssuerKeys;
    /// Rotates a site's issuer key: a new key signs from now on, and every door is told
    /// (signed by the old key) to trust both.
    RotateIssuerKey: Post "/v1/admin/sites/{site_id}/issuer-keys/rotate", Admin (site_id: i64) => IssuerKeys;
    /// Retires a site's outgoing issuer key: every door is told (signed by the active key)
    /// to drop it, and it signs nothing from then on.
    RetireIssuerKey: Post "/v1/admin/sites/{site_id}/issuer-keys/retire", Admin (site_id: i64)
        body RetireIssuerKeyRequest => IssuerKeys;
    /// Creates a facility in a site.
    CreateFacility: Post "/v1/admin/sites/{site_id}/facilities", Admin (site_id: i64) body NameRequest => Created;
    /// Adds a door to a facility.
    CreateDoor: Post "/v1/admin/facilities/{facility_id}/doors", Admin (facility_id: i64)
        body DoorRequest => DoorView;
    /// An organisation's doors.
    ListDoors: Get "/v1/admin/orgs/{org_id}/doors", Admin (org_id: i64) => Vec<DoorView>;
    /// Creates a key holding doors of a facility.
    CreateKey: Post "/v1/admin/facilities/{facility_id}/keys", Admin (facility_id: i64) body KeyRequest => Created;
    /// Adds a person to an organisation.
    AddPerson: Post "/v1/admin/orgs/{org_id}/people", Admin (org_id: i64) body PersonRequest => PersonAdded;
    /// An organisation's people.
    ListPeople: Get "/v1/admin/orgs/{org_id}/people", Admin (org_id: i64) => Vec<PersonSummary>;
    /// Removes a person from an organisation.
    DeletePerson: Delete "/v1/admin/orgs/{org_id}/people/{person_id}", Admin (org_id: i64, person_id: i64) => ();
    /// Revokes all of a person's keys in an organisation, and the guest keys they shared.
    RevokeAll: Post "/v1/admin/orgs/{org_id}/people/{person_id}/revoke-all", Admin (org_id: i64, person_id: i64)
        body RevokeRequest => Revoked;
    /// Turns a person's access in an organisation off (suspended) or back on.
    SetAccess: Post "/v1/admin/orgs/{org_id}/people/{person_id}/access", Admin (org_id: i64, person_id: i64)
        body AccessRequest => ();
    /// Puts an NFC card on a person's record (replacing any).
    SetPersonCard: Post "/v1/admin/people/{person_id}/card", Admin (person_id: i64) body CardRequest => CardView;
    /// Grants a key to a person.
    GrantKey: Post "/v1/admin/people/{person_id}/grants", Admin (person_id: i64) body GrantSpec => Created;
    /// Changes a grant's window or sharing.
    UpdateGrant: Post "/v1/admin/grants/{grant_id}", Admin (grant_id: i64) body GrantChange => ();
    /// Revokes one grant.
    RevokeGrant: Post "/v1/admin/grants/{grant_id}/revoke", Admin (grant_id: i64) body RevokeRequest => ();
    /// Renames a key or changes its doors.
    UpdateKey: Post "/v1/admin/keys/{key_id}", Admin (key_id: i64) body KeyChange => ();
    /// Deletes a key: every grant of it is revoked (`key_deleted`), guests' keys with them.
    DeleteKey: Delete "/v1/admin/keys/{key_id}", Admin (key_id: i64) => ();
    /// Invites a person by email.
    Invite: Post "/v1/admin/invitations", Admin () body InviteRequest => InvitationSent;
    /// Sends an invitation again with a new link.
    ResendInvitation: Post "/v1/admin/invitations/{invitation_id}/resend", Admin (invitation_id: i64)
        => InvitationSent;
    /// Cancels an invitation.
    CancelInvitation: Post "/v1/admin/invitations/{invitation_id}/cancel", Admin (invitation_id: i64) => ();
    /// A clock reset for a door's lock, signed for the nonce it advertises (an operator at
    /// the door, or relaying one).
    AdminClockReset: Post "/v1/admin/doors/{door_id}/clock-reset", Admin (door_id: i64)
        body ClockResetRequest => SignedClockReset;
    /// Lifts the sign-in freeze on an identifier (after the person's identity was checked
    /// another way): its failure count starts again from zero.
    UnfreezeSignIn: Post "/v1/admin/sign-in/unfreeze", Admin () body UnfreezeRequest => ();
    /// The development outbox.
    ReadOutbox: Get "/v1/admin/outbox", Admin () query (to: String) => Vec<OutboxMessage>;
    /// Changes a door's lock settings.
    SetDoorConfig: Post "/v1/admin/doors/{door_id}/config", Admin (door_id: i64) body DoorConfigRequest => ();
    /// A door's activity history, newest first.
    ListDoorEvents: Get "/v1/admin/doors/{door_id}/events", Admin (door_id: i64) query (limit: i64)
        => Vec<AuditEventView>;
    /// An organisation's invitations.
    ListInvitations: Get "/v1/admin/orgs/{org_id}/invitations", Admin (org_id: i64) => Vec<InvitationView>;
    /// Offline doors that need a door sync.
    ListDoorsToSync: Get "/v1/admin/door-sync/pending", Admin () query (org_id: i64) => Vec<DoorView>;

    // Doorcodes.
    /// The caller's daily doorcodes for today, with their windows.
    GetDoorcodes: Get "/v1/me/doorcodes", Member () => DoorcodesResponse;
    /// Lets a grant carry a daily doorcode (or stops it; offline doors learn at their next sync).
    SetGrantDoorcode: Post "/v1/admin/grants/{grant_id}/doorcode", Admin (grant_id: i64)
        body DoorcodeSetting => DoorcodeState;
    /// Registers the doorcode secret a door's lock generated when it was fitted.
    SetDoorcodeSecret: Post "/v1/admin/doors/{door_id}/doorcode-secret", Admin (door_id: i64)
        body DoorcodeSecretRequest => ();
}
