// A fake Android Bluetooth stack for the JVM, built on the API stubs (android/stubs): it
// answers GattTransport's calls the way Android does, on another thread, as scripted.
package app.keyway.android

import android.bluetooth.BluetoothAdapter
import android.bluetooth.BluetoothDevice
import android.bluetooth.BluetoothGatt
import android.bluetooth.BluetoothGattCallback
import android.bluetooth.BluetoothGattCharacteristic
import android.bluetooth.BluetoothGattDescriptor
import android.bluetooth.BluetoothGattService
import android.bluetooth.BluetoothManager
import android.bluetooth.BluetoothProfile
import android.bluetooth.le.BluetoothLeScanner
import android.bluetooth.le.ScanCallback
import android.bluetooth.le.ScanFilter
import android.bluetooth.le.ScanRecord
import android.bluetooth.le.ScanResult
import android.bluetooth.le.ScanSettings
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.content.pm.PackageManager
import android.location.LocationManager
import app.keyway.bleProfile
import java.io.File
import java.util.UUID
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.Executors
import java.util.concurrent.ScheduledExecutorService
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/** How the fake answers one characteristic write. */
sealed class WriteAnswer {
    /** `onCharacteristicWrite` with [status] after [afterMillis]; an unprompted MTU change first if [mtuFirst]. */
    data class Status(val status: Int, val afterMillis: Long = 0, val mtuFirst: Int? = null) : WriteAnswer()

    /** No answer: the link drops with [status] instead, as when the lock walks out of range. */
    data class LinkLost(val status: Int = 8) : WriteAnswer()
}

/**
 * Android's Bluetooth as GattTransport sees it. Callbacks arrive on a "binder" thread,
 * never on the caller's. Counts every BluetoothGatt opened and every `close()` per client,
 * counts scan starts and applies Android's limit (a sixth start within 30 s is accepted
 * and then delivers nothing), and switches Bluetooth off the way the platform does
 * (the adapter state broadcast, and no GATT callback at all).
 */
class FakeBluetooth(
    /** The scan clock in milliseconds (the tests pass the one GattTiming uses). */
    private val clock: () -> Long = { System.nanoTime() / 1_000_000 },
) {
    private val binder: ScheduledExecutorService = Executors.newSingleThreadScheduledExecutor { r ->
        Thread(r, "fake-binder").apply { isDaemon = true }
    }
    private val profile = bleProfile()
    val serviceUuid: UUID = UUID.fromString(profile.serviceUuid)
    val requestUuid: UUID = UUID.fromString(profile.requestCharacteristicUuid)
    val responseUuid: UUID = UUID.fromString(profile.responseCharacteristicUuid)

    @Volatile var enabled = true
    @Volatile var locationOn = true

    /** The status of each `connectGatt` in turn (then success): 133 is the stack's GATT_ERROR. */
    val connectStatuses = ArrayDeque<Int>()

    /** The MTU `requestMtu` is answered with, or null for no answer. */
    @Volatile var mtuAnswer: Int? = 247

    /** The answer to each characteristic write in turn (then success at once). */
    val writeAnswers = ArrayDeque<WriteAnswer>()

    /** Every BluetoothGatt handed out. */
    val clients = CopyOnWriteArrayList<FakeGatt>()

    /** Scan starts: when, and whether Android would have throttled them. */
    val scanStarts = CopyOnWriteArrayList<Long>()
    val throttledStarts = AtomicInteger()
    private val activeScans = CopyOnWriteArrayList<ScanCallback>()

    val context = FakeContext()

    private fun later(millis: Long, action: () -> Unit) {
        binder.schedule(action, millis, TimeUnit.MILLISECONDS)
    }

    /** A lock advertising [data] under Keyway's company id from [address]: heard by running scans. */
    fun advertise(address: String, data: ByteArray) {
        for (callback in activeScans) {
            later(0) { callback.onScanResult(ScanSettings.CALLBACK_TYPE_ALL_MATCHES, FakeScanResult(address, data)) }
        }
    }

    /** Bluetooth switched off: the adapter broadcast only; links die without a GATT callback. */
    fun switchOff() {
        enabled = false
        activeScans.clear()
        broadcast(FakeIntent(BluetoothAdapter.ACTION_STATE_CHANGED, BluetoothAdapter.STATE_TURNING_OFF))
    }

    /** Switches Bluetooth back on, with the system's broadcast. */
    fun switchOn() {
        enabled = true
        broadcast(FakeIntent(BluetoothAdapter.ACTION_STATE_CHANGED, BluetoothAdapter.STATE_ON))
    }

    /** Switches location services, with the system's broadcast. */
    fun switchLocation(on: Boolean) {
        locationOn = on
        broadcast(FakeIntent(LocationManager.MODE_CHANGED_ACTION, 0))
    }

    private fun broadcast(intent: Intent) {
        val receivers = context.receivers.toList()
        later(0) { for (receiver in receivers) receiver.onReceive(context, intent) }
    }

    /** Clients opened but never closed. */
    fun leakedClients(): Int = clients.count { it.closes.get() == 0 }

    inner class FakeContext : Context() {
        val receivers = CopyOnWriteArrayList<BroadcastReceiver>()
        private val manager = FakeManager()
        private val location = FakeLocation()
        val files: File = kotlin.io.path.createTempDirectory("keyway-fake-context").toFile()

        override fun checkSelfPermission(permission: String): Int = PackageManager.PERMISSION_GRANTED
        override fun getApplicationContext(): Context = this
        override fun getNoBackupFilesDir(): File = files
        override fun getPackageManager(): PackageManager = FakePackages()
        override fun getSystemServiceName(serviceClass: Class<*>): String? = null

        @Suppress("UNCHECKED_CAST")
        override fun <T> getSystemService(serviceClass: Class<T>): T = when (serviceClass) {
            BluetoothManager::class.java -> manager as T
            LocationManager::class.java -> location as T
            else -> null as T
        }

        override fun registerReceiver(receiver: BroadcastReceiver?, filter: IntentFilter?): Intent? {
            receiver?.let { receivers.add(it) }
            return null
        }

        override fun unregisterReceiver(receiver: BroadcastReceiver) {
            receivers.remove(receiver)
        }
    }

    inner class FakePackages : PackageManager() {
        override fun hasSystemFeature(name: String): Boolean = true
    }

    inner class FakeLocation : LocationManager() {
        override fun isLocationEnabled(): Boolean = locationOn
        override fun isProviderEnabled(provider: String): Boolean = locationOn
    }

    inner class FakeManager : BluetoothManager() {
        private val adapter = FakeAdapter()
        override fun getAdapter(): BluetoothAdapter = adapter
    }

    inner class FakeAdapter : BluetoothAdapter() {
        private val scanner = FakeScanner()
        override fun isEnabled(): Boolean = enabled
        override fun getState(): Int = if (enabled) STATE_ON else STATE_OFF
        override fun getBluetoothLeScanner(): BluetoothLeScanner? = if (enabled) scanner else null
        override fun getRemoteDevice(address: String): BluetoothDevice {
            require(Regex("([0-9A-F]{2}:){5}[0-9A-F]{2}").matches(address)) { "$address is not a valid Bluetooth address" }
            return FakeDevice(address)
        }
    }

    inner class FakeScanner : BluetoothLeScanner() {
        override fun startScan(filters: MutableList<ScanFilter>?, settings: ScanSettings?, callback: ScanCallback) {
            check(enabled) { "BT Adapter is not turned ON" }
            val now = clock()
            val recent = scanStarts.count { now - it < 30_000 }
            scanStarts.add(now)
            if (recent >= 5) {
                throttledStarts.incrementAndGet() // Android: accepted, logged, and silent
            } else {
                activeScans.add(callback)
            }
        }

        override fun stopScan(callback: ScanCallback) {
            activeScans.remove(callback)
        }
    }

    inner class FakeScanResult(private val address: String, private val data: ByteArray) : ScanResult() {
        override fun getDevice(): BluetoothDevice = FakeDevice(address)
        override fun getRssi(): Int = -60
        override fun getScanRecord(): ScanRecord = object : ScanRecord() {
            override fun getManufacturerSpecificData(manufacturerId: Int): ByteArray? =
                if (manufacturerId == profile.companyId.toInt()) data else null
        }
    }

    inner class FakeDevice(private val address: String) : BluetoothDevice() {
        override fun getAddress(): String = address

        override fun connectGatt(context: Context?, autoConnect: Boolean, callback: BluetoothGattCallback, transport: Int): BluetoothGatt {
            check(transport == TRANSPORT_LE) { "Keyway locks are LE only" }
            val gatt = FakeGatt(this, callback)
            clients.add(gatt)
            val status = synchronized(connectStatuses) { connectStatuses.removeFirstOrNull() } ?: BluetoothGatt.GATT_SUCCESS
            later(20) {
                if (status == BluetoothGatt.GATT_SUCCESS) {
                    gatt.connected = true
                    callback.onConnectionStateChange(gatt, status, BluetoothProfile.STATE_CONNECTED)
                } else {
                    callback.onConnectionStateChange(gatt, status, BluetoothProfile.STATE_DISCONNECTED)
                }
            }
            return gatt
        }
    }

    /** One GATT client; callbacks still arrive after close() if they were already on their way. */
    inner class FakeGatt(private val device: BluetoothDevice, private val callback: BluetoothGattCallback) : BluetoothGatt() {
        val closes = AtomicInteger()
        @Volatile var connected = false
        private val service = FakeService()

        override fun getDevice(): BluetoothDevice = device
        override fun close() {
            closes.incrementAndGet()
        }

        override fun disconnect() {
            connected = false
        }

        override fun requestMtu(mtu: Int): Boolean {
            val answer = mtuAnswer ?: return true
            later(5) { callback.onMtuChanged(this, minOf(answer, mtu), GATT_SUCCESS) }
            return true
        }

        override fun discoverServices(): Boolean {
            later(5) { callback.onServicesDiscovered(this, GATT_SUCCESS) }
            return true
        }

        override fun getService(uuid: UUID): BluetoothGattService? = if (uuid == serviceUuid) service else null
        override fun setCharacteristicNotification(characteristic: BluetoothGattCharacteristic, enable: Boolean): Boolean = true

        override fun writeDescriptor(descriptor: BluetoothGattDescriptor, value: ByteArray?): Int {
            later(5) { callback.onDescriptorWrite(this, descriptor, GATT_SUCCESS) }
            return GATT_SUCCESS
        }

        override fun writeCharacteristic(characteristic: BluetoothGattCharacteristic, value: ByteArray, writeType: Int): Int {
            check(connected) { "write on a client that is not connected" }
            when (val answer = synchronized(writeAnswers) { writeAnswers.removeFirstOrNull() } ?: WriteAnswer.Status(GATT_SUCCESS)) {
                is WriteAnswer.Status -> {
                    answer.mtuFirst?.let { mtu -> later(0) { callback.onMtuChanged(this, mtu, GATT_SUCCESS) } }
                    later(answer.afterMillis) { callback.onCharacteristicWrite(this, characteristic, answer.status) }
                }
                is WriteAnswer.LinkLost -> later(10) {
                    connected = false
                    callback.onConnectionStateChange(this, answer.status, BluetoothProfile.STATE_DISCONNECTED)
                }
            }
            return GATT_SUCCESS
        }

        /** The lock sends [value] on the response characteristic. */
        fun notify(value: ByteArray) {
            later(0) { callback.onCharacteristicChanged(this, service.response, value) }
        }
    }

    inner class FakeService : BluetoothGattService(serviceUuid, SERVICE_TYPE_PRIMARY) {
        val request = FakeCharacteristic(requestUuid)
        val response = FakeCharacteristic(responseUuid)
        override fun getUuid(): UUID = serviceUuid
        override fun getCharacteristic(uuid: UUID): BluetoothGattCharacteristic? = when (uuid) {
            requestUuid -> request
            responseUuid -> response
            else -> null
        }
    }

    inner class FakeCharacteristic(private val id: UUID) : BluetoothGattCharacteristic(id, 0, 0) {
        private val ccc = object : BluetoothGattDescriptor(UUID.fromString("00002902-0000-1000-8000-00805f9b34fb"), 0) {
            override fun getUuid(): UUID = UUID.fromString("00002902-0000-1000-8000-00805f9b34fb")
        }
        override fun getUuid(): UUID = id
        override fun getDescriptor(uuid: UUID): BluetoothGattDescriptor? = if (uuid == ccc.uuid) ccc else null
    }

    class FakeIntent(private val action: String, private val state: Int) : Intent(action) {
        override fun getAction(): String = action
        override fun getIntExtra(name: String, defaultValue: Int): Int = if (name == BluetoothAdapter.EXTRA_STATE) state else defaultValue
    }
}
