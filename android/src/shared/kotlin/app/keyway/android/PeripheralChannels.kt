// Per-peripheral queues between Android's Bluetooth callbacks and the core's `next…` calls.
// Pure Kotlin (coroutines only), tested on the JVM.
package app.keyway.android

import app.keyway.core.BleException
import java.time.Duration
import java.util.concurrent.ConcurrentHashMap
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.ClosedReceiveChannelException
import kotlinx.coroutines.withTimeoutOrNull

/**
 * One unbounded queue per key (a peripheral's address, or the scan), fed from binder
 * threads with [offer] and drained by the core with [next], which honours the core's
 * timeout. [close] ends a key's queue: a waiting or later [next] fails with the error given
 * (e.g. `BleException.Disconnected` when the link drops), until [open] starts a new one.
 */
class PeripheralChannels<T> {
    private class Queue<T>(val channel: Channel<T> = Channel(Channel.UNLIMITED)) {
        @Volatile var closedWith: BleException? = null
    }

    private val queues = ConcurrentHashMap<String, Queue<T>>()

    /** Starts a fresh, empty queue for [key], dropping anything left from before. */
    fun open(key: String) {
        queues.put(key, Queue())?.channel?.close()
    }

    /** Queues [value] for [key]; ignored if the key has no open queue (a late callback). */
    fun offer(key: String, value: T) {
        queues[key]?.channel?.trySend(value)
    }

    /** Ends [key]'s queue: waiting and later [next] calls fail with [error]. */
    fun close(key: String, error: BleException) {
        val queue = queues[key] ?: return
        queue.closedWith = error
        queue.channel.close()
    }

    /** Forgets [key] (after disconnect): later [next] calls fail with `Disconnected`. */
    fun remove(key: String) {
        queues.remove(key)?.channel?.close()
    }

    /** The next value for [key], or `BleException.Timeout` after [timeout]. */
    suspend fun next(key: String, timeout: Duration): T {
        val queue = queues[key] ?: throw BleException.Disconnected()
        return try {
            withTimeoutOrNull(timeout.toMillis()) { queue.channel.receive() } ?: throw BleException.Timeout()
        } catch (closed: ClosedReceiveChannelException) {
            throw queue.closedWith ?: BleException.Disconnected()
        }
    }
}
