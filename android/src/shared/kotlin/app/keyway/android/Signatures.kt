// The ECDSA signature format change between Android Keystore and the core. Pure Kotlin:
// compiled and tested on the JVM by the test command (android/check-shared.sh).
package app.keyway.android

/** Length of one P-256 scalar (r or s) in the raw form the core expects. */
private const val SCALAR_LEN = 32

/** A DER signature that is not an ECDSA P-256 `SEQUENCE { INTEGER r, INTEGER s }`. */
class MalformedSignatureException(what: String) : IllegalArgumentException("malformed DER signature: $what")

/**
 * Converts an ECDSA P-256 signature from DER (what `java.security.Signature` with
 * "SHA256withECDSA" returns on Android) to raw `r ‖ s`, 64 bytes, each half big-endian and
 * left-padded with zeros (what `DeviceSigner.sign` must return). Rejects anything that is
 * not exactly one DER sequence of two positive integers of at most 32 significant bytes.
 */
fun derToRawSignature(der: ByteArray): ByteArray {
    var at = 0
    fun byte(what: String): Int {
        if (at >= der.size) throw MalformedSignatureException("ends before $what")
        return der[at++].toInt() and 0xff
    }
    fun length(what: String): Int {
        val first = byte("$what length")
        if (first < 0x80) return first
        // P-256 signatures are at most 72 bytes: only the one-byte long form can occur.
        if (first != 0x81) throw MalformedSignatureException("$what length form 0x${first.toString(16)}")
        val len = byte("$what length")
        if (len < 0x80) throw MalformedSignatureException("$what length not minimally encoded")
        return len
    }
    fun scalar(what: String, into: ByteArray, offset: Int) {
        if (byte("$what tag") != 0x02) throw MalformedSignatureException("$what is not an INTEGER")
        val len = length(what)
        if (len == 0 || at + len > der.size) throw MalformedSignatureException("$what length $len")
        var start = at
        var significant = len
        if (der[start].toInt() and 0x80 != 0) throw MalformedSignatureException("$what is negative")
        if (der[start].toInt() == 0 && len > 1) {
            if (der[start + 1].toInt() and 0x80 == 0) throw MalformedSignatureException("$what has a needless zero")
            start++
            significant--
        }
        if (significant > SCALAR_LEN) throw MalformedSignatureException("$what is longer than 32 bytes")
        System.arraycopy(der, start, into, offset + SCALAR_LEN - significant, significant)
        at += len
    }

    if (byte("sequence tag") != 0x30) throw MalformedSignatureException("not a SEQUENCE")
    val body = length("sequence")
    if (at + body != der.size) throw MalformedSignatureException("sequence length $body of ${der.size - at} bytes")
    val raw = ByteArray(2 * SCALAR_LEN)
    scalar("r", raw, 0)
    scalar("s", raw, SCALAR_LEN)
    if (at != der.size) throw MalformedSignatureException("bytes after s")
    return raw
}

/**
 * The uncompressed SEC1 point (65 bytes, `04 ‖ x ‖ y`) from an X.509 SubjectPublicKeyInfo
 * of a P-256 key (what `PublicKey.getEncoded()` returns), which always ends with it.
 */
fun sec1FromSubjectPublicKeyInfo(spki: ByteArray): ByteArray {
    // SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING { 00 04 x y } }: 91 bytes.
    if (spki.size != 91 || spki[spki.size - 65].toInt() != 0x04 || spki[spki.size - 66].toInt() != 0x00) {
        throw IllegalArgumentException("not a P-256 SubjectPublicKeyInfo (${spki.size} bytes)")
    }
    return spki.copyOfRange(spki.size - 65, spki.size)
}
