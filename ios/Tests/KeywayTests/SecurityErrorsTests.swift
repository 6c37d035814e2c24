// What a person meets when the Keychain or the Secure Enclave says no: each platform status
// becomes the core error whose screen fits (run with `swift test` on a Mac; no enclave needed).
@testable import KeywayCore
import CryptoTokenKit
import Foundation
import LocalAuthentication
import Security
import XCTest

final class SecurityErrorsTests: XCTestCase {
    func testAPhoneNotUnlockedSinceBootIsLockedNotASignOut() {
        XCTAssertEqual(signerError(status: errSecInteractionNotAllowed, operation: "key lookup"), .Locked)
        XCTAssertEqual(
            signerError(domain: NSOSStatusErrorDomain, code: Int(errSecInteractionNotAllowed), operation: "signing"),
            .Locked
        )
    }

    func testAFailedFaceIdOrPasscodeIsAnAuthenticationFailureNotASignOut() {
        XCTAssertEqual(signerError(status: errSecAuthFailed, operation: "signing"), .AuthenticationFailed)
        XCTAssertEqual(
            signerError(domain: LAErrorDomain, code: LAError.Code.authenticationFailed.rawValue, operation: "signing"),
            .AuthenticationFailed
        )
        XCTAssertEqual(
            signerError(domain: LAErrorDomain, code: LAError.Code.biometryLockout.rawValue, operation: "signing"),
            .AuthenticationFailed
        )
        XCTAssertEqual(
            signerError(domain: TKError.errorDomain, code: TKError.Code.authenticationFailed.rawValue, operation: "signing"),
            .AuthenticationFailed
        )
    }

    func testClosingThePromptIsCancelledWhoeverClosedIt() {
        XCTAssertEqual(signerError(status: errSecUserCanceled, operation: "signing"), .Cancelled)
        let cancels: [LAError.Code] = [.userCancel, .appCancel, .systemCancel, .userFallback]
        for code in cancels {
            XCTAssertEqual(signerError(domain: LAErrorDomain, code: code.rawValue, operation: "signing"), .Cancelled)
        }
        XCTAssertEqual(
            signerError(domain: TKError.errorDomain, code: TKError.Code.canceledByUser.rawValue, operation: "signing"),
            .Cancelled
        )
    }

    func testAPromptThatCannotBeShownInTheBackgroundWaitsLikeALockedPhone() {
        XCTAssertEqual(
            signerError(domain: LAErrorDomain, code: LAError.Code.notInteractive.rawValue, operation: "signing"),
            .Locked
        )
    }

    func testAKeyThatIsGoneOrInvalidatedIsUnavailable() {
        XCTAssertEqual(signerError(status: errSecItemNotFound, operation: "signing"), .Unavailable)
        let gone: [LAError.Code] = [.passcodeNotSet, .biometryNotAvailable, .biometryNotEnrolled]
        for code in gone {
            XCTAssertEqual(signerError(domain: LAErrorDomain, code: code.rawValue, operation: "signing"), .Unavailable)
        }
        XCTAssertEqual(
            signerError(domain: TKError.errorDomain, code: TKError.Code.objectNotFound.rawValue, operation: "signing"),
            .Unavailable
        )
    }

    func testAnythingElseNamesTheOperationAndCodeForSupport() {
        XCTAssertEqual(
            signerError(status: errSecDuplicateItem, operation: "key creation"),
            .Other(detail: "key creation failed: OSStatus \(errSecDuplicateItem)")
        )
        XCTAssertEqual(
            signerError(domain: "SomeOtherDomain", code: 7, operation: "signing"),
            .Other(detail: "signing failed: SomeOtherDomain 7")
        )
        XCTAssertEqual(
            signerError(domain: LAErrorDomain, code: LAError.Code.invalidContext.rawValue, operation: "signing"),
            .Other(detail: "signing failed: \(LAErrorDomain) \(LAError.Code.invalidContext.rawValue)")
        )
    }

    func testTheCFErrorFromASecurityCallIsReadByDomainAndCode() {
        let locked = CFErrorCreate(nil, kCFErrorDomainOSStatus, CFIndex(errSecInteractionNotAllowed), nil)
        XCTAssertEqual(signerError(locked.map { Unmanaged.passRetained($0) }, operation: "signing"), .Locked)
        XCTAssertEqual(signerError(nil, operation: "signing"), .Other(detail: "signing failed without an error"))
    }

    func testALockedKeychainKeepsTheSessionAndOtherStatusesNameTheOperation() {
        XCTAssertEqual(secureStoreError(status: errSecInteractionNotAllowed, operation: "get"), .Locked)
        XCTAssertEqual(
            secureStoreError(status: errSecMissingEntitlement, operation: "set"),
            .Failed(detail: "set failed: OSStatus \(errSecMissingEntitlement)")
        )
    }
}
