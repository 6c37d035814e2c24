// Keyway's secrets on Android: values sealed with an AES-GCM key that never leaves the Keystore.
package app.keyway.android

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.security.keystore.UserNotAuthenticatedException
import app.keyway.SecureStore
import app.keyway.SecureStoreException
import java.io.File
import java.security.KeyStore
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * [SecureStore] over the Android Keystore: a 256-bit AES-GCM key generated inside the
 * Keystore (TEE or StrongBox; not exportable) seals each value, and the sealed bytes
 * (12-byte IV ‖ ciphertext ‖ tag) live in the app's private files, one per name. The name
 * is bound to its value as associated data, so swapping two files is detected.
 * Errors name the operation, never the secret.
 */
class KeystoreSecureStore(context: Context, private val alias: String = "app.keyway.store") : SecureStore {
    private val folder = File(context.noBackupFilesDir, "keyway-secrets").apply { mkdirs() }
    private val lock = Any()

    private fun key(): SecretKey {
        val keystore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }
        (keystore.getKey(alias, null) as? SecretKey)?.let { return it }
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .build()
        return KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE).run {
            init(spec)
            generateKey()
        }
    }

    /** The file for [name]: hex of the name, so any name is a safe file name. */
    private fun file(name: String) = File(folder, name.toByteArray().joinToString("") { "%02x".format(it) })

    private inline fun <T> guarded(what: String, body: () -> T): T = try {
        synchronized(lock) { body() }
    } catch (e: SecureStoreException) {
        throw e
    } catch (e: UserNotAuthenticatedException) {
        throw SecureStoreException.Locked()
    } catch (e: Exception) {
        throw SecureStoreException.Failed("$what failed: ${e.javaClass.simpleName}")
    }

    override fun get(name: String): ByteArray? = guarded("get") {
        val file = file(name)
        if (!file.exists()) return@guarded null
        val sealed = file.readBytes()
        if (sealed.size < IV_LEN + TAG_BITS / 8) throw SecureStoreException.Failed("get failed: truncated value")
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key(), GCMParameterSpec(TAG_BITS, sealed, 0, IV_LEN))
        cipher.updateAAD(name.toByteArray())
        cipher.doFinal(sealed, IV_LEN, sealed.size - IV_LEN)
    }

    override fun set(name: String, secret: ByteArray) = guarded("set") {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, key()) // the Keystore picks a fresh IV
        cipher.updateAAD(name.toByteArray())
        val sealed = cipher.iv + cipher.doFinal(secret)
        // Durable when it returns: write beside, flush to disk, then rename over.
        val target = file(name)
        val temporary = File(folder, target.name + ".new")
        temporary.outputStream().use { out ->
            out.write(sealed)
            out.fd.sync()
        }
        if (!temporary.renameTo(target)) throw SecureStoreException.Failed("set failed: rename")
    }

    override fun delete(name: String) = guarded("delete") {
        val target = file(name)
        if (target.exists() && !target.delete()) throw SecureStoreException.Failed("delete failed")
    }

    private companion object {
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_LEN = 12
        const val TAG_BITS = 128
    }
}
