// The Keystore failure KeystoreSigner reports when the phone must be unlocked first.
// (The signer's keys are not bound to user authentication, so AuthenticationFailed cannot arise here.)
package app.keyway.android

import app.keyway.core.SignerException

/** The key needs the person to unlock the phone first: the app asks them to, then retries. */
internal fun signerLocked(): SignerException = SignerException.Locked()
