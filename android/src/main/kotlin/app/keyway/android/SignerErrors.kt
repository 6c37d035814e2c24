// The Keystore failure KeystoreSigner reports that waits for the facade's new SignerError variant.
// (The signer's keys are not bound to user authentication, so AuthenticationFailed cannot arise here.)
package app.keyway.android

import app.keyway.SignerException

/**
 * The key needs the person to unlock the phone (or to authenticate) first.
 *
 * AFTER THE FACADE MERGE: return `SignerException.Locked()` here. Until the foreign
 * `SignerError` has that variant, the closest existing one is `Other` with a detail that
 * names the condition (the app then sees `Internal`).
 */
internal fun signerLocked(): SignerException = SignerException.Other("device locked: the Keystore key needs the person to unlock first")

