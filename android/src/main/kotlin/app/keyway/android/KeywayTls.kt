// Hands the application Context to the Rust TLS verifier (rustls-platform-verifier) once.
package app.keyway.android

import android.content.Context

/**
 * The bridge to rustls-platform-verifier inside `libkeyway_ffi.so`. On Android that
 * verifier checks the backend's certificate through the platform's trust store (its
 * Kotlin component, `org.rustls.platformverifier`, ships with this library), and it must be
 * given the JVM and an application Context before the first HTTPS request; without it
 * sign-in and refresh fail. [KeywayAndroid.create] calls [initPlatformVerifier] once.
 */
object KeywayTls {
    @Volatile private var initialised = false

    /** Loads the native library and initialises the verifier once per process. */
    @JvmStatic
    @Synchronized
    fun ensureInitialised(context: Context) {
        if (initialised) return
        System.loadLibrary("keyway_ffi")
        initPlatformVerifier(context.applicationContext ?: context)
        initialised = true
    }

    /** Implemented in Rust (`Java_app_keyway_android_KeywayTls_initPlatformVerifier`). */
    @JvmStatic
    external fun initPlatformVerifier(context: Context)
}
