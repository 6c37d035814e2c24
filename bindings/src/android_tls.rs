//! The JNI entry point that gives the platform certificate verifier its Android context.
//!
//! On Android, rustls-platform-verifier checks certificates through the system's trust
//! manager, which it reaches over JNI: it needs the JVM and the application `Context`
//! before the first HTTPS call, or sign-in fails. The Android shell calls, once at start:
//!
//! ```kotlin
//! KeywayTls.initPlatformVerifier(applicationContext)
//! ```
//!
//! where `object app.keyway.android.KeywayTls { @JvmStatic external fun
//! initPlatformVerifier(context: android.content.Context) }` binds to the symbol below.
//! Calling it again is harmless (the first context is kept). Off Android the symbol
//! exists too (so the desktop JVM tests can check it links) and does nothing: desktop
//! verifiers need no context.

use jni::EnvUnowned;
use jni::errors::ThrowRuntimeExAndDefault;
use jni::objects::{JClass, JObject};

/// `app.keyway.android.KeywayTls.initPlatformVerifier(context)`: hands the JVM and the
/// application context to the platform verifier. A JNI failure becomes a
/// `RuntimeException` in Kotlin.
#[unsafe(no_mangle)]
pub extern "system" fn Java_app_keyway_android_KeywayTls_initPlatformVerifier<'caller>(
    mut env: EnvUnowned<'caller>,
    _class: JClass<'caller>,
    context: JObject<'caller>,
) {
    env.with_env(|env| -> jni::errors::Result<()> { init(env, context) }).resolve::<ThrowRuntimeExAndDefault>()
}

#[cfg(target_os = "android")]
fn init(env: &mut jni::Env<'_>, context: JObject<'_>) -> jni::errors::Result<()> {
    rustls_platform_verifier::android::init_with_env(env, context)?;
    tracing::debug!("platform certificate verifier initialised");
    Ok(())
}

#[cfg(not(target_os = "android"))]
fn init(_env: &mut jni::Env<'_>, _context: JObject<'_>) -> jni::errors::Result<()> {
    Ok(())
}
