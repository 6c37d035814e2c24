// What stands between the app and a Bluetooth LE scan right now, in the words an app acts on.
package app.keyway.android

import android.Manifest
import android.bluetooth.BluetoothManager
import android.content.Context
import android.content.pm.PackageManager
import android.location.LocationManager
import android.os.Build

/** Why scanning for doors cannot start now, or [READY]. An app checks it before an unlock to pick its prompt. */
enum class BluetoothReadiness {
    /** Everything is in place. */
    READY,
    /** The phone has no Bluetooth LE. */
    NO_BLUETOOTH_LE,
    /** A runtime permission is missing: BLUETOOTH_SCAN/CONNECT (Android 12+) or ACCESS_FINE_LOCATION (11 and older). */
    PERMISSION_MISSING,
    /** Bluetooth is switched off. */
    BLUETOOTH_OFF,
    /**
     * Android 11 and older: location services are off, so scans find nothing at all
     * (the platform's rule, even with the permission granted). Send the person to the
     * location settings; Android 12+ with `neverForLocation` does not need this.
     */
    LOCATION_SERVICES_OFF;

    companion object {
        /** The phone's state now. */
        @JvmStatic
        fun check(context: Context): BluetoothReadiness = check(context, Build.VERSION.SDK_INT)

        /** As [check], for a given Android API level ([sdkInt]); the JVM tests pass it. */
        @JvmStatic
        fun check(context: Context, sdkInt: Int): BluetoothReadiness {
            val adapter = context.getSystemService(BluetoothManager::class.java)?.adapter
            if (adapter == null || !context.packageManager.hasSystemFeature(PackageManager.FEATURE_BLUETOOTH_LE)) {
                return NO_BLUETOOTH_LE
            }
            if (!hasScanPermissions(context, sdkInt)) return PERMISSION_MISSING
            if (!adapter.isEnabled) return BLUETOOTH_OFF
            if (sdkInt < 31 && !locationServicesOn(context, sdkInt)) return LOCATION_SERVICES_OFF
            return READY
        }

        /** The runtime permissions scanning and connecting need on [sdkInt]. */
        internal fun hasScanPermissions(context: Context, sdkInt: Int): Boolean {
            val needed = if (sdkInt >= 31) {
                listOf(Manifest.permission.BLUETOOTH_SCAN, Manifest.permission.BLUETOOTH_CONNECT)
            } else {
                listOf(Manifest.permission.ACCESS_FINE_LOCATION)
            }
            return needed.all { context.checkSelfPermission(it) == PackageManager.PERMISSION_GRANTED }
        }

        /** Whether location services are on (the master switch on 28+, either provider before). */
        internal fun locationServicesOn(context: Context, sdkInt: Int): Boolean {
            val location = context.getSystemService(LocationManager::class.java) ?: return true
            return if (sdkInt >= 28) {
                location.isLocationEnabled
            } else {
                location.isProviderEnabled(LocationManager.GPS_PROVIDER) ||
                    location.isProviderEnabled(LocationManager.NETWORK_PROVIDER)
            }
        }
    }
}
