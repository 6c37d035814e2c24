// How Keychain, Secure Enclave and LocalAuthentication failures become the core's errors.
// Pure functions of (domain, code) so a Mac's `swift test` checks every branch without an
// enclave, a locked phone or a face.
import CryptoTokenKit
import Foundation
import LocalAuthentication
import Security

/// The `SignerError` for an `OSStatus` from a Keychain call on the device key
/// (`SecItemCopyMatching`, `SecKeyCreateRandomKey`, `SecItemDelete`). `operation` names the
/// call for logs. What each one asks of the app:
/// - `errSecInteractionNotAllowed`: the phone has not been unlocked since it started (or
///   the key's accessibility class needs it unlocked now) → `.Locked`: unlock the phone and
///   try again; the key is still there.
/// - `errSecAuthFailed`: the person did not pass Face ID / Touch ID / passcode →
///   `.AuthenticationFailed`: let them try again; never send them to sign in.
/// - `errSecUserCanceled`: they closed the prompt → `.Cancelled`.
/// - `errSecItemNotFound`: the key is gone (deleted, or invalidated when the enrolled
///   biometrics changed) → `.Unavailable`: the core creates a new key at the next sign-in.
/// - anything else → `.Other` with the operation and the status number.
func signerError(status: OSStatus, operation: String) -> SignerError {
    switch status {
    case errSecInteractionNotAllowed: return .Locked
    case errSecAuthFailed: return .AuthenticationFailed
    case errSecUserCanceled: return .Cancelled
    case errSecItemNotFound: return .Unavailable
    default: return .Other(detail: "\(operation) failed: OSStatus \(status)")
    }
}

/// The `SignerError` for a `CFError`/`NSError` from a Secure Enclave key operation
/// (`SecKeyCreateSignature`, `SecKeyCreateRandomKey`), given its domain and code: the
/// Security framework reports `OSStatus` codes (`NSOSStatusErrorDomain`), the prompt reports
/// `LAError` codes, and the enclave's token reports `TKError` codes.
/// - LocalAuthentication: cancelled by the person, the app or the system, or the person chose
///   the fallback button → `.Cancelled`; wrong face / finger / passcode, or biometry locked out
///   after too many tries → `.AuthenticationFailed`; the prompt may not be shown now (app in
///   the background) → `.Locked` (retry when the app is in front); no passcode set, biometry
///   not available or not enrolled (the key cannot be used on this phone any more) →
///   `.Unavailable`.
/// - CryptoTokenKit: cancelled → `.Cancelled`; authentication failed or needed →
///   `.AuthenticationFailed`; key or token not found → `.Unavailable`.
/// - Anything else → `.Other` naming the operation, domain and code (never key material).
func signerError(domain: String, code: Int, operation: String) -> SignerError {
    switch domain {
    case NSOSStatusErrorDomain:
        return signerError(status: OSStatus(truncatingIfNeeded: code), operation: operation)
    case LAErrorDomain:
        switch LAError.Code(rawValue: code) {
        case .userCancel?, .appCancel?, .systemCancel?, .userFallback?: return .Cancelled
        case .authenticationFailed?, .biometryLockout?: return .AuthenticationFailed
        case .notInteractive?: return .Locked
        case .passcodeNotSet?, .biometryNotAvailable?, .biometryNotEnrolled?: return .Unavailable
        default: break
        }
    case TKError.errorDomain:
        switch TKError.Code(rawValue: code) {
        case .canceledByUser?: return .Cancelled
        case .authenticationFailed?, .authenticationNeeded?: return .AuthenticationFailed
        case .objectNotFound?, .tokenNotFound?: return .Unavailable
        default: break
        }
    default:
        break
    }
    return .Other(detail: "\(operation) failed: \(domain) \(code)")
}

/// `signerError(domain:code:operation:)` for the `CFError` a Security call handed back (nil:
/// the call failed without saying why).
func signerError(_ error: Unmanaged<CFError>?, operation: String) -> SignerError {
    guard let error = error?.takeRetainedValue() else {
        return .Other(detail: "\(operation) failed without an error")
    }
    return signerError(domain: CFErrorGetDomain(error) as String, code: CFErrorGetCode(error), operation: operation)
}

/// The `SecureStoreError` for a Keychain `OSStatus` on a secret: not unlocked since boot
/// (`errSecInteractionNotAllowed`) → `.Locked`, so the core waits instead of signing the
/// person out; anything else → `.Failed` naming the operation and status, never the secret.
func secureStoreError(status: OSStatus, operation: String) -> SecureStoreError {
    if status == errSecInteractionNotAllowed { return .Locked }
    return .Failed(detail: "\(operation) failed: OSStatus \(status)")
}
