// Daily doorcodes through the generated Kotlin API: the backend computes today's code
// from the secret the served reference lock registered when it was fitted, and the code
// opens the lock's keypad once a door sync has carried the member's doorcode slot.
package app.keyway.test

import app.keyway.core.KeywayException
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.BeforeClass
import org.junit.Test
import java.io.BufferedReader
import java.io.InputStreamReader
import java.net.Socket
import java.time.Instant

class DoorcodeTest {
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

    /** Types `code` and `#` on the served lock's keypad; returns the server's answer line. */
    private fun typeOnKeypad(door: String, code: String): String =
        Socket("127.0.0.1", scene.locks.port).use { socket ->
            val reader = BufferedReader(InputStreamReader(socket.getInputStream()))
            socket.getOutputStream().write("keypad ${scene.locks.lock(door).peripheral} $code#\n".toByteArray())
            socket.getOutputStream().flush()
            reader.readLine()
        }

    /** The operator lets the phone's key carry a daily doorcode. */
    private fun enableDoorcode(phone: Phone) {
        val grant = phone.keyway.keys().single().grantId
        val state = scene.backend.admin("POST", "v1/admin/grants/$grant/doorcode", """{"enabled":true}""")
        assertEquals(true, state["enabled"])
    }

    @Test
    fun doorcodes_lists_todays_code_for_each_door_of_the_key() = runBlocking {
        val phone = scene.member("dora")
        assertTrue(phone.keyway.doorcodes().isEmpty())
        enableDoorcode(phone)
        val codes = phone.keyway.doorcodes()
        assertEquals(setOf(scene.gate, scene.pool), codes.map { it.door }.toSet())
        val now = Instant.now()
        for (code in codes) {
            assertTrue(code.code.length == 8 && code.code.all { it.isDigit() })
            assertTrue(!code.validFrom.isAfter(now) && now.isBefore(code.validUntil))
        }
    }

    @Test
    fun doorcode_for_the_gate_opens_its_keypad_after_a_door_sync() = runBlocking {
        val phone = scene.member("fay")
        enableDoorcode(phone)
        val code = phone.keyway.doorcode(scene.gate)
        assertEquals(scene.gate, code.door)
        assertEquals("Back gate", code.doorName)
        assertTrue("the lock has not heard of the new code yet", code.syncPending)
        phone.keyway.startDoorSync(scene.gate, null).result()
        assertTrue(typeOnKeypad(scene.gate, code.code).startsWith("ok opened "))
    }

    @Test
    fun doorcode_for_a_key_without_one_is_its_own_error() = runBlocking {
        val phone = scene.member("gil")
        expect<KeywayException.NoDoorcode> { runBlocking { phone.keyway.doorcode(scene.gate) } }
        Unit
    }
}
