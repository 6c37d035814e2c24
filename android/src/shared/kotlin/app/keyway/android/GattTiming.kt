// The clocks and waits GattTransport uses, in one place so the JVM tests can drive them.
package app.keyway.android

import java.time.Duration
import kotlinx.coroutines.delay

/**
 * Timing choices of [GattTransport]:
 * - [operationTimeout]: how long one GATT request (MTU, discovery, descriptor or frame
 *   write) may wait for its callback before the link is given up.
 * - [scanLinger]: how long the platform scan keeps running after the core stops scanning.
 *   An unlock stops its scan as soon as the door is heard, so without this every unlock
 *   would spend one of Android's five scan starts per 30 s; with it, a person who opens
 *   doors one after another (or retries) reuses the running scan. Zero stops at once.
 * - [scanBudget]: the platform's scan-start limit, waited out instead of exceeded.
 * - [now] and [pause]: a monotonic clock in milliseconds and a way to wait.
 */
class GattTiming(
    val operationTimeout: Duration = Duration.ofSeconds(5),
    val scanLinger: Duration = Duration.ofSeconds(20),
    val scanBudget: ScanBudget = ScanBudget(),
    val now: () -> Long = { System.nanoTime() / 1_000_000 },
    val pause: suspend (Long) -> Unit = { delay(it) },
)
