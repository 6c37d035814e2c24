// Keyway's device key on Apple platforms: a P-256 key created inside the Secure Enclave.
import CryptoKit
import Foundation
import Security

/// `DeviceSigner` over a Secure Enclave P-256 key (`kSecAttrTokenIDSecureEnclave`): the
/// private key never leaves the enclave and is usable after the first unlock since boot.
/// Returns the public key as the 65-byte uncompressed point and signatures as raw `r ‖ s`,
/// converted from the enclave's DER. `KeywayApple.make` passes it only where the device has
/// a Secure Enclave (`SecureEnclave.isAvailable`); elsewhere the core keeps a software key.
public final class SecureEnclaveSigner: DeviceSigner, @unchecked Sendable {
    private let tag: Data

    /// `tag` names the key in the Keychain.
    public init(tag: String = "app.keyway.device") {
        self.tag = Data(tag.utf8)
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
        case errSecInteractionNotAllowed:
            // Locked since boot: not `Unavailable`, which would send the person to sign in again.
            throw SignerError.Other(detail: "the device is locked (OSStatus \(status))")
        default:
            throw SignerError.Other(detail: "key lookup failed: OSStatus \(status)")
        }
    }

    private func key() throws -> SecKey {
        if let key = try existingKey() { return key }
        var accessError: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            nil, kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly, .privateKeyUsage, &accessError
        ) else {
            throw SignerError.Other(detail: "access control: \(describe(accessError))")
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
            throw SignerError.Other(detail: "key creation: \(describe(createError))")
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
            throw SignerError.Other(detail: "public key export: \(describe(error))")
        }
        return point
    }

    public func sign(message: Data) async throws -> Data {
        let key = try key()
        var error: Unmanaged<CFError>?
        guard let der = SecKeyCreateSignature(key, .ecdsaSignatureMessageX962SHA256, message as CFData, &error) as Data?
        else {
            let status = error.map { OSStatus(truncatingIfNeeded: CFErrorGetCode($0.takeUnretainedValue())) }
            switch status {
            case errSecUserCanceled?: throw SignerError.Cancelled
            case errSecItemNotFound?, errSecAuthFailed?: throw SignerError.Unavailable
            default: throw SignerError.Other(detail: "signing: \(describe(error))")
            }
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
            throw SignerError.Other(detail: "key deletion failed: OSStatus \(status)")
        }
    }
}

/// A CFError's domain and code, for logs (its description may name the key's label, never key material).
private func describe(_ error: Unmanaged<CFError>?) -> String {
    guard let error = error?.takeRetainedValue() else { return "unknown error" }
    return "\(CFErrorGetDomain(error) as String) \(CFErrorGetCode(error))"
}
