// An app that forgot an Info.plist key gets restoration off or a clear log, never a crash at
// launch (run with `swift test` on a Mac).
@testable import KeywayCore
import XCTest

final class BluetoothSetupTests: XCTestCase {
    private let complete: [String: Any] = [
        "NSBluetoothAlwaysUsageDescription": "Opens the doors you have keys for.",
        "UIBackgroundModes": ["bluetooth-central"],
    ]

    func testRestorationStaysOffUnlessTheAppAsksForIt() {
        XCTAssertNil(BluetoothSetup(infoDictionary: complete).restoreIdentifier(requested: nil))
        XCTAssertNil(BluetoothSetup(infoDictionary: complete).restoreIdentifier(requested: ""))
    }

    func testRestorationIsOnWhenAskedForAndTheBackgroundModeIsDeclared() {
        XCTAssertEqual(
            BluetoothSetup(infoDictionary: complete).restoreIdentifier(requested: "app.example.central"),
            "app.example.central"
        )
    }

    func testRestorationWithoutTheBackgroundModeIsDroppedInsteadOfCrashingAtLaunch() {
        let noModes: [String: Any] = ["NSBluetoothAlwaysUsageDescription": "Opens doors."]
        XCTAssertNil(BluetoothSetup(infoDictionary: noModes).restoreIdentifier(requested: "app.example.central"))
        let otherModes: [String: Any] = ["UIBackgroundModes": ["audio", "bluetooth-peripheral"]]
        XCTAssertFalse(BluetoothSetup(infoDictionary: otherModes).hasCentralBackgroundMode)
    }

    func testAMissingOrEmptyUsageDescriptionIsNoticed() {
        XCTAssertTrue(BluetoothSetup(infoDictionary: complete).hasUsageDescription)
        XCTAssertFalse(BluetoothSetup(infoDictionary: [:]).hasUsageDescription)
        XCTAssertFalse(BluetoothSetup(infoDictionary: ["NSBluetoothAlwaysUsageDescription": "  "]).hasUsageDescription)
    }
}
