// The background refresh job on the JVM, with a fake JobScheduler: what it schedules, what
// it runs, when it asks to be retried, and that a stop cancels the refresh in flight. The
// job's settings (period, network, persisted) are checked by compiling against the API 35
// stubs only: only a device runs the scheduler itself.
package app.keyway.android

import android.app.job.JobInfo
import android.app.job.JobParameters
import android.app.job.JobScheduler
import android.content.Context
import app.keyway.core.KeywayException
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test

private class FakeScheduler : JobScheduler() {
    val scheduled = AtomicInteger()
    val cancelled = mutableListOf<Int>()
    // The open stubs' builder builds nothing (null): the job's settings are checked by the
    // compile against the strict stubs, not here.
    override fun schedule(job: JobInfo?): Int {
        scheduled.incrementAndGet()
        return RESULT_SUCCESS
    }
    override fun cancel(jobId: Int) {
        cancelled.add(jobId)
    }
    override fun getPendingJob(jobId: Int): JobInfo? = null
}

/** A job whose `jobFinished` is recorded instead of going to the system. */
private class RecordingJob : KeywayRefreshJob() {
    val finished = CountDownLatch(1)
    @Volatile var retry: Boolean? = null
    override fun jobFinished(params: JobParameters, wantsReschedule: Boolean) {
        retry = wantsReschedule
        finished.countDown()
    }
}

class BackgroundRefreshTest {
    private val scheduler = FakeScheduler()
    private val context = object : Context() {
        override fun checkSelfPermission(permission: String): Int = 0
        override fun getApplicationContext(): Context = this
        override fun getNoBackupFilesDir(): java.io.File = throw UnsupportedOperationException("not used")
        override fun getPackageManager(): android.content.pm.PackageManager = throw UnsupportedOperationException("not used")
        override fun getSystemServiceName(serviceClass: Class<*>): String? = null
        @Suppress("UNCHECKED_CAST")
        override fun <T> getSystemService(serviceClass: Class<T>): T =
            (if (serviceClass == JobScheduler::class.java) scheduler else null) as T
        override fun registerReceiver(receiver: android.content.BroadcastReceiver?, filter: android.content.IntentFilter?) = null
        override fun unregisterReceiver(receiver: android.content.BroadcastReceiver) {}
    }

    @After
    fun forget() {
        KeywayBackgroundRefresh.cancel(context)
    }

    @Test
    fun background_refresh_is_scheduled_once_per_install_and_cancelled_by_its_id() {
        assertTrue(KeywayBackgroundRefresh.install(context) {})
        assertEquals(1, scheduler.scheduled.get())
        KeywayBackgroundRefresh.cancel(context)
        assertEquals(listOf(KeywayBackgroundRefresh.JOB_ID), scheduler.cancelled)
        val tooOften = runCatching { KeywayBackgroundRefresh.install(context, periodMillis = 60_000) {} }
        assertTrue("Android's 15-minute floor is enforced", tooOften.exceptionOrNull() is IllegalArgumentException)
    }

    @Test
    fun background_refresh_is_retried_only_when_the_service_was_out_of_reach() = runBlocking {
        val outcomes = listOf<Pair<() -> Unit, Boolean>>(
            {} to false,
            { throw KeywayException.Offline() } to true,
            { throw KeywayException.ServiceUnavailable() } to true,
            { throw KeywayException.SessionEnded() } to false,
            { throw KeywayException.NotSignedIn() } to false,
        )
        for ((refresh, retry) in outcomes) {
            KeywayBackgroundRefresh.install(context) { refresh() }
            assertEquals(retry, KeywayBackgroundRefresh.runOnce())
        }
        KeywayBackgroundRefresh.cancel(context)
        assertFalse("nothing installed: nothing to retry", KeywayBackgroundRefresh.runOnce())
    }

    @Test
    fun background_refresh_job_runs_the_refresh_off_the_main_thread_and_reports_when_done() {
        val ran = AtomicInteger()
        KeywayBackgroundRefresh.install(context) { ran.incrementAndGet() }
        val job = RecordingJob()
        assertTrue("the job keeps working after onStartJob returns", job.onStartJob(JobParameters()))
        assertTrue(job.finished.await(10, TimeUnit.SECONDS))
        assertEquals(1, ran.get())
        assertEquals(false, job.retry)
    }

    @Test
    fun background_refresh_stopped_by_the_system_is_cancelled_and_asks_to_run_again() {
        val started = CompletableDeferred<Unit>()
        val never = CompletableDeferred<Unit>()
        KeywayBackgroundRefresh.install(context) {
            started.complete(Unit)
            never.await()
        }
        val job = RecordingJob()
        job.onStartJob(JobParameters())
        runBlocking { started.await() }
        assertTrue("stopped jobs are rescheduled", job.onStopJob(JobParameters()))
        assertFalse("a cancelled refresh reports nothing", job.finished.await(300, TimeUnit.MILLISECONDS))
    }
}
