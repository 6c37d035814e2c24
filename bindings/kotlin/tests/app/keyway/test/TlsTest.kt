// The phone reaches the service over verified HTTPS only: a service whose certificate the
// phone does not trust is `InsecureConnection` (not `Offline`) and nothing reaches it; an
// `http://` service URL is `InvalidConfiguration`; and the JNI entry point the Android
// shell calls to initialise the certificate verifier links from the JVM.
package app.keyway.test

import app.keyway.Keyway
import app.keyway.KeywayConfig
import app.keyway.core.ConfigError
import app.keyway.core.KeywayException
import app.keyway.android.KeywayTls
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.BeforeClass
import org.junit.Test
import java.io.File
import java.time.Duration

class TlsTest {
    companion object {
        lateinit var scene: Scene

        @BeforeClass @JvmStatic
        fun start() {
            scene = Scene()
        }

        @AfterClass @JvmStatic
        fun stop() {
            scene.close()
        }
    }

    private fun keyway(config: KeywayConfig): Keyway =
        Keyway(config, ServedRadio(scene.locks.port), MemorySecureStore())

    @Test
    fun a_service_whose_certificate_is_not_trusted_is_insecure_and_nothing_is_sent() = runBlocking {
        val number = scene.phoneNumber()
        scene.phoneOnlyMember(number)
        // No extra root: the run's CA is unknown to the platform's verifier.
        val config = KeywayConfig(backendUrl = scene.backend.url, linkHosts = listOf(LINK_HOST), httpTimeout = Duration.ofSeconds(10))
        keyway(config).use { phone ->
            expect<KeywayException.InsecureConnection> { runBlocking { phone.startSignIn(number) } }
        }
        val sent = scene.backend.admin("GET", "v1/admin/outbox?to=" + number.replace("+", "%2B")) as List<*>
        assertEquals("no code reached the service", 0, sent.size)
    }

    @Test
    fun an_http_service_url_is_refused_as_a_configuration_error() {
        val plain = scene.backend.url.replace("https://", "http://")
        val config = KeywayConfig(backendUrl = plain, linkHosts = listOf(LINK_HOST))
        val refused = expect<KeywayException.InvalidConfiguration> { keyway(config).close() }
        assertEquals(ConfigError.BackendNotHttps, refused.problem)
        assertTrue(refused.message ?: "", (refused.message ?: "").contains("https://"))
    }

    @Test
    fun the_android_verifier_entry_point_links_and_does_nothing_off_android() {
        val library = System.getProperty("keyway.ffi") ?: error("-Dkeyway.ffi=<path to libkeyway_ffi> is needed")
        System.load(File(library).absolutePath)
        // Off Android there is no platform verifier to initialise: the call returns quietly.
        KeywayTls.initPlatformVerifier(Any())
        KeywayTls.initPlatformVerifier(Any())
    }
}
