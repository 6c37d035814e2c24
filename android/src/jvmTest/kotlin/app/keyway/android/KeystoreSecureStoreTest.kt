// KeystoreSecureStore's recovery when its key is lost, with a software key in place of the Keystore.
package app.keyway.android

import java.io.File
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Test

/** A software AES key standing in for the Keystore's (the JVM has no AndroidKeyStore), which a test can lose. */
private class LosableKeys : SealingKeys {
    var key: SecretKey? = null
    var created = 0

    override fun existing(): SecretKey? = key

    override fun create(): SecretKey =
        KeyGenerator.getInstance("AES").run { init(256); generateKey() }.also { key = it; created++ }

    override fun delete() {
        key = null
    }
}

class KeystoreSecureStoreTest {
    private val folder: File = kotlin.io.path.createTempDirectory("keyway-store").toFile()

    @Test
    fun a_lost_keystore_key_reads_as_signed_out_and_the_store_works_again() {
        val keys = LosableKeys()
        val store = KeystoreSecureStore(folder, keys)
        store.set("session", byteArrayOf(1, 2, 3))
        store.set("ticket", byteArrayOf(4, 5))
        assertArrayEquals(byteArrayOf(1, 2, 3), store.get("session"))

        keys.key = null // the Keystore lost it (reset, OEM upgrade, data partly cleared)
        assertNull("unreadable for good: absent, not an error", store.get("session"))
        assertNull(store.get("ticket"))
        assertEquals("the old sealed values are gone", 0, folder.listFiles()!!.size)

        store.set("session", byteArrayOf(9))
        assertArrayEquals(byteArrayOf(9), store.get("session"))
        assertEquals("one key made at first, one after the loss", 2, keys.created)
    }

    @Test
    fun a_value_sealed_under_another_name_or_damaged_reads_as_absent() {
        val store = KeystoreSecureStore(folder, LosableKeys())
        store.set("a", byteArrayOf(1))
        store.set("b", byteArrayOf(2))
        val a = File(folder, "61")
        val b = File(folder, "62")
        b.writeBytes(a.readBytes()) // a swapped file: "a"'s value under "b"
        assertNull(store.get("b"))
        assertArrayEquals("the other value is untouched", byteArrayOf(1), store.get("a"))
        a.writeBytes(byteArrayOf(0, 1, 2))
        assertNull("a truncated value", store.get("a"))
    }
}
