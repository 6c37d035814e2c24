// Keyway's listeners as Kotlin Flows. Pure Kotlin over the generated API, compiled on the JVM.
package app.keyway.android

import app.keyway.DoorSyncListener
import app.keyway.core.DoorSyncProgress
import app.keyway.core.Key
import app.keyway.KeysListener
import app.keyway.ReadinessListener
import app.keyway.core.Readiness
import app.keyway.Keyway
import app.keyway.SessionListener
import app.keyway.core.SessionState
import app.keyway.Subscription
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.channels.ProducerScope
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.conflate

/** Subscribes while the flow is collected; cancelling the collector cancels the subscription. */
private fun <T> listen(subscribe: ProducerScope<T>.() -> Subscription): Flow<T> = callbackFlow {
    val subscription = subscribe()
    awaitClose { subscription.cancel() }
}

/** The session's state as it changes (signed in, signed out, ended elsewhere); only the latest matters. */
fun Keyway.sessionStates(): Flow<SessionState> = listen<SessionState> {
    subscribeSession(object : SessionListener {
        override fun onSessionChanged(state: SessionState) {
            trySend(state)
        }
    })
}.conflate()

/** The person's keys, each time they change (refresh, share, revocation); only the latest matters. */
fun Keyway.keyUpdates(): Flow<List<Key>> = listen<List<Key>> {
    subscribeKeys(object : KeysListener {
        override fun onKeysChanged(keys: List<Key>) {
            trySend(keys)
        }
    })
}.conflate()

/** Every door-sync progress step, none dropped (a UI shows each stage). */
fun Keyway.doorSyncProgress(): Flow<DoorSyncProgress> = listen<DoorSyncProgress> {
    subscribeDoorSync(object : DoorSyncListener {
        override fun onDoorSyncProgress(progress: DoorSyncProgress) {
            trySend(progress)
        }
    })
}.buffer(kotlinx.coroutines.channels.Channel.UNLIMITED)

/** Whether this phone can open a door now (Bluetooth, permission, each door's access); only the latest matters. */
fun Keyway.readinessUpdates(): Flow<Readiness> = listen<Readiness> {
    subscribeReadiness(object : ReadinessListener {
        override fun onReadinessChanged(readiness: Readiness) {
            trySend(readiness)
        }
    })
}.conflate()
