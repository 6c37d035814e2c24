// A SecureStore written in Kotlin, as the shells write one over the Keychain or the
// Android Keystore; here the secrets stay in memory so the tests can look inside.
package app.keyway.test

import app.keyway.SecureStore
import app.keyway.core.SecureStoreException
import java.util.concurrent.ConcurrentHashMap

class MemorySecureStore : SecureStore {
    private val secrets = ConcurrentHashMap<String, ByteArray>()

    /** When set, every call fails as a locked device's keychain does. */
    @Volatile var locked = false

    val names: Set<String> get() = secrets.keys.toSet()

    fun value(name: String): ByteArray? = secrets[name]

    override fun get(name: String): ByteArray? {
        if (locked) throw SecureStoreException.Locked()
        return secrets[name]?.copyOf()
    }

    override fun set(name: String, secret: ByteArray) {
        if (locked) throw SecureStoreException.Locked()
        secrets[name] = secret.copyOf()
    }

    override fun delete(name: String) {
        if (locked) throw SecureStoreException.Locked()
        secrets.remove(name)
    }
}
