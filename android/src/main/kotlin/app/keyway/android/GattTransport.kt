// Keyway's radio on Android: BluetoothLeScanner and BluetoothGatt behind the core's BleTransport.
package app.keyway.android

import android.Manifest
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
import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.os.ParcelUuid
import app.keyway.AdapterState
import app.keyway.Advertisement
import app.keyway.BleException
import app.keyway.BleTransport
import app.keyway.bleProfile
import java.time.Duration
import java.util.UUID
import java.util.concurrent.ConcurrentHashMap
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.TimeoutCancellationException

/** The Client Characteristic Configuration descriptor that switches notifications on. */
private val CCC_DESCRIPTOR: UUID = UUID.fromString("00002902-0000-1000-8000-00805f9b34fb")

/** The ATT MTU asked for: the largest the spec allows, so a credential fits in few frames. */
private const val REQUESTED_MTU = 517

/**
 * [BleTransport] over Android's BluetoothGatt. Peripherals are named by MAC address.
 * Scans filter on the Keyway service UUID; connections use TRANSPORT_LE, retry GATT
 * status 133 once after close(), ask for a 517-byte MTU, discover the Keyway service and
 * enable notifications on the response characteristic. Each peripheral has its own
 * notification queue; a link drop fails the waiting read with `Disconnected`.
 */
@SuppressLint("MissingPermission") // every entry point checks the permissions first (adapterState/requirePermissions)
class GattTransport(
    private val context: Context,
    private val retry: GattRetryPolicy = GattRetryPolicy(),
) : BleTransport {
    private val profile = bleProfile()
    private val serviceUuid = UUID.fromString(profile.serviceUuid)
    private val requestUuid = UUID.fromString(profile.requestCharacteristicUuid)
    private val responseUuid = UUID.fromString(profile.responseCharacteristicUuid)
    private val manager = context.getSystemService(BluetoothManager::class.java)
    private val adapter: BluetoothAdapter? get() = manager?.adapter

    private val advertisements = PeripheralChannels<Advertisement>()
    private val notifications = PeripheralChannels<ByteArray>()
    private val links = ConcurrentHashMap<String, Link>()

    /** One connection: the BluetoothGatt and the operation it is waiting on (GATT allows one at a time). */
    private inner class Link(val address: String) : BluetoothGattCallback() {
        @Volatile var gatt: BluetoothGatt? = null
        val operation = Mutex()
        @Volatile var pending: CompletableDeferred<Int>? = null
        val connected = CompletableDeferred<Int>()
        @Volatile var mtu = 23

        override fun onConnectionStateChange(gatt: BluetoothGatt, status: Int, newState: Int) {
            if (newState == BluetoothProfile.STATE_CONNECTED && status == BluetoothGatt.GATT_SUCCESS) {
                connected.complete(status)
                return
            }
            if (newState == BluetoothProfile.STATE_DISCONNECTED) {
                if (!connected.isCompleted) {
                    connected.completeExceptionally(GattConnectFailure(status))
                } else {
                    notifications.close(address, BleException.Disconnected())
                    pending?.completeExceptionally(BleException.Disconnected())
                    links.remove(address, this)
                    gatt.close()
                }
            }
        }

        override fun onMtuChanged(gatt: BluetoothGatt, mtu: Int, status: Int) {
            if (status == BluetoothGatt.GATT_SUCCESS) this.mtu = mtu
            pending?.complete(status)
        }

        override fun onServicesDiscovered(gatt: BluetoothGatt, status: Int) {
            pending?.complete(status)
        }

        override fun onDescriptorWrite(gatt: BluetoothGatt, descriptor: BluetoothGattDescriptor, status: Int) {
            pending?.complete(status)
        }

        override fun onCharacteristicWrite(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic, status: Int) {
            pending?.complete(status)
        }

        override fun onCharacteristicChanged(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic, value: ByteArray) {
            if (characteristic.uuid == responseUuid) notifications.offer(address, value.copyOf())
        }

        @Deprecated("Android 12 and older")
        override fun onCharacteristicChanged(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic) {
            @Suppress("DEPRECATION")
            if (Build.VERSION.SDK_INT < 33) onCharacteristicChanged(gatt, characteristic, characteristic.value ?: return)
        }

        /** Starts one GATT operation with [start] and waits for its callback's status. */
        suspend fun await(what: String, timeout: Duration, start: (BluetoothGatt) -> Boolean): Int =
            operation.withLock {
                val gatt = gatt ?: throw BleException.Disconnected()
                val done = CompletableDeferred<Int>().also { pending = it }
                if (!start(gatt)) throw BleException.Other("$what could not start")
                try {
                    withTimeout(timeout.toMillis()) { done.await() }
                } catch (e: TimeoutCancellationException) {
                    throw BleException.Timeout()
                } finally {
                    pending = null
                }
            }
    }

    override suspend fun adapterState(): AdapterState {
        val adapter = adapter ?: return AdapterState.UNSUPPORTED
        if (!context.packageManager.hasSystemFeature(PackageManager.FEATURE_BLUETOOTH_LE)) return AdapterState.UNSUPPORTED
        if (!hasPermissions()) return AdapterState.UNAUTHORIZED
        return if (adapter.isEnabled) AdapterState.POWERED_ON else AdapterState.POWERED_OFF
    }

    private fun hasPermissions(): Boolean {
        val needed = if (Build.VERSION.SDK_INT >= 31) {
            listOf(Manifest.permission.BLUETOOTH_SCAN, Manifest.permission.BLUETOOTH_CONNECT)
        } else {
            listOf(Manifest.permission.ACCESS_FINE_LOCATION)
        }
        return needed.all { context.checkSelfPermission(it) == PackageManager.PERMISSION_GRANTED }
    }

    /** The usable adapter, or the trait's error for why there is none. */
    private fun ready(): BluetoothAdapter {
        val adapter = adapter ?: throw BleException.Other("no Bluetooth adapter")
        if (!hasPermissions()) throw BleException.Unauthorized()
        if (!adapter.isEnabled) throw BleException.PoweredOff()
        return adapter
    }

    private val scanCallback = object : ScanCallback() {
        override fun onScanResult(callbackType: Int, result: ScanResult) {
            val data = result.scanRecord?.getManufacturerSpecificData(profile.companyId.toInt()) ?: return
            advertisements.offer(SCAN, Advertisement(result.device.address, data, result.rssi.toShort()))
        }

        override fun onScanFailed(errorCode: Int) {
            advertisements.close(SCAN, BleException.Other("scan failed with code $errorCode"))
        }
    }

    override suspend fun startScan(serviceUuid: String) {
        val scanner = ready().bluetoothLeScanner ?: throw BleException.PoweredOff()
        advertisements.open(SCAN)
        val filter = ScanFilter.Builder().setServiceUuid(ParcelUuid(UUID.fromString(serviceUuid))).build()
        val settings = ScanSettings.Builder().setScanMode(ScanSettings.SCAN_MODE_LOW_LATENCY).build()
        try {
            scanner.startScan(listOf(filter), settings, scanCallback)
        } catch (e: SecurityException) {
            throw BleException.Unauthorized()
        }
    }

    override suspend fun nextAdvertisement(timeout: Duration): Advertisement = advertisements.next(SCAN, timeout)

    override suspend fun stopScan() {
        try {
            adapter?.bluetoothLeScanner?.stopScan(scanCallback)
        } catch (_: SecurityException) {
        } catch (_: IllegalStateException) { // adapter switched off meanwhile
        }
        advertisements.remove(SCAN)
    }

    override suspend fun connect(peripheral: String, timeout: Duration): UShort {
        val device: BluetoothDevice = try {
            ready().getRemoteDevice(peripheral)
        } catch (e: IllegalArgumentException) {
            throw BleException.ConnectFailed("not a Bluetooth address")
        }
        return try {
            withTimeout(timeout.toMillis()) {
                val link = retry.connect { _ ->
                    val link = Link(peripheral)
                    links.put(peripheral, link)?.gatt?.close()
                    notifications.open(peripheral)
                    link.gatt = device.connectGatt(context, false, link, BluetoothDevice.TRANSPORT_LE)
                    try {
                        link.connected.await()
                    } catch (failure: GattConnectFailure) {
                        link.gatt?.close() // a client left open makes the retry fail the same way
                        links.remove(peripheral, link)
                        throw failure
                    }
                    link
                }
                prepare(link, timeout)
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

    /** MTU, service discovery and notifications on the response characteristic. */
    private suspend fun prepare(link: Link, timeout: Duration) {
        link.await("requestMtu", timeout) { it.requestMtu(REQUESTED_MTU) } // a refusal keeps the default 23
        val discovered = link.await("discoverServices", timeout) { it.discoverServices() }
        if (discovered != BluetoothGatt.GATT_SUCCESS) throw BleException.ConnectFailed("service discovery status $discovered")
        val gatt = link.gatt ?: throw BleException.Disconnected()
        val service = gatt.getService(serviceUuid) ?: throw BleException.ServiceMissing()
        val response = service.getCharacteristic(responseUuid) ?: throw BleException.ServiceMissing()
        service.getCharacteristic(requestUuid) ?: throw BleException.ServiceMissing()
        if (!gatt.setCharacteristicNotification(response, true)) throw BleException.Other("notifications refused")
        val ccc = response.getDescriptor(CCC_DESCRIPTOR) ?: throw BleException.ServiceMissing()
        val enabled = link.await("enable notifications", timeout) { g ->
            val value = BluetoothGattDescriptor.ENABLE_NOTIFICATION_VALUE
            if (Build.VERSION.SDK_INT >= 33) {
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
        val status = link.await("write", WRITE_TIMEOUT) { g ->
            if (Build.VERSION.SDK_INT >= 33) {
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
        link.gatt?.run {
            try {
                disconnect()
            } finally {
                close()
            }
        }
    }

    private companion object {
        /** The queue key for advertisements (peripherals use their address). */
        const val SCAN = "scan"
        /** One frame's write callback; the core's own timeouts bound the exchange. */
        val WRITE_TIMEOUT: Duration = Duration.ofSeconds(5)
    }
}
