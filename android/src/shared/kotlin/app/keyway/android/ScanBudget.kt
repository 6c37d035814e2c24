// How often Android lets an app start a Bluetooth LE scan. Pure Kotlin, tested on the JVM.
package app.keyway.android

/**
 * Android (7 and later) lets an app start at most five scans in any 30 seconds; a sixth
 * start is accepted without an error and then silently delivers nothing, which would read
 * as "door not in range". The transport asks [delayBeforeStart] before each real start
 * and waits that long first, then calls [recordStart]. Times are milliseconds of a
 * monotonic clock.
 */
class ScanBudget(
    /** Starts allowed within [windowMillis]. */
    val maxStarts: Int = 5,
    /** The platform's window: 30 s. */
    val windowMillis: Long = 30_000,
    /** Added to the wait, so a start never lands on the window's edge. */
    val marginMillis: Long = 250,
) {
    private val starts = ArrayDeque<Long>()

    /** How long to wait at [now] before a start stays within the budget (0: start now). */
    @Synchronized
    fun delayBeforeStart(now: Long): Long {
        while (starts.isNotEmpty() && now - starts.first() >= windowMillis + marginMillis) starts.removeFirst()
        if (starts.size < maxStarts) return 0
        val oldestThatCounts = starts.elementAt(starts.size - maxStarts)
        return (oldestThatCounts + windowMillis + marginMillis - now).coerceAtLeast(0)
    }

    /** Records a scan start at [now]. */
    @Synchronized
    fun recordStart(now: Long) {
        starts.addLast(now)
    }
}
