// DER → raw r‖s on Apple platforms, with the vector the Android shell's test uses (OpenSSL-made).
@testable import KeywayCore
import CryptoKit
import XCTest

private func hex(_ text: String) -> Data {
    var bytes = [UInt8]()
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return Data(bytes)
}

final class SignaturesTests: XCTestCase {
    // r has 33 DER bytes (a sign zero), s only 31.
    let der = hex(
        "3044022100e0c6b6e773ee49d6bb67378697484bce8f04640f8be8ac1ae582c3473b26b0f3021f0579b78ac2e3e9"
            + "0bb421980702ce16d68c6017d91dcc8ed2d4ddbde81ab266"
    )
    let raw = hex(
        "e0c6b6e773ee49d6bb67378697484bce8f04640f8be8ac1ae582c3473b26b0f3"
            + "000579b78ac2e3e90bb421980702ce16d68c6017d91dcc8ed2d4ddbde81ab266"
    )
    let point = hex(
        "045787030561cfd6571dac0bb8ca4d2a9b18bfa73375af798c4fee46f9e8e03ff1d072d38b04edb8188ec7bcd2"
            + "7e8098f2ddfe731ec5373f5c082b2908c5e0d4d8"
    )

    func testEnclaveSignatureWithPaddedRAndShortSBecomesTheBytesTheLockChecks() throws {
        XCTAssertEqual(try rawSignature(fromDER: der), raw)
        let key = try P256.Signing.PublicKey(x963Representation: point)
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: rawSignature(fromDER: der))
        XCTAssertTrue(key.isValidSignature(signature, for: Data("keyway".utf8)))
    }

    func testEveryCryptoKitSignatureConvertsToItsRawForm() throws {
        let key = P256.Signing.PrivateKey()
        for i in 0..<200 {
            let signature = try key.signature(for: Data("unlock \(i)".utf8))
            XCTAssertEqual(try rawSignature(fromDER: signature.derRepresentation), signature.rawRepresentation)
        }
    }

    func testDamagedDERIsRefusedNotMisread() {
        XCTAssertThrowsError(try rawSignature(fromDER: der.dropLast()))
        XCTAssertThrowsError(try rawSignature(fromDER: der + Data([0])))
        XCTAssertThrowsError(try rawSignature(fromDER: Data()))
    }
}
