// Keyway's listeners as AsyncStreams.
import Foundation

/// Feeds one listener protocol's callbacks into an `AsyncStream`.
private final class StreamListener<Value: Sendable>: SessionListener, KeysListener, DoorSyncListener, ReadinessListener, @unchecked Sendable {
    private let yield: @Sendable (Any) -> Void

    init(_ continuation: AsyncStream<Value>.Continuation) {
        yield = { value in
            if let value = value as? Value { continuation.yield(value) }
        }
    }

    func onSessionChanged(state: SessionState) { yield(state) }
    func onKeysChanged(keys: [Key]) { yield(keys) }
    func onDoorSyncProgress(progress: DoorSyncProgress) { yield(progress) }
    func onReadinessChanged(readiness: Readiness) { yield(readiness) }
}

extension Keyway {
    private func stream<Value: Sendable>(
        _ policy: AsyncStream<Value>.Continuation.BufferingPolicy,
        _ subscribe: (StreamListener<Value>) -> Subscription
    ) -> AsyncStream<Value> {
        AsyncStream(bufferingPolicy: policy) { continuation in
            let subscription = subscribe(StreamListener(continuation))
            // Ending the `for await` loop (or its task) ends the subscription.
            continuation.onTermination = { _ in subscription.cancel() }
        }
    }

    /// The session's state as it changes; only the latest is kept for a slow reader.
    public func sessionStates() -> AsyncStream<SessionState> {
        stream(.bufferingNewest(1)) { subscribeSession(listener: $0) }
    }

    /// The person's keys each time they change; only the latest is kept for a slow reader.
    public func keyUpdates() -> AsyncStream<[Key]> {
        stream(.bufferingNewest(1)) { subscribeKeys(listener: $0) }
    }

    /// Every door-sync progress step, none dropped.
    public func doorSyncProgress() -> AsyncStream<DoorSyncProgress> {
        stream(.unbounded) { subscribeDoorSync(listener: $0) }
    }

    /// Whether this phone can open a door now (Bluetooth, permission, each door's access),
    /// as it changes; only the latest is kept for a slow reader.
    public func readinessUpdates() -> AsyncStream<Readiness> {
        stream(.bufferingNewest(1)) { subscribeReadiness(listener: $0) }
    }
}
