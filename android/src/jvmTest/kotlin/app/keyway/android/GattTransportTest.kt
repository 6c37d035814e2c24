// GattTransport driven on the JVM through the fake Android Bluetooth stack (FakeBluetooth).
package app.keyway.android

import app.keyway.core.AdapterState
import app.keyway.core.BleException
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicLong
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

private const val DOOR = "C0:FF:EE:00:00:01"

class GattTransportTest {
    private fun transport(
        fake: FakeBluetooth,
        operationTimeout: Duration = Duration.ofSeconds(2),
        scanLinger: Duration = Duration.ZERO,
        budget: ScanBudget = ScanBudget(),
        now: () -> Long = { System.nanoTime() / 1_000_000 },
        pause: suspend (Long) -> Unit = { delay(it) },
        sdkInt: Int = 35,
    ) = GattTransport(fake.context, GattRetryPolicy(), GattTiming(operationTimeout, scanLinger, budget, now, pause), sdkInt)

    private inline fun <reified E : BleException> assertFails(what: String, block: () -> Unit): E {
        try {
            block()
        } catch (e: BleException) {
            if (e is E) return e
            fail("$what: expected ${E::class.simpleName}, got ${e::class.simpleName} (${e.message})")
        }
        fail("$what: expected ${E::class.simpleName}, but it succeeded")
        throw AssertionError()
    }

    private fun assertEveryClientClosedOnce(fake: FakeBluetooth) {
        assertEquals("clients left open", 0, fake.leakedClients())
        for (client in fake.clients) assertEquals("close() calls on one client", 1, client.closes.get())
    }

    @Test
    fun gatt_status_133_is_retried_on_a_fresh_client_after_closing_the_failed_one() = runBlocking<Unit> {
        val fake = FakeBluetooth().apply { connectStatuses.add(133) }
        val gatt = transport(fake)
        val mtu = gatt.connect(DOOR, Duration.ofSeconds(5))
        assertEquals(247, mtu.toInt())
        assertEquals("connectGatt calls", 2, fake.clients.size)
        assertEquals("the failed client is closed before the retry", 1, fake.clients[0].closes.get())
        gatt.write(DOOR, byteArrayOf(1, 2, 3), true)
        gatt.disconnect(DOOR)
        assertEveryClientClosedOnce(fake)
    }

    @Test
    fun a_write_answer_arriving_after_its_timeout_never_completes_the_next_write() = runBlocking<Unit> {
        val fake = FakeBluetooth()
        // The first write's success arrives 2 s late, after its 1.5 s timeout and while the
        // next write waits; that next write's own answer (a refusal) comes later still.
        fake.writeAnswers.add(WriteAnswer.Status(0, afterMillis = 2_000))
        fake.writeAnswers.add(WriteAnswer.Status(3, afterMillis = 700))
        val gatt = transport(fake, operationTimeout = Duration.ofMillis(1_500))
        gatt.connect(DOOR, Duration.ofSeconds(5))
        assertFails<BleException.Timeout>("the first write") { gatt.write(DOOR, byteArrayOf(1), true) }
        // The same link is not reused: its next write-answer could be the late one.
        assertFails<BleException.Disconnected>("a write on the timed-out link") { gatt.write(DOOR, byteArrayOf(2), true) }
        gatt.connect(DOOR, Duration.ofSeconds(5))
        val error = assertFails<BleException.Other>("the write on the new link") { gatt.write(DOOR, byteArrayOf(3), true) }
        assertEquals("write status 3", error.detail)
        assertEquals("the timed-out client was closed when it timed out", 1, fake.clients[0].closes.get())
        gatt.disconnect(DOOR)
        assertEveryClientClosedOnce(fake)
    }

    @Test
    fun an_unprompted_mtu_change_completes_no_pending_request() = runBlocking<Unit> {
        val fake = FakeBluetooth()
        fake.writeAnswers.add(WriteAnswer.Status(3, afterMillis = 400, mtuFirst = 185))
        val gatt = transport(fake)
        gatt.connect(DOOR, Duration.ofSeconds(5))
        val error = assertFails<BleException.Other>("the write") { gatt.write(DOOR, byteArrayOf(1), true) }
        assertEquals("the write's own answer, not the MTU change", "write status 3", error.detail)
        gatt.write(DOOR, byteArrayOf(2), true) // the link is still good
        gatt.disconnect(DOOR)
        assertEveryClientClosedOnce(fake)
    }

    @Test
    fun a_link_lost_in_the_middle_of_a_write_fails_it_as_disconnected_at_once_and_closes_the_client() = runBlocking<Unit> {
        val fake = FakeBluetooth().apply { writeAnswers.add(WriteAnswer.LinkLost(status = 8)) }
        val gatt = transport(fake, operationTimeout = Duration.ofSeconds(10))
        gatt.connect(DOOR, Duration.ofSeconds(5))
        val started = System.nanoTime()
        assertFails<BleException.Disconnected>("the write") { gatt.write(DOOR, byteArrayOf(1), true) }
        val tookMillis = (System.nanoTime() - started) / 1_000_000
        assertTrue("reported in ${tookMillis} ms, not after the 10 s timeout", tookMillis < 2_000)
        assertFails<BleException.Disconnected>("waiting for a notification") { gatt.nextNotification(DOOR, Duration.ofSeconds(1)) }
        gatt.disconnect(DOOR) // the core always disconnects afterwards: no second close()
        assertEveryClientClosedOnce(fake)
    }

    @Test
    fun the_sixth_scan_start_within_30_s_waits_for_androids_budget_instead_of_missing_the_door() = runBlocking<Unit> {
        val clock = AtomicLong(1_000_000)
        val waits = CopyOnWriteArrayList<Long>()
        val fake = FakeBluetooth(clock::get)
        val gatt = transport(fake, now = clock::get, pause = { waits.add(it); clock.addAndGet(it) })
        repeat(6) { unlock ->
            gatt.startScan(fake.serviceUuid.toString())
            fake.advertise(DOOR, byteArrayOf(0x4b, unlock.toByte()))
            val heard = gatt.nextAdvertisement(Duration.ofSeconds(2))
            assertEquals("unlock ${unlock + 1} hears the door", DOOR, heard.peripheral)
            gatt.stopScan()
            clock.addAndGet(1_000)
        }
        assertEquals("platform scan starts", 6, fake.scanStarts.size)
        assertEquals("starts Android would have throttled", 0, fake.throttledStarts.get())
        assertEquals("one wait, before the sixth start", 1, waits.size)
        assertTrue("waited ${waits[0]} ms: until the first start left the 30 s window", waits[0] in 25_000..25_500)
    }

    @Test
    fun without_the_budget_the_fake_throttles_the_sixth_start_silently_like_android() = runBlocking<Unit> {
        val fake = FakeBluetooth()
        val gatt = transport(fake, budget = ScanBudget(maxStarts = 1_000))
        repeat(5) {
            gatt.startScan(fake.serviceUuid.toString())
            fake.advertise(DOOR, byteArrayOf(1))
            gatt.nextAdvertisement(Duration.ofSeconds(2))
            gatt.stopScan()
        }
        gatt.startScan(fake.serviceUuid.toString())
        fake.advertise(DOOR, byteArrayOf(1))
        assertFails<BleException.Timeout>("the throttled sixth scan") { gatt.nextAdvertisement(Duration.ofMillis(300)) }
        assertEquals(1, fake.throttledStarts.get())
    }

    @Test
    fun unlocks_one_after_another_reuse_the_running_scan() = runBlocking<Unit> {
        val fake = FakeBluetooth()
        val gatt = transport(fake, scanLinger = Duration.ofSeconds(10))
        repeat(8) {
            gatt.startScan(fake.serviceUuid.toString())
            fake.advertise(DOOR, byteArrayOf(1))
            assertEquals(DOOR, gatt.nextAdvertisement(Duration.ofSeconds(2)).peripheral)
            gatt.stopScan()
        }
        assertEquals("platform scan starts for eight unlocks", 1, fake.scanStarts.size)
    }

    @Test
    fun bluetooth_switched_off_during_a_connection_fails_the_wait_as_powered_off_and_closes_the_client() = runBlocking<Unit> {
        val fake = FakeBluetooth()
        val gatt = transport(fake)
        gatt.connect(DOOR, Duration.ofSeconds(5))
        val waiting = async {
            try {
                gatt.nextNotification(DOOR, Duration.ofSeconds(10))
                null
            } catch (e: BleException) {
                e
            }
        }
        delay(100)
        val started = System.nanoTime()
        fake.switchOff() // no GATT callback at all, only the adapter broadcast
        val error = waiting.await()
        assertTrue("got $error", error is BleException.PoweredOff)
        assertTrue("reported at once", (System.nanoTime() - started) / 1_000_000 < 2_000)
        assertEquals(AdapterState.POWERED_OFF, gatt.adapterState())
        assertFails<BleException.PoweredOff>("a new connection") { gatt.connect(DOOR, Duration.ofSeconds(1)) }
        gatt.disconnect(DOOR)
        assertEveryClientClosedOnce(fake)
    }

    @Test
    fun location_services_off_on_android_11_is_reported_instead_of_an_empty_scan() = runBlocking<Unit> {
        val fake = FakeBluetooth().apply { locationOn = false }
        val gatt = transport(fake, sdkInt = 30)
        assertEquals(BluetoothReadiness.LOCATION_SERVICES_OFF, BluetoothReadiness.check(fake.context, 30))
        assertEquals(AdapterState.LOCATION_SERVICES_OFF, gatt.adapterState())
        assertFails<BleException.Unauthorized>("a scan") { gatt.startScan(fake.serviceUuid.toString()) }
        assertEquals("no platform scan was started", 0, fake.scanStarts.size)
        assertEquals("Android 12+ scans without location", BluetoothReadiness.READY, BluetoothReadiness.check(fake.context, 31))
        fake.locationOn = true
        gatt.startScan(fake.serviceUuid.toString())
        fake.advertise(DOOR, byteArrayOf(1))
        assertEquals(DOOR, gatt.nextAdvertisement(Duration.ofSeconds(2)).peripheral)
        gatt.stopScan()
    }

    @Test
    fun switching_bluetooth_or_location_tells_the_app_each_time() = runBlocking<Unit> {
        val fake = FakeBluetooth()
        val gatt = transport(fake, sdkInt = 30)
        val told = java.util.concurrent.LinkedBlockingQueue<AdapterState>()
        gatt.onPlatformChanged = { told.put(runBlocking { gatt.adapterState() }) }
        fun next() = told.poll(2, java.util.concurrent.TimeUnit.SECONDS)
        fake.switchOff()
        assertEquals(AdapterState.POWERED_OFF, next())
        fake.switchOn()
        assertEquals(AdapterState.POWERED_ON, next())
        fake.switchLocation(on = false)
        assertEquals(AdapterState.LOCATION_SERVICES_OFF, next())
        fake.switchLocation(on = true)
        assertEquals(AdapterState.POWERED_ON, next())
    }
}
