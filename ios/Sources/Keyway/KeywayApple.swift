// One call that builds Keyway with the Apple parts, and the log sink into os_log.
import Foundation
import os

/// Builds `Keyway` for an app: CoreBluetooth radio, Keychain store, Secure Enclave signer, os_log.
public enum KeywayApple {
    /// Creates the app's single `Keyway`; call it once, at launch (e.g. in the `App`'s
    /// initialiser), and keep the result. Nothing here touches Bluetooth: the permission
    /// prompt appears at the first unlock or readiness check. CoreBluetooth's state changes
    /// reach `Keyway.platformChanged()`, so `subscribeReadiness` follows them.
    /// `config.cachePath` defaults to a file in Application Support. It reads the disk and
    /// the Keychain on the calling thread; from the main actor, prefer `open`.
    ///
    /// - `bluetoothRestoreIdentifier`: turns CoreBluetooth state restoration on (iOS), so iOS
    ///   can relaunch the app for a connection in progress. It needs the `bluetooth-central`
    ///   background mode in Info.plist (without it restoration stays off and the reason is
    ///   logged), and must be the same string at every launch. Nil (the default) leaves it off.
    /// - `signerPresence`: whether each signature asks for Face ID / Touch ID / passcode
    ///   (`NSFaceIDUsageDescription` then goes in Info.plist).
    /// - `logLevel`: the core's log level into os_log; nil leaves the log sink alone.
    public static func make(
        config: KeywayConfig,
        bluetoothRestoreIdentifier: String? = nil,
        signerPresence: SecureEnclaveSigner.Presence = .notRequired,
        logLevel: LogLevel? = .info
    ) throws -> Keyway {
        let parts = try Parts(config, bluetoothRestoreIdentifier, signerPresence, logLevel)
        return parts.wire(try Keyway(config: parts.config, radio: parts.radio, secureStore: parts.store, signer: parts.signer))
    }

    /// As `make`, but the key cache and the stored session are opened on Keyway's own
    /// threads: `try await KeywayApple.open(config: …)` from the main actor never blocks it.
    public static func open(
        config: KeywayConfig,
        bluetoothRestoreIdentifier: String? = nil,
        signerPresence: SecureEnclaveSigner.Presence = .notRequired,
        logLevel: LogLevel? = .info
    ) async throws -> Keyway {
        let parts = try Parts(config, bluetoothRestoreIdentifier, signerPresence, logLevel)
        return parts.wire(try await Keyway.open(config: parts.config, radio: parts.radio, secureStore: parts.store, signer: parts.signer))
    }

    /// The Apple parts for one `Keyway`.
    private struct Parts {
        let config: KeywayConfig
        let radio: CoreBluetoothTransport
        let store: KeychainStore
        let signer: SecureEnclaveSigner?

        init(_ config: KeywayConfig, _ restoreIdentifier: String?, _ presence: SecureEnclaveSigner.Presence, _ logLevel: LogLevel?) throws {
            if let logLevel { setLogSink(sink: OSLogSink(), level: logLevel) }
            var config = config
            if config.cachePath == nil {
                let support = try FileManager.default.url(
                    for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true
                )
                config.cachePath = support.appendingPathComponent("keyway.sqlite").path
            }
            self.config = config
            radio = CoreBluetoothTransport(restoreIdentifier: restoreIdentifier)
            store = KeychainStore()
            signer = SecureEnclaveSigner.isAvailable ? SecureEnclaveSigner(presence: presence) : nil
        }

        /// Points CoreBluetooth's state changes at `keyway` (weakly: the radio must not keep it alive).
        func wire(_ keyway: Keyway) -> Keyway {
            radio.onPlatformChanged = { [weak keyway] in keyway?.platformChanged() }
            return keyway
        }
    }
}

/// The core's log lines into the unified log, one category per Rust module (never holding secrets).
public final class OSLogSink: LogSink, @unchecked Sendable {
    public init() {}

    public func log(entry: LogEntry) {
        let logger = Logger(subsystem: "app.keyway", category: entry.target)
        switch entry.level {
        case .error: logger.error("\(entry.message, privacy: .public)")
        case .warn: logger.warning("\(entry.message, privacy: .public)")
        case .info: logger.info("\(entry.message, privacy: .public)")
        case .debug, .trace: logger.debug("\(entry.message, privacy: .public)")
        }
    }
}
