// The reference backend and the served reference locks, each in its own process, as
// the journeys meet them: the backend over HTTPS with a certificate from a CA made for
// this run by `keyway-backend dev-certs` (the app's API and the operator's admin API),
// the locks over the `keyway-lock serve` socket (docs/lock-serve.md).
package app.keyway.test

import java.io.BufferedReader
import java.io.File
import java.io.InputStreamReader
import java.net.URI
import java.nio.file.Files
import java.security.KeyStore
import java.security.cert.CertificateFactory
import java.util.Base64
import java.util.concurrent.TimeUnit
import javax.net.ssl.HttpsURLConnection
import javax.net.ssl.SSLContext
import javax.net.ssl.TrustManagerFactory

/** The host in invitation and share links. */
const val LINK_HOST = "keyway.test"

private fun binary(property: String): String =
    System.getProperty(property) ?: error("-D$property=<path> is needed (see bindings/kotlin/run-tests.sh)")

/** Starts `command`, returns the process and a reader of its stdout; stderr goes to `log`. */
private fun start(command: List<String>, log: File): Pair<Process, BufferedReader> {
    val process = ProcessBuilder(command).redirectError(log).start()
    return process to BufferedReader(InputStreamReader(process.inputStream))
}

fun b64(bytes: ByteArray): String = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes)
fun unb64(s: String): ByteArray = Base64.getUrlDecoder().decode(s)
fun hex(bytes: ByteArray): String = bytes.joinToString("") { "%02x".format(it) }
fun unhex(s: String): ByteArray = ByteArray(s.length / 2) { s.substring(2 * it, 2 * it + 2).toInt(16).toByte() }

/** An SSL context that trusts only the CA certificates in `pem` (the operator's console). */
private fun trusting(pem: ByteArray): SSLContext {
    val store = KeyStore.getInstance(KeyStore.getDefaultType()).apply { load(null, null) }
    CertificateFactory.getInstance("X.509").generateCertificates(pem.inputStream())
        .forEachIndexed { i, cert -> store.setCertificateEntry("ca$i", cert) }
    val trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm()).apply { init(store) }
    return SSLContext.getInstance("TLS").apply { init(null, trust.trustManagers, null) }
}

/** `keyway-backend serve` over HTTPS on a free port, with an in-memory database. */
class Backend : AutoCloseable {
    private val dir: File = Files.createTempDirectory("keyway-backend").toFile()
    private val process: Process
    val url: String
    /** The run's CA certificate (PEM): phones trust it as an extra root. */
    val caPem: ByteArray
    private val ssl: SSLContext
    private val adminToken: String

    init {
        val certs = File(dir, "certs")
        val made = ProcessBuilder(binary("keyway.backend"), "dev-certs", "--out", certs.path)
            .redirectErrorStream(true).start()
        val said = made.inputStream.readBytes().decodeToString()
        check(made.waitFor() == 0) { "keyway-backend dev-certs failed: $said" }
        caPem = File(certs, "ca.pem").readBytes()
        ssl = trusting(caPem)
        val tokenFile = File(dir, "admin-token")
        val (p, out) = start(
            listOf(
                binary("keyway.backend"), "serve", "--db", ":memory:", "--listen", "127.0.0.1:0",
                "--public-host", LINK_HOST, "--admin-token-file", tokenFile.path,
                "--tls-cert", File(certs, "server.pem").path, "--tls-key", File(certs, "server.key").path,
            ),
            File(dir, "backend.log"),
        )
        process = p
        val first = out.readLine() ?: error("the backend exited: ${File(dir, "backend.log").readText()}")
        url = first.removePrefix("listening on ").trimEnd('/') + "/"
        check(url.startsWith("https://")) { "the backend does not serve HTTPS: $first" }
        adminToken = tokenFile.readText().trim()
    }

    /** An admin call; returns the status and the parsed body. */
    fun adminCall(method: String, path: String, body: String? = null): Pair<Int, Any?> {
        val connection = URI(url + path).toURL().openConnection() as HttpsURLConnection
        connection.sslSocketFactory = ssl.socketFactory
        connection.requestMethod = method
        connection.setRequestProperty("Authorization", "Bearer $adminToken")
        if (body != null) {
            connection.doOutput = true
            connection.setRequestProperty("Content-Type", "application/json")
            connection.outputStream.use { it.write(body.toByteArray()) }
        }
        val status = connection.responseCode
        val stream = if (status < 400) connection.inputStream else connection.errorStream
        val text = stream?.use { it.readBytes().decodeToString() } ?: ""
        return status to (if (text.isBlank()) null else Json.parse(text))
    }

    /** An admin call that must succeed. */
    fun admin(method: String, path: String, body: String? = null): Any? {
        val (status, value) = adminCall(method, path, body)
        check(status in 200..299) { "admin $method $path: $status $value" }
        return value
    }

    /** The newest outbox message of `kind` to `to`. */
    fun outbox(to: String, kind: String): Any? {
        val messages = admin("GET", "v1/admin/outbox?to=" + to.replace("+", "%2B")) as List<*>
        return messages.lastOrNull { it["kind"] == kind } ?: error("no $kind message to $to")
    }

    /** The newest one-time code sent to `to`. */
    fun code(to: String): String = outbox(to, "sign_in_code")["code"] as String

    /** The newest link of `kind` (`invitation`, `share`) sent to `to`. */
    fun link(to: String, kind: String): String = outbox(to, kind)["link"] as String

    override fun close() {
        process.destroy()
        process.waitFor(5, TimeUnit.SECONDS)
        dir.deleteRecursively()
    }
}

/** One lock as `keyway-lock serve` announced it (with its doorcode secret, for the door record). */
data class ServedLock(
    val door: String,
    val peripheral: String,
    val publicKey: ByteArray,
    val signingKey: ByteArray,
    val doorcodeSecret: ByteArray? = null,
)

/** `keyway-lock serve`: reference locks for `doors`, trusting `issuer`, on a socket. */
class LockServer(doors: List<String>, issuer: ByteArray) : AutoCloseable {
    private val dir: File = Files.createTempDirectory("keyway-locks").toFile()
    private val process: Process
    val port: Int
    val locks: List<ServedLock>

    init {
        val command = mutableListOf(
            binary("keyway.lock"), "serve", "--state-dir", File(dir, "state").path,
            "--trust-anchor", hex(issuer), "--listen", "127.0.0.1:0", "--print-doorcode-secrets",
        )
        doors.forEach { command += listOf("--door", it) }
        val (p, out) = start(command, File(dir, "lock.log"))
        process = p
        val first = out.readLine() ?: error("keyway-lock exited: ${File(dir, "lock.log").readText()}")
        port = first.substringAfterLast(':').toInt()
        val announced = mutableListOf<ServedLock>()
        while (true) {
            val line = out.readLine() ?: error("keyway-lock exited before it was ready")
            if (line == "ready") break
            val parts = line.split(" ")
            val (_, door, peripheral, publicKey, signingKey) = parts
            announced += ServedLock(door, peripheral, unhex(publicKey), unhex(signingKey), parts.getOrNull(5)?.let(::unhex))
        }
        locks = announced
    }

    fun lock(door: String): ServedLock = locks.first { it.door == door }

    override fun close() {
        process.destroy()
        process.waitFor(5, TimeUnit.SECONDS)
        dir.deleteRecursively()
    }
}
