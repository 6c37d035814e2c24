// Keyway's device key on Android: EC P-256 in the Keystore, in StrongBox where the phone has one.
package app.keyway.android

import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.security.keystore.UserNotAuthenticatedException
import app.keyway.DeviceSigner
import app.keyway.core.SignerException
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.PrivateKey
import java.security.Signature
import java.security.spec.ECGenParameterSpec
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * [DeviceSigner] over an EC P-256 key generated in the Android Keystore: in StrongBox
 * when the phone has one, else in the TEE. The private key never leaves the hardware.
 * Returns the public key as a 65-byte uncompressed point and signatures as raw `r ‖ s`
 * (64 bytes), converted from the Keystore's DER. [isStrongBoxBacked] says which was used.
 */
class KeystoreSigner(private val context: Context, private val alias: String = "app.keyway.device") : DeviceSigner {
    /** Whether the key was created in StrongBox (false: TEE), once it exists. */
    @Volatile var isStrongBoxBacked: Boolean = false
        private set

    private fun keystore() = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

    private fun entry(): KeyStore.PrivateKeyEntry {
        (keystore().getEntry(alias, null) as? KeyStore.PrivateKeyEntry)?.let { return it }
        val strongBox = Build.VERSION.SDK_INT >= 28 &&
            context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)
        if (strongBox) {
            try {
                generate(strongBox = true)
                isStrongBoxBacked = true
            } catch (e: StrongBoxUnavailableException) {
                generate(strongBox = false)
            }
        } else {
            generate(strongBox = false)
        }
        return keystore().getEntry(alias, null) as? KeyStore.PrivateKeyEntry
            ?: throw SignerException.Other("the new key is not in the Keystore")
    }

    private fun generate(strongBox: Boolean) {
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_SIGN)
            .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
            .setDigests(KeyProperties.DIGEST_SHA256)
            .apply { if (strongBox && Build.VERSION.SDK_INT >= 28) setIsStrongBoxBacked(true) }
            .build()
        KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, ANDROID_KEYSTORE).run {
            initialize(spec)
            generateKeyPair()
        }
    }

    private suspend fun <T> keystoreCall(what: String, body: () -> T): T = withContext(Dispatchers.IO) {
        try {
            body()
        } catch (e: SignerException) {
            throw e
        } catch (e: KeyPermanentlyInvalidatedException) {
            throw SignerException.Unavailable()
        } catch (e: UserNotAuthenticatedException) {
            throw signerLocked()
        } catch (e: MalformedSignatureException) {
            throw SignerException.Other("$what: ${e.message}")
        } catch (e: Exception) {
            throw SignerException.Other("$what failed: ${e.javaClass.simpleName}")
        }
    }

    override suspend fun publicKey(): ByteArray = keystoreCall("publicKey") {
        sec1FromSubjectPublicKeyInfo(entry().certificate.publicKey.encoded)
    }

    override suspend fun sign(message: ByteArray): ByteArray = keystoreCall("sign") {
        val key: PrivateKey = entry().privateKey
        val der = Signature.getInstance("SHA256withECDSA").run {
            initSign(key)
            update(message)
            sign()
        }
        derToRawSignature(der)
    }

    override suspend fun deleteKey() = keystoreCall("deleteKey") {
        keystore().deleteEntry(alias)
        isStrongBoxBacked = false
    }

    private companion object {
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
    }
}
