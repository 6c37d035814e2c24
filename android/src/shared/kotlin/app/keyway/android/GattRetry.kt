// When a BluetoothGatt connection is tried again. Pure Kotlin, tested on the JVM.
package app.keyway.android

import app.keyway.core.BleException

/** GATT status codes the shell reacts to (android.bluetooth.BluetoothGatt and the stack's own). */
object GattStatus {
    /** `BluetoothGatt.GATT_SUCCESS`. */
    const val SUCCESS = 0
    /** The stack's connection timeout (`GATT_CONN_TIMEOUT`). */
    const val CONNECTION_TIMEOUT = 8
    /** The peer ended the link (`GATT_CONN_TERMINATE_PEER_USER`). */
    const val TERMINATED_BY_PEER = 19
    /** The stack's catch-all `GATT_ERROR`, usually transient: a stale client or a busy controller. */
    const val GATT_ERROR = 133
}

/** A failed `connectGatt` attempt, with the status `onConnectionStateChange` reported. */
class GattConnectFailure(val status: Int) : Exception("GATT status $status")

/**
 * Whether a failed connection is tried again: only status 133, and only [retries] times
 * (once by default), each after the failed `BluetoothGatt` is closed, since a client that
 * is not closed keeps the next attempt failing the same way.
 */
class GattRetryPolicy(val retries: Int = 1) {
    /** True if attempt number [attempt] (0 = first) that failed with [status] gets another try. */
    fun shouldRetry(status: Int, attempt: Int): Boolean = status == GattStatus.GATT_ERROR && attempt < retries

    /** The transport's error for a connection that failed with [status] and is not retried. */
    fun errorFor(status: Int, attempts: Int): BleException = when (status) {
        GattStatus.CONNECTION_TIMEOUT -> BleException.Timeout()
        GattStatus.TERMINATED_BY_PEER -> BleException.Disconnected()
        else -> BleException.ConnectFailed("GATT status $status after $attempts attempt(s)")
    }

    /**
     * Runs [attempt] (given its number) until it succeeds, retrying per [shouldRetry]; the
     * block must close its `BluetoothGatt` before throwing [GattConnectFailure]. Throws the
     * mapped [BleException] when it gives up.
     */
    suspend fun <T> connect(attempt: suspend (Int) -> T): T {
        var n = 0
        while (true) {
            try {
                return attempt(n)
            } catch (failure: GattConnectFailure) {
                if (!shouldRetry(failure.status, n)) throw errorFor(failure.status, n + 1)
                n++
            }
        }
    }
}
