// A queue between CoreBluetooth's delegate callbacks and the core's awaiting calls.
import Foundation

/// Values offered from delegate callbacks, taken one at a time by an `async` reader that
/// gives up after the core's timeout (`BleError.Timeout`). `close(with:)` fails the waiting
/// and all later reads with that error (e.g. `BleError.Disconnected` when the link drops).
final class Mailbox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Value] = []
    private var closedWith: BleError?
    private var waiter: (id: UInt64, continuation: CheckedContinuation<Value, Error>)?
    private var lastWaiterId: UInt64 = 0

    /// Queues `value`, or hands it to the waiting reader. Ignored once closed.
    func offer(_ value: Value) {
        lock.lock()
        if let waiting = waiter {
            waiter = nil
            lock.unlock()
            waiting.continuation.resume(returning: value)
            return
        }
        if closedWith == nil { values.append(value) }
        lock.unlock()
    }

    /// Ends the mailbox: the waiting and every later `next` fail with `error`.
    func close(with error: BleError) {
        lock.lock()
        closedWith = error
        values.removeAll()
        let waiting = waiter
        waiter = nil
        lock.unlock()
        waiting?.continuation.resume(throwing: error)
    }

    /// The next value, or `BleError.Timeout` after `timeout` seconds.
    func next(timeout: TimeInterval) async throws -> Value {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, Error>) in
            lock.lock()
            if !values.isEmpty {
                let value = values.removeFirst()
                lock.unlock()
                continuation.resume(returning: value)
                return
            }
            if let error = closedWith {
                lock.unlock()
                continuation.resume(throwing: error)
                return
            }
            if waiter != nil {
                lock.unlock()
                continuation.resume(throwing: BleError.Other(detail: "two readers on one queue"))
                return
            }
            lastWaiterId += 1
            let id = lastWaiterId
            waiter = (id, continuation)
            lock.unlock()
            Task { [weak self] in
                try? await Task.sleep(nanoseconds: UInt64(max(timeout, 0) * 1_000_000_000))
                self?.expire(id)
            }
        }
    }

    private func expire(_ id: UInt64) {
        lock.lock()
        guard let waiting = waiter, waiting.id == id else {
            lock.unlock()
            return
        }
        waiter = nil
        lock.unlock()
        waiting.continuation.resume(throwing: BleError.Timeout)
    }
}
