// DER → raw r‖s, checked against a signature made by OpenSSL and against the JVM's own P1363 verifier.
package app.keyway.android

import java.security.KeyFactory
import java.security.KeyPairGenerator
import java.security.Signature
import java.security.spec.ECGenParameterSpec
import java.security.spec.X509EncodedKeySpec
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Test

private fun hex(s: String) = ByteArray(s.length / 2) { s.substring(2 * it, 2 * it + 2).toInt(16).toByte() }

class SignaturesTest {
    // `openssl dgst -sha256 -sign` over "keyway": r has 33 DER bytes (a sign zero), s only 31.
    private val publicKeyInfo = hex(
        "3059301306072a8648ce3d020106082a8648ce3d030107034200045787030561cfd6571dac0bb8ca4d2a9b18bfa7" +
            "3375af798c4fee46f9e8e03ff1d072d38b04edb8188ec7bcd27e8098f2ddfe731ec5373f5c082b2908c5e0d4d8",
    )
    private val der = hex(
        "3044022100e0c6b6e773ee49d6bb67378697484bce8f04640f8be8ac1ae582c3473b26b0f3021f0579b78ac2e3e9" +
            "0bb421980702ce16d68c6017d91dcc8ed2d4ddbde81ab266",
    )
    private val raw = hex(
        "e0c6b6e773ee49d6bb67378697484bce8f04640f8be8ac1ae582c3473b26b0f3" +
            "000579b78ac2e3e90bb421980702ce16d68c6017d91dcc8ed2d4ddbde81ab266",
    )

    private fun verifiesRaw(spki: ByteArray, message: ByteArray, signature: ByteArray): Boolean {
        val key = KeyFactory.getInstance("EC").generatePublic(X509EncodedKeySpec(spki))
        return Signature.getInstance("SHA256withECDSAinP1363Format").run {
            initVerify(key)
            update(message)
            verify(signature)
        }
    }

    @Test
    fun keystore_signature_with_padded_r_and_short_s_becomes_the_64_bytes_the_lock_checks() {
        assertArrayEquals(raw, derToRawSignature(der))
        assertTrue(verifiesRaw(publicKeyInfo, "keyway".toByteArray(), derToRawSignature(der)))
    }

    @Test
    fun every_jvm_signature_converts_to_one_its_p1363_verifier_accepts() {
        val pair = KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp256r1")) }.generateKeyPair()
        repeat(200) { i ->
            val message = "unlock $i".toByteArray()
            val signed = Signature.getInstance("SHA256withECDSA").run {
                initSign(pair.private)
                update(message)
                sign()
            }
            val converted = derToRawSignature(signed)
            assertEquals(64, converted.size)
            assertTrue("signature $i", verifiesRaw(pair.public.encoded, message, converted))
        }
    }

    @Test
    fun damaged_der_is_refused_not_misread() {
        assertThrows(MalformedSignatureException::class.java) { derToRawSignature(der.copyOf(der.size - 1)) }
        assertThrows(MalformedSignatureException::class.java) { derToRawSignature(der + byteArrayOf(0)) }
        assertThrows(MalformedSignatureException::class.java) { derToRawSignature(ByteArray(0)) }
        val notSequence = der.copyOf().also { it[0] = 0x31 }
        assertThrows(MalformedSignatureException::class.java) { derToRawSignature(notSequence) }
        val negativeS = der.copyOf().also { it[39] = 0x85.toByte() }
        assertThrows(MalformedSignatureException::class.java) { derToRawSignature(negativeS) }
    }

    @Test
    fun public_key_info_yields_the_uncompressed_point() {
        val point = sec1FromSubjectPublicKeyInfo(publicKeyInfo)
        assertEquals(65, point.size)
        assertEquals(0x04, point[0].toInt())
        assertArrayEquals(publicKeyInfo.copyOfRange(26, 91), point)
    }
}
