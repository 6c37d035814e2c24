// Keyway's radio on Android: BluetoothLeScanner and BluetoothGatt behind the core's BleTransport.
package app.keyway.android

import android.annotation.SuppressLint
import android.bluetooth.BluetoothAdapter
import android.bluetooth.BluetoothDevice
import android.bluetooth.BluetoothGatt
import android.bluetooth.BluetoothGattCallback
import android.bluetooth.BluetoothGattCharacteristic
import android.bluetooth.BluetoothGattDescriptor
import android.bluetooth.BluetoothManager
import android.bluetooth.BluetoothProfile
import android.bluetooth.le.ScanCallback
import android.bluetooth.le.ScanFilter
import android.bluetooth.le.ScanResult
import android.bluetooth.le.ScanSettings
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.location.LocationManager
import android.os.Build
import android.os.ParcelUuid
import app.keyway.core.AdapterState
import app.keyway.core.Advertisement
import app.keyway.core.BleException
import app.keyway.BleTransport
import app.keyway.bleProfile
import java.time.Duration
import java.util.UUID
import java.util.concurrent.ConcurrentHashMap
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withTimeout

/** The Client Characteristic Configuration descriptor that switches notifications on. */
private val CCC_DESCRIPTOR: UUID = UUID.fromString("00002902-0000-1000-8000-00805f9b34fb")

/** The ATT MTU asked for: the largest the spec allows, so a credential fits in few frames. */
private const val REQUESTED_MTU = 517

/** The ATT MTU before any exchange. */
private const val DEFAULT_MTU = 23

/**
 * [BleTransport] over Android's BluetoothGatt. Peripherals are named by MAC address.
 *
 * - Scans filter on the Keyway service UUID. The platform scan keeps running for
 *   [GattTiming.scanLinger] after the core stops scanning and is reused by the next unlock,
 *   and a start that would be Android's sixth in 30 s waits for the budget instead of being
 *   silently throttled (which would read as "door not in range"): see [ScanBudget].
 * - Connections use TRANSPORT_LE and retry GATT status 133 once after `close()`; then MTU
 *   517, service discovery and notifications on the response characteristic.
 * - One GATT request at a time per link; a callback only answers a request of its own kind
 *   ([GattOperations]), so an unprompted `onMtuChanged` completes nothing. A request that
 *   times out ends the link (its late answer could otherwise complete the next request of
 *   the same kind); a timed-out MTU request alone keeps the link at MTU 23.
 * - Every `BluetoothGatt` is closed exactly once: on a failed attempt, on link loss, on
 *   timeout, on Bluetooth switching off, and on [disconnect].
 * - Bluetooth switching off (the adapter's state broadcast) fails waiting calls with
 *   `PoweredOff` at once, even on phones that never report the link's loss.
 * - Android 11 and older: location services off is reported as `Unauthorized` (the app
 *   reads which prompt to show from [BluetoothReadiness]).
 */
@SuppressLint("MissingPermission") // every entry point checks the permissions first (ready())
class GattTransport internal constructor(
    private val context: Context,
    private val retry: GattRetryPolicy,
    private val timing: GattTiming,
    private val sdkInt: Int,
) : BleTransport {
    /** The transport for [context] (use the application context). */
    constructor(context: Context, retry: GattRetryPolicy = GattRetryPolicy()) :
        this(context, retry, GattTiming(), Build.VERSION.SDK_INT)

    private val profile = bleProfile()
    private val serviceUuid = UUID.fromString(profile.serviceUuid)
    private val requestUuid = UUID.fromString(profile.requestCharacteristicUuid)
    private val responseUuid = UUID.fromString(profile.responseCharacteristicUuid)
    private val manager = context.getSystemService(BluetoothManager::class.java)
    private val adapter: BluetoothAdapter? get() = manager?.adapter

    private val advertisements = PeripheralChannels<Advertisement>()
    private val notifications = PeripheralChannels<ByteArray>()
    private val links = ConcurrentHashMap<String, Link>()
    private val background = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    /** The platform scan: whether it runs, for which service, and its pending stop. */
    private val scanLock = Mutex()
    @Volatile private var scanningFor: String? = null
    private var lingerStop: Job? = null

    /**
     * Called when Bluetooth is switched on or off, or location services are switched: what
     * `adapterState()` reports may have changed. [KeywayAndroid.create] points it at
     * `Keyway.platformChanged()`, so readiness subscriptions follow. Runs on the thread the
     * system delivers broadcasts on (the main thread); keep it quick.
     */
    @Volatile var onPlatformChanged: (() -> Unit)? = null

    /** Bluetooth switching off ends every link and the scan at once; any switch is reported. */
    private val platformWatcher = object : BroadcastReceiver() {
        override fun onReceive(context: Context, intent: Intent) {
            when (intent.action) {
                BluetoothAdapter.ACTION_STATE_CHANGED -> {
                    val state = intent.getIntExtra(BluetoothAdapter.EXTRA_STATE, BluetoothAdapter.ERROR)
                    if (state == BluetoothAdapter.STATE_TURNING_OFF || state == BluetoothAdapter.STATE_OFF) poweredOff()
                }
                LocationManager.MODE_CHANGED_ACTION -> Unit
                else -> return
            }
            onPlatformChanged?.invoke()
        }
    }

    init {
        val filter = IntentFilter(BluetoothAdapter.ACTION_STATE_CHANGED)
        filter.addAction(LocationManager.MODE_CHANGED_ACTION)
        context.registerReceiver(platformWatcher, filter)
    }

    private fun poweredOff() {
        scanningFor = null // the platform ended it; the next start is a real start
        advertisements.close(SCAN, BleException.PoweredOff())
        for (link in links.values) link.lost(BleException.PoweredOff())
    }

    /** One connection: its BluetoothGatt, the request in flight, and whether it is over. */
    private inner class Link(val address: String) : BluetoothGattCallback() {
        @Volatile var gatt: BluetoothGatt? = null
        val connected = kotlinx.coroutines.CompletableDeferred<Unit>()
        val requests = GattOperations()
        private val oneAtATime = Mutex()
        @Volatile var mtu = DEFAULT_MTU
        private var released = false

        /** Closes the BluetoothGatt exactly once; false if it already was. */
        fun release(): Boolean {
            val closing = synchronized(this) {
                if (released) return false
                released = true
                gatt
            }
            closing?.let { g ->
                try {
                    g.disconnect()
                } catch (_: SecurityException) {
                } finally {
                    g.close()
                }
            }
            return true
        }

        /** The link is over: waiting and later calls fail with [error]; the gatt is closed. */
        fun lost(error: BleException) {
            release() // closed before anyone waiting hears of it
            links.remove(address, this)
            requests.fail(error)
            if (!connected.isCompleted) connected.completeExceptionally(error)
            notifications.close(address, error)
        }

        private fun current(g: BluetoothGatt): Boolean {
            if (gatt == null) gatt = g // a callback can beat connectGatt's return
            return synchronized(this) { !released } && gatt === g
        }

        override fun onConnectionStateChange(g: BluetoothGatt, status: Int, newState: Int) {
            if (!current(g)) return
            if (newState == BluetoothProfile.STATE_CONNECTED && status == BluetoothGatt.GATT_SUCCESS) {
                connected.complete(Unit)
            } else if (newState == BluetoothProfile.STATE_DISCONNECTED || status != BluetoothGatt.GATT_SUCCESS) {
                if (!connected.isCompleted) {
                    connected.completeExceptionally(GattConnectFailure(status))
                } else {
                    lost(BleException.Disconnected())
                }
            }
        }

        override fun onMtuChanged(g: BluetoothGatt, mtu: Int, status: Int) {
            if (!current(g)) return
            // Also arrives unprompted when the peer starts the exchange: it then answers nothing.
            if (status == BluetoothGatt.GATT_SUCCESS) this.mtu = mtu
            requests.answer(GattRequest.MTU, status)
        }

        override fun onServicesDiscovered(g: BluetoothGatt, status: Int) {
            if (current(g)) requests.answer(GattRequest.DISCOVER_SERVICES, status)
        }

        override fun onDescriptorWrite(g: BluetoothGatt, descriptor: BluetoothGattDescriptor, status: Int) {
            if (current(g)) requests.answer(GattRequest.WRITE_DESCRIPTOR, status)
        }

        override fun onCharacteristicWrite(g: BluetoothGatt, characteristic: BluetoothGattCharacteristic, status: Int) {
            if (current(g) && characteristic.uuid == requestUuid) requests.answer(GattRequest.WRITE_CHARACTERISTIC, status)
        }

        override fun onCharacteristicChanged(g: BluetoothGatt, characteristic: BluetoothGattCharacteristic, value: ByteArray) {
            if (current(g) && characteristic.uuid == responseUuid) notifications.offer(address, value.copyOf())
        }

        @Deprecated("Android 12 and older")
        override fun onCharacteristicChanged(g: BluetoothGatt, characteristic: BluetoothGattCharacteristic) {
            @Suppress("DEPRECATION")
            if (sdkInt < 33) onCharacteristicChanged(g, characteristic, characteristic.value ?: return)
        }

        /**
         * Starts one GATT request with [start] and waits for its own callback's status.
         * On timeout the link ends (unless [keepOnTimeout]), since a late answer could not
         * be told from the next request's.
         */
        suspend fun request(
            kind: GattRequest,
            keepOnTimeout: Boolean = false,
            start: (BluetoothGatt) -> Boolean,
        ): Int? = oneAtATime.withLock {
            val g = gatt ?: throw BleException.Disconnected()
            val pending = requests.begin(kind)
            try {
                val started = try {
                    start(g)
                } catch (e: SecurityException) {
                    throw BleException.Unauthorized()
                }
                if (!started) throw BleException.Other("${kind.name.lowercase()} could not start")
                withTimeout(timing.operationTimeout.toMillis()) { pending.await() }
            } catch (e: TimeoutCancellationException) {
                if (keepOnTimeout) return@withLock null
                lost(BleException.Disconnected())
                throw BleException.Timeout()
            } finally {
                requests.finish(pending)
            }
        }
    }

    override suspend fun adapterState(): AdapterState = when (BluetoothReadiness.check(context, sdkInt)) {
        BluetoothReadiness.READY -> AdapterState.POWERED_ON
        BluetoothReadiness.NO_BLUETOOTH_LE -> AdapterState.UNSUPPORTED
        BluetoothReadiness.PERMISSION_MISSING -> AdapterState.UNAUTHORIZED
        BluetoothReadiness.LOCATION_SERVICES_OFF -> AdapterState.LOCATION_SERVICES_OFF
        BluetoothReadiness.BLUETOOTH_OFF -> AdapterState.POWERED_OFF
    }

    /** The usable adapter, or the trait's error for why there is none. */
    private fun ready(scanning: Boolean): BluetoothAdapter = when (BluetoothReadiness.check(context, sdkInt)) {
        BluetoothReadiness.READY -> adapter ?: throw BleException.PoweredOff()
        BluetoothReadiness.NO_BLUETOOTH_LE -> throw BleException.Other("this phone has no Bluetooth LE")
        BluetoothReadiness.PERMISSION_MISSING -> throw BleException.Unauthorized()
        BluetoothReadiness.BLUETOOTH_OFF -> throw BleException.PoweredOff()
        BluetoothReadiness.LOCATION_SERVICES_OFF ->
            if (scanning) throw BleException.Unauthorized() else adapter ?: throw BleException.PoweredOff()
    }

    private val scanCallback = object : ScanCallback() {
        override fun onScanResult(callbackType: Int, result: ScanResult) {
            val data = result.scanRecord?.getManufacturerSpecificData(profile.companyId.toInt()) ?: return
            advertisements.offer(SCAN, Advertisement(result.device.address, data, result.rssi.toShort()))
        }

        override fun onScanFailed(errorCode: Int) {
            scanningFor = null
            val error = when (errorCode) {
                SCAN_FAILED_SCANNING_TOO_FREQUENTLY -> BleException.Other("Android refused the scan: started too often")
                else -> BleException.Other("scan failed with code $errorCode")
            }
            advertisements.close(SCAN, error)
        }
    }

    override suspend fun startScan(serviceUuid: String) = scanLock.withLock {
        lingerStop?.cancel()
        lingerStop = null
        val adapter = ready(scanning = true)
        advertisements.open(SCAN)
        if (scanningFor == serviceUuid) return@withLock // the lingering scan still runs
        if (scanningFor != null) stopPlatformScan()
        val wait = timing.scanBudget.delayBeforeStart(timing.now())
        if (wait > 0) timing.pause(wait) // a sixth start in 30 s would be dropped silently
        val scanner = adapter.bluetoothLeScanner ?: throw BleException.PoweredOff()
        val filter = ScanFilter.Builder().setServiceUuid(ParcelUuid(UUID.fromString(serviceUuid))).build()
        val settings = ScanSettings.Builder().setScanMode(ScanSettings.SCAN_MODE_LOW_LATENCY).build()
        try {
            scanner.startScan(listOf(filter), settings, scanCallback)
        } catch (e: SecurityException) {
            throw BleException.Unauthorized()
        } catch (e: IllegalStateException) { // switched off between the check and the start
            throw BleException.PoweredOff()
        }
        timing.scanBudget.recordStart(timing.now())
        scanningFor = serviceUuid
    }

    override suspend fun nextAdvertisement(timeout: Duration): Advertisement = advertisements.next(SCAN, timeout)

    override suspend fun stopScan() = scanLock.withLock {
        advertisements.remove(SCAN)
        lingerStop?.cancel()
        if (timing.scanLinger.isZero) {
            stopPlatformScan()
        } else {
            lingerStop = background.launch {
                delay(timing.scanLinger.toMillis())
                scanLock.withLock { stopPlatformScan() }
            }
        }
    }

    private fun stopPlatformScan() {
        if (scanningFor == null) return
        scanningFor = null
        try {
            adapter?.bluetoothLeScanner?.stopScan(scanCallback)
        } catch (_: SecurityException) {
        } catch (_: IllegalStateException) { // adapter switched off meanwhile
        }
    }

    override suspend fun connect(peripheral: String, timeout: Duration): UShort {
        val adapter = ready(scanning = false)
        val device: BluetoothDevice = try {
            adapter.getRemoteDevice(peripheral)
        } catch (e: IllegalArgumentException) {
            throw BleException.ConnectFailed("not a Bluetooth address")
        }
        return try {
            withTimeout(timeout.toMillis()) {
                val link = retry.connect { _ -> attempt(device, peripheral) }
                prepare(link)
                link.mtu.toUShort()
            }
        } catch (e: TimeoutCancellationException) {
            disconnect(peripheral)
            throw BleException.Timeout()
        } catch (e: BleException) {
            disconnect(peripheral)
            throw e
        }
    }

    /** One `connectGatt`; a failed attempt's BluetoothGatt is closed before the retry. */
    private suspend fun attempt(device: BluetoothDevice, peripheral: String): Link {
        val link = Link(peripheral)
        links.put(peripheral, link)?.lost(BleException.Disconnected())
        notifications.open(peripheral)
        val gatt = try {
            device.connectGatt(context, false, link, BluetoothDevice.TRANSPORT_LE)
        } catch (e: SecurityException) {
            links.remove(peripheral, link)
            throw BleException.Unauthorized()
        }
        if (gatt == null) {
            links.remove(peripheral, link)
            throw BleException.ConnectFailed("connectGatt returned no client")
        }
        link.gatt = gatt
        try {
            link.connected.await()
        } catch (failure: GattConnectFailure) {
            link.release() // a client left open makes the retry fail the same way
            links.remove(peripheral, link)
            throw failure
        }
        return link
    }

    /** MTU, service discovery and notifications on the response characteristic. */
    private suspend fun prepare(link: Link) {
        // A refused or unanswered MTU request keeps the default 23: the core frames for it.
        link.request(GattRequest.MTU, keepOnTimeout = true) { it.requestMtu(REQUESTED_MTU) }
        val discovered = link.request(GattRequest.DISCOVER_SERVICES) { it.discoverServices() }
        if (discovered != BluetoothGatt.GATT_SUCCESS) throw BleException.ConnectFailed("service discovery status $discovered")
        val gatt = link.gatt ?: throw BleException.Disconnected()
        val service = gatt.getService(serviceUuid) ?: throw BleException.ServiceMissing()
        val response = service.getCharacteristic(responseUuid) ?: throw BleException.ServiceMissing()
        service.getCharacteristic(requestUuid) ?: throw BleException.ServiceMissing()
        if (!gatt.setCharacteristicNotification(response, true)) throw BleException.Other("notifications refused")
        val ccc = response.getDescriptor(CCC_DESCRIPTOR) ?: throw BleException.ServiceMissing()
        val enabled = link.request(GattRequest.WRITE_DESCRIPTOR) { g ->
            val value = BluetoothGattDescriptor.ENABLE_NOTIFICATION_VALUE
            if (sdkInt >= 33) {
                g.writeDescriptor(ccc, value) == BluetoothGatt.GATT_SUCCESS
            } else {
                @Suppress("DEPRECATION")
                ccc.setValue(value) && g.writeDescriptor(ccc)
            }
        }
        if (enabled != BluetoothGatt.GATT_SUCCESS) throw BleException.ConnectFailed("notification switch status $enabled")
    }

    override suspend fun write(peripheral: String, frame: ByteArray, withResponse: Boolean) {
        val link = links[peripheral] ?: throw BleException.Disconnected()
        val characteristic = link.gatt?.getService(serviceUuid)?.getCharacteristic(requestUuid)
            ?: throw BleException.ServiceMissing()
        val type = if (withResponse) {
            BluetoothGattCharacteristic.WRITE_TYPE_DEFAULT
        } else {
            BluetoothGattCharacteristic.WRITE_TYPE_NO_RESPONSE
        }
        val status = link.request(GattRequest.WRITE_CHARACTERISTIC) { g ->
            if (sdkInt >= 33) {
                g.writeCharacteristic(characteristic, frame, type) == BluetoothGatt.GATT_SUCCESS
            } else {
                @Suppress("DEPRECATION")
                characteristic.run { writeType = type; setValue(frame) } && g.writeCharacteristic(characteristic)
            }
        }
        if (status != BluetoothGatt.GATT_SUCCESS) throw BleException.Other("write status $status")
    }

    override suspend fun nextNotification(peripheral: String, timeout: Duration): ByteArray =
        notifications.next(peripheral, timeout)

    override suspend fun disconnect(peripheral: String) {
        val link = links.remove(peripheral) ?: return
        notifications.remove(peripheral)
        link.requests.fail(BleException.Disconnected())
        link.release()
    }

    private companion object {
        /** The queue key for advertisements (peripherals use their address). */
        const val SCAN = "scan"
    }
}
