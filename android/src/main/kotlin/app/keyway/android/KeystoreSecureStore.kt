// Keyway's secrets on Android: values sealed with an AES-GCM key that never leaves the Keystore.
package app.keyway.android

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.UserNotAuthenticatedException
import app.keyway.SecureStore
import app.keyway.core.SecureStoreException
import java.io.File
import java.security.KeyStore
import java.security.UnrecoverableKeyException
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/** Where [KeystoreSecureStore]'s sealing key lives: the Android Keystore on a phone. */
interface SealingKeys {
    /** The key, or null if there is none; throws if it exists but can no longer be used. */
    fun existing(): SecretKey?

    /** Creates a new key, replacing any other. */
    fun create(): SecretKey

    /** Forgets the key. */
    fun delete()
}

/** A 256-bit AES-GCM key generated inside the Android Keystore (TEE or StrongBox), never exportable. */
class AndroidKeystoreKeys(private val alias: String) : SealingKeys {
    private fun keystore() = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

    override fun existing(): SecretKey? = keystore().getKey(alias, null) as? SecretKey

    override fun create(): SecretKey {
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

    override fun delete() = keystore().deleteEntry(alias)

    private companion object {
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
    }
}

/**
 * [SecureStore] over the Android Keystore: a key that never leaves the Keystore seals
 * each value, and the sealed bytes (12-byte IV ‖ ciphertext ‖ tag) live in the app's
 * private no-backup files, one per name. The name is bound to its value as associated
 * data, so swapping two files is detected. Errors name the operation, never the secret.
 *
 * When the Keystore key is lost or invalidated (a Keystore reset, an OEM upgrade, data
 * partly cleared), the values it sealed can never be opened again: they are deleted and
 * read as absent, and a new key is made. The core then sees a missing session and the
 * person signs in again, instead of every call failing with `Internal` for good. A value
 * that does not open under the current key (damaged or swapped) is deleted and read as
 * absent the same way; nothing from it is used.
 */
class KeystoreSecureStore internal constructor(
    private val folder: File,
    private val keys: SealingKeys,
) : SecureStore {
    /** The store for an app: values in `noBackupFilesDir/keyway-secrets`, key [alias] in the Keystore. */
    constructor(context: Context, alias: String = "app.keyway.store") :
        this(File(context.noBackupFilesDir, "keyway-secrets"), AndroidKeystoreKeys(alias))

    private val lock = Any()

    /** The key, made anew (and the values sealed by a lost one dropped) when it is gone. */
    private fun key(): SecretKey {
        val existing = try {
            keys.existing()
        } catch (e: UnrecoverableKeyException) {
            null
        } catch (e: KeyPermanentlyInvalidatedException) {
            null
        }
        existing?.let { return it }
        startOver()
        return keys.create()
    }

    /** The key is gone: what it sealed is unreadable for good. */
    private fun startOver() {
        try {
            keys.delete()
        } catch (_: Exception) { // nothing to delete
        }
        folder.listFiles()?.forEach { it.delete() }
    }

    /** The file for [name]: hex of the name, so any name is a safe file name. */
    private fun file(name: String) = File(folder, name.toByteArray().joinToString("") { "%02x".format(it) })

    private inline fun <T> guarded(what: String, body: () -> T): T = try {
        synchronized(lock) {
            folder.mkdirs()
            body()
        }
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
        if (sealed.size < IV_LEN + TAG_BITS / 8) {
            file.delete()
            return@guarded null
        }
        val cipher = Cipher.getInstance(TRANSFORMATION)
        try {
            cipher.init(Cipher.DECRYPT_MODE, key(), GCMParameterSpec(TAG_BITS, sealed, 0, IV_LEN))
        } catch (e: KeyPermanentlyInvalidatedException) {
            startOver()
            return@guarded null
        }
        cipher.updateAAD(name.toByteArray())
        try {
            cipher.doFinal(sealed, IV_LEN, sealed.size - IV_LEN)
        } catch (e: AEADBadTagException) {
            file.delete() // sealed by a lost key, damaged, or another name's value
            null
        }
    }

    override fun set(name: String, secret: ByteArray) = guarded("set") {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        try {
            cipher.init(Cipher.ENCRYPT_MODE, key()) // the Keystore picks a fresh IV
        } catch (e: KeyPermanentlyInvalidatedException) {
            startOver()
            cipher.init(Cipher.ENCRYPT_MODE, key())
        }
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
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_LEN = 12
        const val TAG_BITS = 128
    }
}
