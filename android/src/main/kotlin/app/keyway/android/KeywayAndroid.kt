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

/**
 * Builds [Keyway] for an Android app: BluetoothGatt radio, Keystore store and signer,
 * Logcat, and the platform TLS verifier initialised with the application Context.
 */
object KeywayAndroid {
    /**
     * Creates the app's single [Keyway]. [config]'s `cachePath` defaults to a file in the
     * app's private storage. Set [logLevel] to null to leave the log sink alone. Call it
     * once per process (an Application-scoped singleton) off the main thread if you can:
     * it loads the native library.
     */
    fun create(context: Context, config: KeywayConfig, logLevel: LogLevel? = LogLevel.INFO): Keyway {
        val app = context.applicationContext ?: context
        KeywayTls.ensureInitialised(app) // before any HTTPS request the core makes
        logLevel?.let { setLogSink(LogcatSink, it) }
        val withCache = config.copy(cachePath = config.cachePath ?: File(app.noBackupFilesDir, "keyway.sqlite").path)
        return Keyway(withCache, GattTransport(app), KeystoreSecureStore(app), KeystoreSigner(app))
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
