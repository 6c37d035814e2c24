// The GATT 133 retry: once, only for 133, and each failure reaches the core as its own BleException.
package app.keyway.android

import app.keyway.core.BleException
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

class GattRetryTest {
    private val policy = GattRetryPolicy()

    @Test
    fun status_133_is_retried_once_and_the_second_attempt_connects() = runBlocking {
        val attempts = mutableListOf<Int>()
        val mtu = policy.connect { n ->
            attempts += n
            if (n == 0) throw GattConnectFailure(GattStatus.GATT_ERROR)
            247
        }
        assertEquals(247, mtu)
        assertEquals(listOf(0, 1), attempts)
    }

    @Test
    fun status_133_twice_gives_up_as_connect_failed() = runBlocking {
        var attempts = 0
        try {
            policy.connect<Int> {
                attempts++
                throw GattConnectFailure(GattStatus.GATT_ERROR)
            }
            fail("connected")
        } catch (e: BleException.ConnectFailed) {
            assertTrue(e.detail, e.detail.contains("133"))
        }
        assertEquals(2, attempts)
    }

    @Test
    fun other_statuses_are_not_retried_and_keep_their_meaning() = runBlocking {
        for ((status, expected) in listOf(
            GattStatus.CONNECTION_TIMEOUT to BleException.Timeout::class,
            GattStatus.TERMINATED_BY_PEER to BleException.Disconnected::class,
            62 to BleException.ConnectFailed::class,
        )) {
            var attempts = 0
            try {
                policy.connect<Unit> {
                    attempts++
                    throw GattConnectFailure(status)
                }
                fail("connected")
            } catch (e: BleException) {
                assertEquals("status $status", expected, e::class)
            }
            assertEquals("status $status", 1, attempts)
        }
        assertFalse(policy.shouldRetry(GattStatus.SUCCESS, 0))
    }
}
