package app.keyway.android

import org.junit.Assert.assertEquals
import org.junit.Test

class ScanBudgetTest {
    @Test
    fun five_starts_in_30_s_go_at_once_and_the_sixth_waits_for_the_first_to_age_out() {
        val budget = ScanBudget()
        for (t in listOf(0L, 1_000, 2_000, 3_000, 4_000)) {
            assertEquals(0, budget.delayBeforeStart(t))
            budget.recordStart(t)
        }
        assertEquals(30_000 + 250 - 5_000L, budget.delayBeforeStart(5_000))
    }

    @Test
    fun starts_spread_over_more_than_30_s_never_wait() {
        val budget = ScanBudget()
        var t = 0L
        repeat(20) {
            assertEquals(0, budget.delayBeforeStart(t))
            budget.recordStart(t)
            t += 6_500
        }
    }
}
