// A BleTransport written in Kotlin, the way the Android shell writes one over
// BluetoothGatt, but talking to `keyway-lock serve` over its socket: scan results and
// notifications arrive as pushed lines (like GATT callbacks), requests get one answer
// each (like onCharacteristicWrite). The protocol is in docs/lock-serve.md.
package app.keyway.test

import app.keyway.core.AdapterState
import app.keyway.core.Advertisement
import app.keyway.core.BleException
import app.keyway.BleTransport
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.ClosedReceiveChannelException
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import java.io.BufferedReader
import java.io.InputStreamReader
import java.net.Socket
import java.time.Duration
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

class ServedRadio(port: Int) : BleTransport, AutoCloseable {
    private val socket = Socket("127.0.0.1", port).apply { tcpNoDelay = true }
    private val out = socket.getOutputStream()
    private val answers = LinkedBlockingQueue<String>()
    private val requests = Mutex()
    private var advertisements = Channel<Advertisement>(Channel.UNLIMITED)
    private val notifications = ConcurrentHashMap<String, Channel<ByteArray>>()

    /** What `adapterState()` reports: the tests switch Bluetooth off with it. */
    @Volatile var adapter: AdapterState = AdapterState.POWERED_ON

    /** While true, the lock's answers are held back (a lock that stalls mid-handshake). */
    @Volatile var stallAnswers: Boolean = false

    /** Every call the core made, by name (to check that Bluetooth off never reached the radio). */
    val calls: MutableList<String> = java.util.Collections.synchronizedList(mutableListOf())

    private val reader = Thread {
        val lines = BufferedReader(InputStreamReader(socket.getInputStream()))
        while (true) {
            val line = try { lines.readLine() } catch (e: java.io.IOException) { null } ?: break
            val words = line.split(" ")
            when (words[0]) {
                "adv" -> if (words.size == 5 && words[3] == "ffff") {
                    advertisements.trySend(Advertisement(words[1], unhex(words[4]), words[2].toShortOrNull()))
                }
                "notify" -> notifications[words[1]]?.trySend(unhex(words[2]))
                "disconnected" -> notifications[words[1]]?.close()
                else -> answers.put(line)
            }
        }
    }.apply { isDaemon = true; start() }

    /** Sends one request and waits for its answer; `err <code> …` becomes a BleException. */
    private suspend fun request(line: String): String = requests.withLock {
        withContext(Dispatchers.IO) {
            out.write("$line\n".toByteArray())
            out.flush()
            val answer = answers.poll(10, TimeUnit.SECONDS) ?: throw BleException.Timeout()
            if (answer.startsWith("err ")) {
                val code = answer.split(" ")[1]
                throw when (code) {
                    "disconnected", "connection_lost" -> BleException.Disconnected()
                    "out_of_range", "unknown_peripheral" -> BleException.ConnectFailed(answer)
                    else -> BleException.Other(answer)
                }
            }
            answer
        }
    }

    /** Moves a lock into or out of range (the served radio's test control). */
    suspend fun setInRange(peripheral: String, inRange: Boolean) {
        request("range $peripheral ${if (inRange) "in" else "out"}")
    }

    override suspend fun adapterState(): AdapterState {
        calls += "adapterState"
        return adapter
    }

    override suspend fun startScan(serviceUuid: String) {
        calls += "startScan"
        advertisements = Channel(Channel.UNLIMITED)
        request("scan on")
    }

    override suspend fun nextAdvertisement(timeout: Duration): Advertisement =
        withTimeoutOrNull(timeout.toMillis()) { advertisements.receive() } ?: throw BleException.Timeout()

    override suspend fun stopScan() {
        calls += "stopScan"
        runCatching { request("scan off") }
    }

    override suspend fun connect(peripheral: String, timeout: Duration): UShort {
        calls += "connect"
        notifications[peripheral] = Channel(Channel.UNLIMITED)
        val answer = request("connect $peripheral 517")
        return answer.split(" ")[1].toUShort()
    }

    override suspend fun write(peripheral: String, frame: ByteArray, withResponse: Boolean) {
        request("${if (withResponse) "write" else "write-nr"} $peripheral ${hex(frame)}")
    }

    override suspend fun nextNotification(peripheral: String, timeout: Duration): ByteArray {
        val channel = notifications[peripheral] ?: throw BleException.Disconnected()
        if (stallAnswers) {
            calls += "stalled"
            kotlinx.coroutines.delay(timeout.toMillis())
            throw BleException.Timeout()
        }
        return try {
            withTimeoutOrNull(timeout.toMillis()) { channel.receive() } ?: throw BleException.Timeout()
        } catch (e: ClosedReceiveChannelException) {
            throw BleException.Disconnected()
        }
    }

    override suspend fun disconnect(peripheral: String) {
        notifications.remove(peripheral)?.close()
        runCatching { request("disconnect $peripheral") }
    }

    override fun close() {
        socket.close()
        reader.join(2000)
    }
}
