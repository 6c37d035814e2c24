// The ECDSA signature format change between the Secure Enclave and the core.
import Foundation

/// A DER signature that is not an ECDSA P-256 `SEQUENCE { INTEGER r, INTEGER s }`.
struct MalformedSignature: Error {
    /// What is wrong, for logs.
    let what: String
}

/// Converts an ECDSA P-256 signature from DER (what `SecKeyCreateSignature` returns for
/// `.ecdsaSignatureMessageX962SHA256`) to raw `r ‖ s`, 64 bytes, each half big-endian and
/// left-padded with zeros, as `DeviceSigner.sign` must return. Rejects anything else.
func rawSignature(fromDER der: Data) throws -> Data {
    let bytes = [UInt8](der)
    var at = 0

    func byte(_ what: String) throws -> Int {
        guard at < bytes.count else { throw MalformedSignature(what: "ends before \(what)") }
        defer { at += 1 }
        return Int(bytes[at])
    }

    func length(_ what: String) throws -> Int {
        let first = try byte("\(what) length")
        if first < 0x80 { return first }
        // P-256 signatures are at most 72 bytes: only the one-byte long form can occur.
        guard first == 0x81 else { throw MalformedSignature(what: "\(what) length form") }
        let long = try byte("\(what) length")
        guard long >= 0x80 else { throw MalformedSignature(what: "\(what) length not minimal") }
        return long
    }

    func scalar(_ what: String) throws -> [UInt8] {
        guard try byte("\(what) tag") == 0x02 else { throw MalformedSignature(what: "\(what) is not an INTEGER") }
        let len = try length(what)
        guard len > 0, at + len <= bytes.count else { throw MalformedSignature(what: "\(what) length \(len)") }
        var value = Array(bytes[at..<at + len])
        at += len
        guard value[0] & 0x80 == 0 else { throw MalformedSignature(what: "\(what) is negative") }
        if value.count > 1 && value[0] == 0 {
            guard value[1] & 0x80 != 0 else { throw MalformedSignature(what: "\(what) has a needless zero") }
            value.removeFirst()
        }
        guard value.count <= 32 else { throw MalformedSignature(what: "\(what) is longer than 32 bytes") }
        return [UInt8](repeating: 0, count: 32 - value.count) + value
    }

    guard try byte("sequence tag") == 0x30 else { throw MalformedSignature(what: "not a SEQUENCE") }
    let body = try length("sequence")
    guard at + body == bytes.count else { throw MalformedSignature(what: "sequence length \(body)") }
    let r = try scalar("r")
    let s = try scalar("s")
    guard at == bytes.count else { throw MalformedSignature(what: "bytes after s") }
    return Data(r + s)
}
