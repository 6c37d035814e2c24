// Looking for secrets in what the core logs: every individual secret value (each token,
// each ticket secret, the device key's raw private scalar and its PKCS#8), in every form a
// careless line could write it in — as text, hex in either case, Rust's debug bytes, and
// base64 with either alphabet, padded or not, at each of the three byte alignments (so a
// secret inside a larger encoded record is found too). The Rust twin is
// sandbox/src/secret_scan.rs.
package app.keyway.test

import java.math.BigInteger
import java.security.KeyFactory
import java.security.interfaces.ECPrivateKey
import java.security.spec.PKCS8EncodedKeySpec
import java.util.Base64

class Secret(val what: String, val value: ByteArray)

object SecretScan {
    /** Shorter values match by chance: a scan for them proves nothing. */
    const val SHORTEST_SECRET = 6

    /** Every form `value` is looked for in, each with its name. */
    fun forms(value: ByteArray): List<Pair<String, String>> {
        require(value.size >= SHORTEST_SECRET) { "a ${value.size}-byte secret is too short to look for" }
        val forms = mutableListOf<Pair<String, String>>()
        // Raw bytes reach a log line only when they are text.
        if (value.all { it in 0x20..0x7e }) forms += "raw" to String(value, Charsets.US_ASCII)
        val hex = value.joinToString("") { "%02x".format(it) }
        forms += "hex lower" to hex
        forms += "hex upper" to hex.uppercase()
        forms += "debug bytes" to value.joinToString(", ") { (it.toInt() and 0xff).toString() }
        val alphabets = listOf("standard" to Base64.getEncoder().withoutPadding(), "url" to Base64.getUrlEncoder().withoutPadding())
        for ((alphabet, encoder) in alphabets) {
            for (offset in 0..2) {
                val framed = ByteArray(offset) + value
                val encoded = encoder.encodeToString(framed)
                // Character i carries bits [6i, 6i + 6); the secret holds bits [8·offset, 8·size).
                val first = (8 * offset + 5) / 6
                val end = 8 * framed.size / 6
                forms += "base64 $alphabet at offset $offset" to encoded.substring(first, end)
            }
        }
        return forms
    }

    /** "secret (form) in place" for every secret found in `places`; empty when nothing leaked. */
    fun findLeaks(secrets: List<Secret>, places: Map<String, String>): List<String> {
        val leaks = mutableListOf<String>()
        for (secret in secrets) {
            for ((form, needle) in forms(secret.value)) {
                for ((place, text) in places) {
                    if (text.contains(needle)) leaks += "${secret.what} ($form) in $place"
                }
            }
        }
        return leaks
    }

    /** Every individual secret value in a phone's store, split out of its entry. */
    fun phoneSecrets(store: MemorySecureStore): List<Secret> {
        val secrets = mutableListOf<Secret>()
        for (name in store.names) {
            val value = store.value(name) ?: continue
            when {
                name == "session" -> {
                    @Suppress("UNCHECKED_CAST")
                    val session = Json.parse(String(value, Charsets.UTF_8)) as Map<String, Any?>
                    for (field in listOf("access_token", "refresh_token")) {
                        val token = session[field] as? String ?: error("the session entry has no $field")
                        secrets += Secret(field.replace('_', ' '), token.toByteArray(Charsets.UTF_8))
                    }
                }
                // credential id (16) ‖ ticket id (16) ‖ secret (32): only the secret is secret.
                name.startsWith("ticket/") -> {
                    check(value.size == 64) { "$name is a 64-byte ticket record" }
                    secrets += Secret("$name secret", value.copyOfRange(32, 64))
                }
                name == "device_key" -> {
                    secrets += Secret("device key scalar", privateScalar(value))
                    secrets += Secret("device key pkcs8", value)
                }
                else -> secrets += Secret(name, value)
            }
        }
        return secrets
    }

    /** The raw 32-byte private scalar of a P-256 PKCS#8 key, read by the JDK's own parser. */
    fun privateScalar(pkcs8: ByteArray): ByteArray {
        val key = KeyFactory.getInstance("EC").generatePrivate(PKCS8EncodedKeySpec(pkcs8)) as ECPrivateKey
        val bytes = key.s.toByteArray()
        check(key.s.signum() > 0 && key.s.bitLength() <= 256) { "not a P-256 scalar" }
        // Big-endian, left-padded to 32 bytes (BigInteger adds a sign byte or drops leading zeros).
        return ByteArray(32 - minOf(bytes.size, 32)) + bytes.takeLast(minOf(bytes.size, 32)).toByteArray()
    }

    /** A scalar back from 32 bytes (for the planted-secret test). */
    fun scalarValue(bytes: ByteArray): BigInteger = BigInteger(1, bytes)
}
