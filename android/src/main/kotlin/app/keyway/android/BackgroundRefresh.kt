// Background refresh on Android: a periodic job that refreshes keys, renews credentials
// before they lapse and fetches door updates, even when the app is never opened.
package app.keyway.android

import android.app.job.JobInfo
import android.app.job.JobParameters
import android.app.job.JobScheduler
import android.app.job.JobService
import android.content.ComponentName
import android.content.Context
import app.keyway.core.KeywayException
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancelChildren
import kotlinx.coroutines.launch

/**
 * Schedules Keyway's periodic background refresh with the platform's JobScheduler (what
 * WorkManager uses underneath; the shell adds no androidx dependency). Call [install] from
 * `Application.onCreate`, every start:
 *
 * ```
 * KeywayBackgroundRefresh.install(this) { keyway.refresh() }
 * ```
 *
 * The job runs when a network is available, about every [DEFAULT_PERIOD_MS], survives
 * reboots (the manifest asks for `RECEIVE_BOOT_COMPLETED`), and is retried with the
 * system's back-off when the service cannot be reached. Android decides the exact times:
 * Doze and App Standby buckets stretch them (a rarely used app may run once a day), and
 * 15 minutes is the shortest period the system allows.
 */
object KeywayBackgroundRefresh {
    /** The job's id (apps using JobScheduler themselves must not reuse it). */
    const val JOB_ID: Int = 0x4B57_0001

    /**
     * Every 4 hours by default: credentials last 72 hours and are renewed in their last 24,
     * so even a stretched schedule renews them long before they lapse.
     */
    const val DEFAULT_PERIOD_MS: Long = 4 * 60 * 60 * 1000L

    /** The shortest period Android accepts (`JobInfo.getMinPeriodMillis()`). */
    const val MIN_PERIOD_MS: Long = 15 * 60 * 1000L

    @Volatile
    internal var refresh: (suspend () -> Unit)? = null

    /**
     * Installs [refresh] (usually `keyway.refresh()`) as what the job runs, and schedules
     * the job (replacing an earlier schedule). Returns false if the system refused it.
     */
    fun install(context: Context, periodMillis: Long = DEFAULT_PERIOD_MS, refresh: suspend () -> Unit): Boolean {
        require(periodMillis >= MIN_PERIOD_MS) { "Android runs periodic jobs at most every 15 minutes" }
        this.refresh = refresh
        val scheduler = context.getSystemService(JobScheduler::class.java) ?: return false
        val job = JobInfo.Builder(JOB_ID, ComponentName(context, KeywayRefreshJob::class.java))
            .setPeriodic(periodMillis, periodMillis / 4)
            .setRequiredNetworkType(JobInfo.NETWORK_TYPE_ANY)
            .setPersisted(true)
            .build()
        return scheduler.schedule(job) == JobScheduler.RESULT_SUCCESS
    }

    /** Stops the background refresh (after sign-out, for instance). */
    fun cancel(context: Context) {
        context.getSystemService(JobScheduler::class.java)?.cancel(JOB_ID)
        refresh = null
    }

    /**
     * Runs one refresh; returns whether the job should be retried later: only when the
     * service could not be reached. Signed out, or any other refusal: not before the next
     * period.
     */
    internal suspend fun runOnce(): Boolean {
        val refresh = refresh ?: return false
        return try {
            refresh()
            false
        } catch (e: CancellationException) {
            throw e
        } catch (e: KeywayException.Offline) {
            true
        } catch (e: KeywayException.ServiceUnavailable) {
            true
        } catch (e: KeywayException) {
            false
        }
    }
}

/**
 * The job service the manifest declares (`BIND_JOB_SERVICE`); runs
 * [KeywayBackgroundRefresh]'s refresh off the main thread. Open only so the JVM tests can
 * record `jobFinished`.
 */
open class KeywayRefreshJob : JobService() {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.IO)

    override fun onStartJob(params: JobParameters): Boolean {
        if (KeywayBackgroundRefresh.refresh == null) return false // not installed: nothing to do
        scope.launch { jobFinished(params, KeywayBackgroundRefresh.runOnce()) }
        return true
    }

    /** The system stopped the job (constraints lost, time up): cancel, and run it again later. */
    override fun onStopJob(params: JobParameters): Boolean {
        scope.coroutineContext.cancelChildren()
        return true
    }
}
