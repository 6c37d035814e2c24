// Unlocks and door syncs as operations: cancelled at once, never blocking the next door;
// each sync's progress kept to itself; the app's slow listeners never delaying a door.
package app.keyway.test

import app.keyway.DoorSyncListener
import app.keyway.SessionListener
import app.keyway.UnlockListener
import app.keyway.core.DoorSyncProgress
import app.keyway.core.DoorSyncStage
import app.keyway.core.KeywayException
import app.keyway.core.SessionState
import app.keyway.core.UnlockPhase
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.BeforeClass
import org.junit.Test
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

class OperationsTest {
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

    @Test
    fun an_unlock_cancelled_mid_handshake_frees_the_radio_for_the_next_door_at_once() = runBlocking {
        val phone = scene.member("pia")
        phone.radio.stallAnswers = true
        val handshake = CountDownLatch(1)
        val gate = phone.keyway.startUnlock(scene.gate, object : UnlockListener {
            override fun onUnlockPhase(phase: UnlockPhase) {
                if (phase == UnlockPhase.HANDSHAKE) handshake.countDown()
            }
        })
        assertTrue("the unlock reached the handshake", handshake.await(10, TimeUnit.SECONDS))
        // The lock holds its answer; the person walks away from the gate.
        while (!phone.radio.calls.contains("stalled")) Thread.sleep(10)
        val cancelledAt = System.nanoTime()
        gate.cancel()
        expect<KeywayException.Cancelled> { runBlocking { gate.result() } }
        val stopped = (System.nanoTime() - cancelledAt) / 1_000_000
        assertTrue("the cancelled unlock stopped in $stopped ms", stopped < 1000)

        phone.radio.stallAnswers = false
        val started = System.nanoTime()
        val pool = phone.keyway.unlock(scene.pool)
        val took = (System.nanoTime() - started) / 1_000_000
        assertEquals(scene.pool, pool.door)
        // The abandoned gate's handshake bound is 3 s: the pool did not wait for it.
        assertTrue("the next door opened in $took ms", took < 2500)
    }

    @Test
    fun a_newer_unlock_cancels_the_one_still_running() = runBlocking {
        val phone = scene.member("quin")
        phone.radio.stallAnswers = true
        val handshake = CountDownLatch(1)
        val gate = phone.keyway.startUnlock(scene.gate, object : UnlockListener {
            override fun onUnlockPhase(phase: UnlockPhase) {
                if (phase == UnlockPhase.HANDSHAKE) handshake.countDown()
            }
        })
        assertTrue(handshake.await(10, TimeUnit.SECONDS))
        while (!phone.radio.calls.contains("stalled")) Thread.sleep(10)
        phone.radio.stallAnswers = false
        assertEquals(scene.pool, phone.keyway.unlock(scene.pool).door)
        expect<KeywayException.Cancelled> { runBlocking { gate.result() } }
        Unit
    }

    @Test
    fun two_syncs_of_one_door_keep_their_progress_apart() = runBlocking {
        val phone = scene.member("rae")
        fun collect(into: LinkedBlockingQueue<DoorSyncProgress>) = object : DoorSyncListener {
            override fun onDoorSyncProgress(progress: DoorSyncProgress) { into.put(progress) }
        }
        val first = LinkedBlockingQueue<DoorSyncProgress>()
        phone.keyway.startDoorSync(scene.gate, collect(first)).result()
        val second = LinkedBlockingQueue<DoorSyncProgress>()
        phone.keyway.startDoorSync(scene.gate, collect(second)).result()

        fun drain(queue: LinkedBlockingQueue<DoorSyncProgress>): List<DoorSyncProgress> {
            val events = mutableListOf<DoorSyncProgress>()
            while (events.lastOrNull()?.stage != DoorSyncStage.DONE) events += queue.poll(5, TimeUnit.SECONDS) ?: break
            return events
        }
        val one = drain(first)
        val two = drain(second)
        val stages = listOf(
            DoorSyncStage.FETCHING_UPDATE, DoorSyncStage.CONNECTING, DoorSyncStage.APPLIED,
            DoorSyncStage.UPLOADING_RECEIPT, DoorSyncStage.DONE,
        )
        // The first sync carries the door's bundle, byte by byte up to its whole size; the
        // second has nothing new to carry. Neither replays anything of the other.
        val sending = one.filter { it.stage == DoorSyncStage.SENDING_BUNDLE }
        assertTrue("the bundle's bytes were reported", sending.isNotEmpty())
        assertEquals(sending.last().bytesTotal, sending.last().bytesSent)
        assertEquals(stages, one.map { it.stage }.filter { it != DoorSyncStage.SENDING_BUNDLE })
        assertEquals(stages, two.map { it.stage })
        assertEquals(1, one.map { it.syncId }.toSet().size)
        assertEquals(1, two.map { it.syncId }.toSet().size)
        assertTrue("each sync has its own id", one[0].syncId != two[0].syncId)
        assertTrue("nothing else arrived", first.isEmpty() && second.isEmpty())
    }

    @Test
    fun a_listener_that_sleeps_does_not_delay_an_unlock() = runBlocking {
        val phone = scene.member("sol")
        val asleep = CountDownLatch(1)
        val calls = CopyOnWriteArrayList<SessionState>()
        val subscription = phone.keyway.subscribeSession(object : SessionListener {
            override fun onSessionChanged(state: SessionState) {
                calls += state
                asleep.countDown()
                Thread.sleep(5_000)
            }
        })
        assertTrue("the listener was called", asleep.await(5, TimeUnit.SECONDS))
        val started = System.nanoTime()
        phone.keyway.unlock(scene.gate)
        phone.keyway.unlock(scene.gate)
        val took = (System.nanoTime() - started) / 1_000_000
        subscription.cancel()
        assertTrue("two unlocks took $took ms while the listener slept 5 s", took < 3000)
    }
}
