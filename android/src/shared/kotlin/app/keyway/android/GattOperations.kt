// Which GATT callback answers which request. Pure Kotlin, tested on the JVM.
package app.keyway.android

import app.keyway.core.BleException
import kotlinx.coroutines.CompletableDeferred

/** The kinds of GATT request the transport makes, each answered by its own callback. */
enum class GattRequest {
    /** `requestMtu`, answered by `onMtuChanged`. */
    MTU,
    /** `discoverServices`, answered by `onServicesDiscovered`. */
    DISCOVER_SERVICES,
    /** `writeDescriptor`, answered by `onDescriptorWrite`. */
    WRITE_DESCRIPTOR,
    /** `writeCharacteristic`, answered by `onCharacteristicWrite`. */
    WRITE_CHARACTERISTIC,
}

/**
 * The one GATT request a link has in flight (Android allows one at a time) and its answer.
 *
 * A callback completes the request only if it is the answer to that kind of request: an
 * `onMtuChanged` the peer started on its own, or a late answer to a request of another
 * kind, is ignored instead of completing whatever happens to be waiting. A late answer of
 * the *same* kind cannot be told apart from the real one (Android's callbacks carry no
 * request id), so the transport never lets a link go on after a request timed out; see
 * `GattTransport`.
 */
class GattOperations {
    /** A request in flight: its kind and the status its callback reports. */
    class Pending internal constructor(val request: GattRequest) {
        internal val answer = CompletableDeferred<Int>()

        /** Waits for the callback's status (or the link's failure). */
        suspend fun await(): Int = answer.await()
    }

    @Volatile private var pending: Pending? = null
    @Volatile private var failedWith: BleException? = null

    /** Starts waiting for [request]'s answer; fails at once if the link has already failed. */
    @Synchronized
    fun begin(request: GattRequest): Pending {
        failedWith?.let { throw it }
        check(pending == null) { "a GATT request is already in flight" }
        return Pending(request).also { pending = it }
    }

    /** A callback for [request] arrived with [status]: true if it answered the waiting request. */
    @Synchronized
    fun answer(request: GattRequest, status: Int): Boolean {
        val waiting = pending ?: return false
        if (waiting.request != request) return false
        pending = null
        return waiting.answer.complete(status)
    }

    /** Stops waiting for [p] (done, failed to start, or timed out). */
    @Synchronized
    fun finish(p: Pending) {
        if (pending === p) pending = null
    }

    /** The link is gone: the waiting request and every later one fail with [error]. */
    @Synchronized
    fun fail(error: BleException) {
        if (failedWith == null) failedWith = error
        pending?.answer?.completeExceptionally(error)
        pending = null
    }
}
