// Keyway's secrets on Apple platforms: generic-password items in the Keychain.
import Foundation
import Security

/// `SecureStore` over the Keychain: one `kSecClassGenericPassword` item per name under one
/// service, readable after the first unlock since boot and never leaving this device
/// (`kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`: no backup, no iCloud), so unlocks
/// work from the background. Errors carry the operation and the OSStatus, never the secret.
public final class KeychainStore: SecureStore, @unchecked Sendable {
    private let service: String
    private let accessGroup: String?

    /// `service` names the items; `accessGroup` shares them with an app extension.
    public init(service: String = "app.keyway.secrets", accessGroup: String? = nil) {
        self.service = service
        self.accessGroup = accessGroup
    }

    private func query(_ name: String) -> [String: Any] {
        var query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: name,
            kSecUseDataProtectionKeychain as String: true,
        ]
        if let group = accessGroup { query[kSecAttrAccessGroup as String] = group }
        return query
    }

    private func failure(_ operation: String, _ status: OSStatus) -> SecureStoreError {
        // errSecInteractionNotAllowed (not unlocked since boot) is `.Locked` (SecurityErrors.swift).
        secureStoreError(status: status, operation: operation)
    }

    public func get(name: String) throws -> Data? {
        var search = query(name)
        search[kSecReturnData as String] = true
        search[kSecMatchLimit as String] = kSecMatchLimitOne
        var found: CFTypeRef?
        let status = SecItemCopyMatching(search as CFDictionary, &found)
        switch status {
        case errSecSuccess:
            guard let data = found as? Data else { throw SecureStoreError.Failed(detail: "get returned no data") }
            return data
        case errSecItemNotFound:
            return nil
        default:
            throw failure("get", status)
        }
    }

    public func set(name: String, secret: Data) throws {
        let attributes: [String: Any] = [
            kSecValueData as String: secret,
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
        ]
        let updated = SecItemUpdate(query(name) as CFDictionary, attributes as CFDictionary)
        if updated == errSecSuccess { return }
        guard updated == errSecItemNotFound else { throw failure("set", updated) }
        let added = SecItemAdd(query(name).merging(attributes) { _, new in new } as CFDictionary, nil)
        guard added == errSecSuccess else { throw failure("set", added) }
    }

    public func delete(name: String) throws {
        let status = SecItemDelete(query(name) as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else { throw failure("delete", status) }
    }
}
