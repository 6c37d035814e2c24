// One call that builds Keyway with the Android parts, and the log sink into Logcat.
package app.keyway.android

import android.content.Context
import android.util.Log
import app.keyway.Keyway
import app.keyway.KeywayConfig
import app.keyway.LogEntry
import app.keyway.LogLevel
import app.keyway.LogSink
import app.keyway.setLogSink
import java.io.File
import java.lang.ref.WeakReference
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * Builds [Keyway] for an Android app: BluetoothGatt radio, Keystore store and signer,
 * Logcat, and the platform TLS verifier initialised with the application Context. The
 * radio's system broadcasts (Bluetooth switched, location services switched) are passed
 * to `Keyway.platformChanged()`, so `subscribeReadiness` follows them; after a permission
 * prompt, or when the app comes back to the front, the app calls `platformChanged()` itself.
 */
object KeywayAndroid {
    /**
     * Creates the app's single [Keyway] from a coroutine: the native library, the key cache
     * and the stored session are opened off the calling thread, so it is safe from the main
     * thread. [config]'s `cachePath` defaults to a file in the app's private storage. Set
     * [logLevel] to null to leave the log sink alone. Call it once per process (keep the
     * result in an Application-scoped singleton).
     */
    suspend fun open(context: Context, config: KeywayConfig, logLevel: LogLevel? = LogLevel.INFO): Keyway {
        val parts = withContext(Dispatchers.IO) { parts(context, config, logLevel) }
        return parts.wire(Keyway.open(parts.config, parts.radio, parts.store, parts.signer))
    }

    /**
     * As [open], on the calling thread: it loads the native library and reads the disk, so
     * call it off the main thread.
     */
    fun create(context: Context, config: KeywayConfig, logLevel: LogLevel? = LogLevel.INFO): Keyway {
        val parts = parts(context, config, logLevel)
        return parts.wire(Keyway(parts.config, parts.radio, parts.store, parts.signer))
    }

    private class Parts(val config: KeywayConfig, val radio: GattTransport, val store: KeystoreSecureStore, val signer: KeystoreSigner) {
        /** Points the radio's broadcasts at [keyway], without the radio keeping it alive. */
        fun wire(keyway: Keyway): Keyway {
            val weak = WeakReference(keyway)
            radio.onPlatformChanged = { weak.get()?.platformChanged() }
            return keyway
        }
    }

    private fun parts(context: Context, config: KeywayConfig, logLevel: LogLevel?): Parts {
        val app = context.applicationContext ?: context
        KeywayTls.ensureInitialised(app) // before any HTTPS request the core makes
        logLevel?.let { setLogSink(LogcatSink, it) }
        val withCache = config.copy(cachePath = config.cachePath ?: File(app.noBackupFilesDir, "keyway.sqlite").path)
        return Parts(withCache, GattTransport(app), KeystoreSecureStore(app), KeystoreSigner(app))
    }
}

/** The core's log lines into Logcat, tagged with their Rust module (never holding secrets). */
object LogcatSink : LogSink {
    override fun log(entry: LogEntry) {
        val tag = entry.target.substringBefore("::").take(23)
        when (entry.level) {
            LogLevel.ERROR -> Log.e(tag, entry.message)
            LogLevel.WARN -> Log.w(tag, entry.message)
            LogLevel.INFO -> Log.i(tag, entry.message)
            LogLevel.DEBUG -> Log.d(tag, entry.message)
            LogLevel.TRACE -> Log.v(tag, entry.message)
        }
    }
}
