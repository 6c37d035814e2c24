// One call that builds Keyway with the Apple parts, and the log sink into os_log.
import Foundation
import os

/// Builds `Keyway` for an app: CoreBluetooth radio, Keychain store, Secure Enclave signer, os_log.
public enum KeywayApple {
    /// Creates the app's single `Keyway`. `config.cachePath` defaults to a file in Application
    /// Support. Pass `logLevel: nil` to leave the log sink alone.
    public static func make(
        config: KeywayConfig, restoreIdentifier: String = "app.keyway.central", logLevel: LogLevel? = .info
    ) throws -> Keyway {
        if let logLevel { setLogSink(sink: OSLogSink(), level: logLevel) }
        var config = config
        if config.cachePath == nil {
            let support = try FileManager.default.url(
                for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true
            )
            config.cachePath = support.appendingPathComponent("keyway.sqlite").path
        }
        return try Keyway(
            config: config,
            radio: CoreBluetoothTransport(restoreIdentifier: restoreIdentifier),
            secureStore: KeychainStore(),
            signer: SecureEnclaveSigner.isAvailable ? SecureEnclaveSigner() : nil
        )
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
