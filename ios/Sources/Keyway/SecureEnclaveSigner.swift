// Keyway's device key on Apple platforms: a P-256 key created inside the Secure Enclave.
import CryptoKit
import Foundation
import Security

/// `DeviceSigner` over a Secure Enclave P-256 key (`kSecAttrTokenIDSecureEnclave`): the
/// private key never leaves the enclave and is usable after the first unlock since boot.
/// Returns the public key as the 65-byte uncompressed point and signatures as raw `r ‖ s`,
/// converted from the enclave's DER. `KeywayApple.make` passes it only where the device has
/// a Secure Enclave (`SecureEnclave.isAvailable`); elsewhere the core keeps a software key.
///
/// Failures map to the core's `SignerError` in `SecurityErrors.swift`: a phone not unlocked
/// since boot is `.Locked`, a failed Face ID / Touch ID / passcode is `.AuthenticationFailed`,
/// a closed prompt `.Cancelled`, a lost or invalidated key `.Unavailable`.
public final class SecureEnclaveSigner: DeviceSigner, @unchecked Sendable {
    /// Whether each signature (each unlock) needs the person: never, or Face ID / Touch ID
    /// with the passcode as fallback. Set when the key is created; changing it later needs a
    /// new key (sign out and in).
    public enum Presence: Sendable {
        /// The key signs whenever the phone has been unlocked once since boot (the default:
        /// the phone's own lock is the person's proof, and unlocks work from the background).
        case notRequired
        /// Each signature shows the system's Face ID / Touch ID prompt (passcode fallback).
        /// The app's Info.plist needs `NSFaceIDUsageDescription`; an unlock from the
        /// background fails with `.Locked` because the prompt cannot be shown there.
        case biometryOrPasscode
    }

    private let tag: Data
    private let presence: Presence

    /// `tag` names the key in the Keychain; `presence` says whether signing prompts.
    public init(tag: String = "app.keyway.device", presence: Presence = .notRequired) {
        self.tag = Data(tag.utf8)
        self.presence = presence
    }

    /// Whether this device can hold the key (false in the simulator and on older Macs).
    public static var isAvailable: Bool { SecureEnclave.isAvailable }

    private var lookup: [String: Any] {
        [
            kSecClass as String: kSecClassKey,
            kSecAttrApplicationTag as String: tag,
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrTokenID as String: kSecAttrTokenIDSecureEnclave,
        ]
    }

    private func existingKey() throws -> SecKey? {
        var query = lookup
        query[kSecReturnRef as String] = true
        var found: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &found)
        switch status {
        case errSecSuccess:
            guard let found, CFGetTypeID(found) == SecKeyGetTypeID() else {
                throw SignerError.Other(detail: "the Keychain returned no key")
            }
            return (found as! SecKey) // swiftlint:disable:this force_cast (type checked above)
        case errSecItemNotFound:
            return nil
        default:
            // errSecInteractionNotAllowed (locked since boot) becomes `.Locked`, not
            // `.Unavailable`, which would send the person to sign in again.
            throw signerError(status: status, operation: "key lookup")
        }
    }

    private func key() throws -> SecKey {
        if let key = try existingKey() { return key }
        var flags: SecAccessControlCreateFlags = .privateKeyUsage
        if presence == .biometryOrPasscode { flags.insert(.userPresence) }
        var accessError: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            nil, kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly, flags, &accessError
        ) else {
            throw signerError(accessError, operation: "access control")
        }
        let attributes: [String: Any] = [
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeySizeInBits as String: 256,
            kSecAttrTokenID as String: kSecAttrTokenIDSecureEnclave,
            kSecPrivateKeyAttrs as String: [
                kSecAttrIsPermanent as String: true,
                kSecAttrApplicationTag as String: tag,
                kSecAttrAccessControl as String: access,
            ] as [String: Any],
        ]
        var createError: Unmanaged<CFError>?
        guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &createError) else {
            throw signerError(createError, operation: "key creation")
        }
        return key
    }

    public func publicKey() async throws -> Data {
        guard let publicKey = SecKeyCopyPublicKey(try key()) else {
            throw SignerError.Other(detail: "no public key")
        }
        var error: Unmanaged<CFError>?
        // For EC keys this is the X9.63 uncompressed point: 04 ‖ x ‖ y.
        guard let point = SecKeyCopyExternalRepresentation(publicKey, &error) as Data? else {
            throw signerError(error, operation: "public key export")
        }
        return point
    }

    public func sign(message: Data) async throws -> Data {
        let key = try key()
        var error: Unmanaged<CFError>?
        guard let der = SecKeyCreateSignature(key, .ecdsaSignatureMessageX962SHA256, message as CFData, &error) as Data?
        else {
            throw signerError(error, operation: "signing")
        }
        do {
            return try rawSignature(fromDER: der)
        } catch let malformed as MalformedSignature {
            throw SignerError.Other(detail: "the enclave's signature: \(malformed.what)")
        }
    }

    public func deleteKey() async throws {
        let status = SecItemDelete(lookup as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw signerError(status: status, operation: "key deletion")
        }
    }
}
