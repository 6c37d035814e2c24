// Readiness as a door screen follows it: Bluetooth switched off and on again while the
// screen shows, each door's button following, and Keyway opened from a coroutine.
package app.keyway.test

import app.keyway.Keyway
import app.keyway.ReadinessListener
import app.keyway.core.AccessState
import app.keyway.core.AdapterState
import app.keyway.core.KeywayException
import app.keyway.core.Readiness
import app.keyway.core.SessionState
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.BeforeClass
import org.junit.Test
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

class ReadinessTest {
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

    private fun LinkedBlockingQueue<Readiness>.next(): Readiness =
        poll(30, TimeUnit.SECONDS) ?: throw AssertionError("no readiness event arrived within 30 s")

    private fun Readiness.gate() = doors.single { it.door == scene.gate }

    @Test
    fun the_readiness_stream_reports_bluetooth_off_then_on() = runBlocking {
        val phone = scene.member("uma")
        val events = LinkedBlockingQueue<Readiness>()
        val subscription = phone.keyway.subscribeReadiness(object : ReadinessListener {
            override fun onReadinessChanged(readiness: Readiness) { events.put(readiness) }
        })

        val first = events.next()
        assertEquals(AdapterState.POWERED_ON, first.bluetooth)
        assertTrue("the gate's button is live", first.gate().canUnlock)
        assertTrue(first.gate().access is AccessState.Ready)

        // The person switches Bluetooth off; the shell's system receiver tells Keyway.
        phone.radio.adapter = AdapterState.POWERED_OFF
        phone.keyway.platformChanged()
        val off = events.next()
        assertEquals(AdapterState.POWERED_OFF, off.bluetooth)
        assertFalse("no door can be opened with Bluetooth off", off.doors.any { it.canUnlock })
        assertTrue("the key itself is still good", off.gate().access is AccessState.Ready)
        expect<KeywayException.BluetoothOff> { runBlocking { phone.keyway.unlock(scene.gate) } }

        phone.radio.adapter = AdapterState.POWERED_ON
        phone.keyway.platformChanged()
        val on = events.next()
        assertEquals(AdapterState.POWERED_ON, on.bluetooth)
        assertTrue(on.gate().canUnlock)
        assertEquals(scene.gate, phone.keyway.unlock(scene.gate).door)

        // A nudge that changed nothing sends nothing.
        phone.keyway.platformChanged()
        assertEquals(null, events.poll(500, TimeUnit.MILLISECONDS))
        subscription.cancel()
    }

    @Test
    fun readiness_names_location_services_off_and_a_missing_permission() = runBlocking {
        val phone = scene.member("vik")
        phone.radio.adapter = AdapterState.LOCATION_SERVICES_OFF
        assertEquals(AdapterState.LOCATION_SERVICES_OFF, phone.keyway.readiness().bluetooth)
        expect<KeywayException.LocationServicesOff> { runBlocking { phone.keyway.unlock(scene.gate) } }
        phone.radio.adapter = AdapterState.UNAUTHORIZED
        val denied = phone.keyway.readiness()
        assertEquals(AdapterState.UNAUTHORIZED, denied.bluetooth)
        assertFalse(denied.gate().canUnlock)
    }

    @Test
    fun a_revoked_key_turns_the_button_off_after_a_refresh() = runBlocking {
        val email = scene.email("wes")
        val (_, person) = scene.invite(email)
        val phone = scene.phone()
        phone.acceptInvitation(email)
        val events = LinkedBlockingQueue<Readiness>()
        val subscription = phone.keyway.subscribeReadiness(object : ReadinessListener {
            override fun onReadinessChanged(readiness: Readiness) { events.put(readiness) }
        })
        assertTrue(events.next().gate().canUnlock)
        scene.revokeAll(person)
        phone.keyway.refresh()
        val revoked = events.next()
        assertEquals(AccessState.Revoked, revoked.gate().access)
        assertFalse(revoked.gate().canUnlock)
        subscription.cancel()
    }

    @Test
    fun keyway_opened_from_a_coroutine_finds_the_stored_session() = runBlocking {
        val phone = scene.member("xan")
        ServedRadio(scene.locks.port).use { radio ->
            val reopened = Keyway.open(scene.config(), radio, phone.store)
            assertEquals(SessionState.SIGNED_IN, reopened.sessionState())
            // Its cache was in memory: one refresh brings the same keys back.
            reopened.refresh()
            assertEquals(phone.keyway.keys().map { it.grantId }, reopened.keys().map { it.grantId })
            reopened.close()
        }
    }
}
