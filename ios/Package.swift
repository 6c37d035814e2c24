// swift-tools-version:5.9
// Keyway for iOS and macOS: the Rust core as an XCFramework (`KeywayFFI`, built by
// build-xcframework.sh) and the Swift module `KeywayCore`: the generated bindings
// (Sources/Keyway/Generated, also written by the script) plus the platform shell.
import PackageDescription

let package = Package(
    name: "Keyway",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "KeywayCore", targets: ["KeywayCore"]),
    ],
    targets: [
        .binaryTarget(name: "KeywayFFI", path: "KeywayFFI.xcframework"),
        .target(
            name: "KeywayCore",
            dependencies: ["KeywayFFI"],
            path: "Sources/Keyway",
            linkerSettings: [
                .linkedFramework("CoreBluetooth"),
                .linkedFramework("CryptoTokenKit"),
                .linkedFramework("LocalAuthentication"),
                .linkedFramework("Security"),
                .linkedFramework("SystemConfiguration"),
            ]
        ),
        // `swift test` on a Mac, after build-xcframework.sh.
        .testTarget(name: "KeywayTests", dependencies: ["KeywayCore"], path: "Tests/KeywayTests"),
    ]
)
