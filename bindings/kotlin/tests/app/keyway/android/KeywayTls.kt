// The JVM tests' copy of the Android shell's `app.keyway.android.KeywayTls` (android/
// declares it with `context: android.content.Context`, which the JVM does not have). JNI
// binds by class and method name only, so this links to the same symbol in libkeyway_ffi,
// `Java_app_keyway_android_KeywayTls_initPlatformVerifier`: the test proves the name.
package app.keyway.android

object KeywayTls {
    @JvmStatic external fun initPlatformVerifier(context: Any)
}
