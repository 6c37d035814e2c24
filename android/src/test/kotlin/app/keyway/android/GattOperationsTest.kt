package app.keyway.android

import app.keyway.core.BleException
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

class GattOperationsTest {
    @Test
    fun a_callback_of_another_kind_does_not_answer_the_waiting_request() = runBlocking<Unit> {
        val operations = GattOperations()
        val write = operations.begin(GattRequest.WRITE_CHARACTERISTIC)
        assertFalse("an unprompted MTU change", operations.answer(GattRequest.MTU, 0))
        assertNull(withTimeoutOrNull(50) { write.await() })
        assertTrue(operations.answer(GattRequest.WRITE_CHARACTERISTIC, 3))
        assertEquals(3, write.await())
    }

    @Test
    fun an_answer_with_nothing_waiting_is_dropped() {
        val operations = GattOperations()
        val p = operations.begin(GattRequest.DISCOVER_SERVICES)
        operations.finish(p) // timed out
        assertFalse(operations.answer(GattRequest.DISCOVER_SERVICES, 0))
    }

    @Test
    fun a_lost_link_fails_the_waiting_request_and_every_later_one() = runBlocking<Unit> {
        val operations = GattOperations()
        val write = operations.begin(GattRequest.WRITE_CHARACTERISTIC)
        operations.fail(BleException.Disconnected())
        try {
            write.await()
            fail("the waiting request completed")
        } catch (e: BleException.Disconnected) {
        }
        try {
            operations.begin(GattRequest.MTU)
            fail("a request began on a lost link")
        } catch (e: BleException.Disconnected) {
        }
    }
}
