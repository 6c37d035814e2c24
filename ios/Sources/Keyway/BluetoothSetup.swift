// What the app's Info.plist must declare before CoreBluetooth may be touched. Read from the
// bundle's dictionary by pure functions, so a Mac's `swift test` checks them on plain
// dictionaries.
import Foundation

/// The Info.plist facts the CoreBluetooth transport depends on. Without
/// `NSBluetoothAlwaysUsageDescription` iOS kills the app the moment a central manager is
/// created; without the `bluetooth-central` background mode, a central manager created with a
/// restore identifier throws `NSInternalInconsistencyException`. The transport checks both
/// first and reports the mistake instead of crashing.
struct BluetoothSetup: Equatable {
    /// `NSBluetoothAlwaysUsageDescription` is present and not empty.
    let hasUsageDescription: Bool
    /// `UIBackgroundModes` lists `bluetooth-central`.
    let hasCentralBackgroundMode: Bool

    /// Reads the two facts from an Info.plist dictionary (`Bundle.main.infoDictionary`).
    init(infoDictionary: [String: Any]) {
        let usage = infoDictionary["NSBluetoothAlwaysUsageDescription"] as? String
        hasUsageDescription = !(usage ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        let modes = infoDictionary["UIBackgroundModes"] as? [String] ?? []
        hasCentralBackgroundMode = modes.contains("bluetooth-central")
    }

    /// The app's own Info.plist.
    static var current: BluetoothSetup {
        BluetoothSetup(infoDictionary: Bundle.main.infoDictionary ?? [:])
    }

    /// The restore identifier to give CoreBluetooth: the app's, when it asked for restoration
    /// and declared the background mode that permits it; nil otherwise (restoration off, which
    /// is safe; the caller logs why).
    func restoreIdentifier(requested: String?) -> String? {
        guard let requested, !requested.isEmpty, hasCentralBackgroundMode else { return nil }
        return requested
    }
}
