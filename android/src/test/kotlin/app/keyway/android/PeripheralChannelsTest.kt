// Notifications reach the right peripheral's reader, time out, and a dropped link ends the wait.
package app.keyway.android

import app.keyway.core.BleException
import java.time.Duration
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertThrows
import org.junit.Test

class PeripheralChannelsTest {
    private val generous = Duration.ofSeconds(10)

    @Test
    fun notifications_are_kept_per_peripheral_and_in_order() = runBlocking {
        val channels = PeripheralChannels<ByteArray>()
        channels.open("AA:01")
        channels.open("AA:02")
        channels.offer("AA:01", byteArrayOf(1))
        channels.offer("AA:02", byteArrayOf(2))
        channels.offer("AA:01", byteArrayOf(3))
        assertArrayEquals(byteArrayOf(2), channels.next("AA:02", generous))
        assertArrayEquals(byteArrayOf(1), channels.next("AA:01", generous))
        assertArrayEquals(byteArrayOf(3), channels.next("AA:01", generous))
    }

    @Test
    fun a_silent_lock_times_out_as_the_core_asked() {
        val channels = PeripheralChannels<ByteArray>().apply { open("AA:01") }
        assertThrows(BleException.Timeout::class.java) {
            runBlocking { channels.next("AA:01", Duration.ofMillis(50)) }
        }
    }

    @Test
    fun a_dropped_link_ends_a_waiting_read_with_disconnected() {
        val channels = PeripheralChannels<ByteArray>().apply { open("AA:01") }
        assertThrows(BleException.Disconnected::class.java) {
            runBlocking {
                val waiting = async { channels.next("AA:01", generous) }
                delay(20)
                channels.close("AA:01", BleException.Disconnected())
                waiting.await()
            }
        }
        assertThrows(BleException.Disconnected::class.java) { runBlocking { channels.next("AA:02", generous) } }
    }
}
