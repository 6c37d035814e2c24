// Background refresh and pushes on iOS: a BGAppRefreshTask that keeps keys and credentials
// current while the app is closed, and the bridge from a received push to handlePush.
#if canImport(BackgroundTasks) && os(iOS)
import BackgroundTasks
import Foundation
import UIKit

/// Keyway's background work on iOS.
///
/// In Info.plist: `UIBackgroundModes` with `fetch` and `remote-notification`, and
/// `BGTaskSchedulerPermittedIdentifiers` with `KeywayBackground.refreshTaskIdentifier`.
/// iOS decides when a refresh task runs (it learns from how the app is used; a rarely
/// opened app may run rarely) and gives it about 30 seconds; a force-quit app gets neither
/// refresh tasks nor background pushes until it is opened again.
public enum KeywayBackground {
    /// The task identifier to list in `BGTaskSchedulerPermittedIdentifiers`.
    public static let refreshTaskIdentifier = "app.keyway.refresh"

    /// Every 4 hours at the earliest: credentials last 72 hours and are renewed in their
    /// last 24, so even a stretched schedule renews them before they lapse.
    public static let refreshInterval: TimeInterval = 4 * 60 * 60

    /// Registers the refresh task. Call it before `application(_:didFinishLaunchingWithOptions:)`
    /// returns (iOS requires it then), with how to reach the app's `Keyway`.
    public static func registerRefresh(keyway: @escaping @Sendable () -> Keyway?) {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: refreshTaskIdentifier, using: nil) { task in
            guard let task = task as? BGAppRefreshTask else {
                task.setTaskCompleted(success: false)
                return
            }
            run(task, keyway: keyway())
        }
    }

    /// Asks iOS for the next refresh (call it after registering, and when the app goes to
    /// the background). Throws when the app is not allowed background refresh.
    public static func scheduleRefresh() throws {
        let request = BGAppRefreshTaskRequest(identifier: refreshTaskIdentifier)
        request.earliestBeginDate = Date(timeIntervalSinceNow: refreshInterval)
        try BGTaskScheduler.shared.submit(request)
    }

    private static func run(_ task: BGAppRefreshTask, keyway: Keyway?) {
        try? scheduleRefresh()
        guard let keyway else {
            task.setTaskCompleted(success: false)
            return
        }
        let work = Task {
            do {
                _ = try await keyway.refresh()
                task.setTaskCompleted(success: true)
            } catch {
                task.setTaskCompleted(success: false)
            }
        }
        task.expirationHandler = { work.cancel() }
    }

    /// Hands a remote notification to Keyway. Call it from
    /// `application(_:didReceiveRemoteNotification:fetchCompletionHandler:)` and pass the
    /// result to the completion handler; a push that is not Keyway's gives `nil` (handle it
    /// yourself).
    public static func handlePush(_ keyway: Keyway, userInfo: [AnyHashable: Any]) async -> UIBackgroundFetchResult? {
        let object = Dictionary(uniqueKeysWithValues: userInfo.compactMap { key, value in
            (key as? String).map { ($0, value) }
        })
        guard JSONSerialization.isValidJSONObject(object),
              let data = try? JSONSerialization.data(withJSONObject: object),
              let payload = String(data: data, encoding: .utf8)
        else { return .failed }
        do {
            switch try await keyway.handlePush(payload: payload) {
            case .notKeyway:
                return nil
            case .refreshed(let summary):
                let changed = summary.keysChanged + summary.keysRevoked + summary.credentialsRenewed + summary.updatesFetched
                return changed > 0 ? .newData : .noData
            case .outOfTime:
                return .failed
            }
        } catch {
            return .failed
        }
    }

    /// Sends the device token iOS gave the app to the service (from
    /// `application(_:didRegisterForRemoteNotificationsWithDeviceToken:)`).
    public static func registerPushToken(_ keyway: Keyway, deviceToken: Data) async throws {
        let hex = deviceToken.map { String(format: "%02x", $0) }.joined()
        try await keyway.registerPushToken(platform: .apns, token: hex)
    }
}
#endif
