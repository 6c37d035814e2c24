// The member and guest journeys through the generated Kotlin API, against the reference
// backend and a served reference lock in their own processes.
package app.keyway.test

import app.keyway.core.AccessState
import app.keyway.core.CodeChannel
import app.keyway.DoorSyncListener
import app.keyway.core.DoorSyncProgress
import app.keyway.core.DoorSyncStage
import app.keyway.KeysListener
import app.keyway.core.Key
import app.keyway.core.KeyStatus
import app.keyway.core.LinkKind
import app.keyway.LogEntry
import app.keyway.LogLevel
import app.keyway.LogSink
import app.keyway.SessionListener
import app.keyway.core.SessionState
import app.keyway.core.UnlockPath
import app.keyway.bleProfile
import app.keyway.clearLogSink
import app.keyway.setLogSink
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.BeforeClass
import org.junit.Test
import java.time.Instant
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

class JourneysTest {
    companion object {
        lateinit var scene: Scene

        @BeforeClass @JvmStatic
        fun start() {
            scene = Scene()
        }

        @AfterClass @JvmStatic
        fun stop() {
            scene.close()
        }
    }

    @Test
    fun invited_member_previews_accepts_and_sees_the_key_to_the_gate() = runBlocking {
        val email = scene.email("ana")
        scene.invite(email)
        val phone = scene.phone()
        val sessions = LinkedBlockingQueue<SessionState>()
        val subscription = phone.keyway.subscribeSession(object : SessionListener {
            override fun onSessionChanged(state: SessionState) { sessions.put(state) }
        })
        assertEquals(SessionState.SIGNED_OUT, sessions.poll(5, TimeUnit.SECONDS))

        val link = phone.keyway.parseLink(scene.backend.link(email, "invitation"))
        assertEquals(LinkKind.INVITATION, link.kind())
        val preview = phone.keyway.previewInvitation(link)
        assertEquals("Harbour Gym", preview.organisation)
        assertEquals(email, preview.signInAddress)
        assertTrue(preview.linkExpiresAt.isAfter(Instant.now()))
        phone.keyway.sendInvitationCode(link)
        phone.keyway.acceptInvitation(link, scene.backend.code(email))

        assertEquals(SessionState.SIGNED_IN, sessions.poll(5, TimeUnit.SECONDS))
        subscription.cancel()
        val key = phone.keyway.keys().single()
        assertEquals("Members", key.name)
        assertEquals(setOf(scene.gate, scene.pool), key.doors.toSet())
        assertTrue(key.shareable && !key.guest && key.status is KeyStatus.Active)
        assertEquals("Harbour Gym", phone.keyway.accounts().single().organisation)
        assertTrue(phone.keyway.accessState(scene.gate) is AccessState.Ready)
        assertEquals(setOf(scene.gate, scene.pool), phone.keyway.doors().map { it.id }.toSet())
    }

    @Test
    fun phone_only_member_signs_in_with_a_texted_code_and_signs_out() = runBlocking {
        val number = scene.phoneNumber()
        scene.phoneOnlyMember(number)

        val phone = scene.phone()
        val flow = phone.keyway.startSignIn(number.substring(0, 6) + " " + number.substring(6))
        assertEquals(number, flow.address())
        assertEquals(CodeChannel.SMS, flow.codeSent().channel)
        assertTrue(flow.codeSent().expiresAt.isAfter(Instant.now()))
        flow.verify(scene.backend.code(number))
        assertEquals(SessionState.SIGNED_IN, phone.keyway.sessionState())
        assertEquals(listOf("Members"), phone.keyway.keys().map { it.name })
        // The Kotlin secure store holds the session; sign-out empties it.
        assertTrue(phone.store.names.isNotEmpty())
        phone.keyway.signOut()
        assertEquals(SessionState.SIGNED_OUT, phone.keyway.sessionState())
        assertEquals(emptySet<String>(), phone.store.names)
        assertTrue(phone.keyway.keys().isEmpty())
    }

    @Test
    fun member_opens_the_gate_with_a_standard_then_a_fast_unlock() = runBlocking {
        val email = scene.email("cleo")
        scene.invite(email)
        val phone = scene.phone()
        phone.acceptInvitation(email)

        val first = phone.keyway.unlock(scene.gate)
        assertEquals(UnlockPath.STANDARD, first.path)
        assertEquals(scene.gate, first.door)
        val second = phone.keyway.unlock(scene.gate)
        assertEquals(UnlockPath.FAST, second.path)
        assertTrue(second.lockTime.isAfter(Instant.now().minusSeconds(60)))
    }

    @Test
    fun door_sync_reports_each_stage_in_order_and_hands_in_the_receipt() = runBlocking {
        val email = scene.email("dev")
        scene.invite(email)
        val phone = scene.phone()
        phone.acceptInvitation(email)
        val events = LinkedBlockingQueue<DoorSyncProgress>()
        val subscription = phone.keyway.subscribeDoorSync(object : DoorSyncListener {
            override fun onDoorSyncProgress(progress: DoorSyncProgress) { events.put(progress) }
        })

        val outcome = phone.keyway.syncDoor(scene.gate)

        assertEquals(scene.gate, outcome.door)
        assertTrue(outcome.receiptDelivered)
        val stages = mutableListOf<DoorSyncStage>()
        while (stages.lastOrNull() != DoorSyncStage.DONE) {
            val event = events.poll(5, TimeUnit.SECONDS) ?: break
            assertEquals(scene.gate, event.door)
            stages += event.stage
        }
        subscription.cancel()
        assertEquals(
            listOf(
                DoorSyncStage.FETCHING_UPDATE, DoorSyncStage.CONNECTING, DoorSyncStage.APPLIED,
                DoorSyncStage.UPLOADING_RECEIPT, DoorSyncStage.DONE,
            ),
            stages,
        )
        assertFalse(phone.keyway.doors().single { it.id == scene.gate }.syncPending)
    }

    @Test
    fun guest_redeems_a_shared_key_and_opens_the_gate() = runBlocking {
        val member = scene.email("eve")
        scene.invite(member)
        val memberPhone = scene.phone()
        memberPhone.acceptInvitation(member)
        val grant = memberPhone.keyway.keys().single().grantId
        val guest = scene.email("guest")
        val share = memberPhone.keyway.shareKey(grant, listOf(scene.gate), Instant.now().plusSeconds(3600), guest)
        assertTrue(share.delivered)

        val guestPhone = scene.phone()
        val keyUpdates = LinkedBlockingQueue<List<Key>>()
        val subscription = guestPhone.keyway.subscribeKeys(object : KeysListener {
            override fun onKeysChanged(keys: List<Key>) { keyUpdates.put(keys) }
        })
        assertEquals(emptyList<Key>(), keyUpdates.poll(5, TimeUnit.SECONDS))
        guestPhone.signIn(guest)
        val link = guestPhone.keyway.parseLink(scene.backend.link(guest, "share"))
        assertEquals(LinkKind.SHARED_KEY, link.kind())
        guestPhone.keyway.redeemShare(link)

        val guestKey = guestPhone.keyway.keys().single()
        assertTrue(guestKey.guest)
        var seen: List<Key>? = null
        while (seen == null || seen.none { it.guest }) seen = keyUpdates.poll(5, TimeUnit.SECONDS) ?: break
        subscription.cancel()
        assertTrue("the keys listener saw the guest key", seen!!.any { it.guest })
        assertEquals(UnlockPath.STANDARD, guestPhone.keyway.unlock(scene.gate).path)
    }

    @Test
    fun the_core_log_reaches_the_app_without_codes_or_tokens() = runBlocking {
        val lines = CopyOnWriteArrayList<LogEntry>()
        setLogSink(object : LogSink {
            override fun log(entry: LogEntry) { lines += entry }
        }, LogLevel.TRACE)
        try {
            val email = scene.email("fay")
            scene.invite(email)
            val phone = scene.phone()
            phone.acceptInvitation(email)
            phone.keyway.unlock(scene.gate)
            phone.keyway.unlock(scene.gate)
            val code = scene.backend.code(email)
            val secrets = SecretScan.phoneSecrets(phone.store) + Secret("one-time code", code.toByteArray())
            val names = secrets.map { it.what }
            for (expected in listOf("access token", "refresh token", "device key scalar", "device key pkcs8")) {
                assertTrue("$expected is among $names", expected in names)
            }
            assertTrue("a ticket secret is among $names", names.any { it.startsWith("ticket/") })
            val log = lines.joinToString("\n") { "${it.level} ${it.target} ${it.message}" }
            val leaks = SecretScan.findLeaks(secrets, mapOf("the log" to log))
            assertTrue("secrets leaked: $leaks", leaks.isEmpty())
        } finally {
            clearLogSink()
        }
        assertTrue("the core logged something", lines.isNotEmpty())
    }

    @Test
    fun the_log_scan_finds_a_planted_token_ticket_secret_and_private_scalar() {
        val random = java.security.SecureRandom()
        val generator = java.security.KeyPairGenerator.getInstance("EC")
        generator.initialize(java.security.spec.ECGenParameterSpec("secp256r1"))
        val private = generator.generateKeyPair().private as java.security.interfaces.ECPrivateKey
        val scalar = SecretScan.privateScalar(private.encoded)
        assertEquals(32, scalar.size)
        assertEquals(private.s, SecretScan.scalarValue(scalar))
        val token = b64(ByteArray(32).also { random.nextBytes(it) })
        val ticketSecret = ByteArray(32).also { random.nextBytes(it) }
        val secrets = listOf(
            Secret("access token", token.toByteArray()),
            Secret("ticket secret", ticketSecret),
            Secret("device key scalar", scalar),
        )
        assertEquals(emptyList<String>(), SecretScan.findLeaks(secrets, mapOf("log" to "an innocent line")))
        val missed = mutableListOf<String>()
        for (secret in secrets) {
            val value = secret.value
            val hex = value.joinToString("") { "%02x".format(it) }
            val record = { at: Int -> ByteArray(at) { 7 } + value + byteArrayOf(1, 2, 3, 4, 5) }
            val written = mutableMapOf(
                "hex lower" to hex,
                "hex upper" to hex.uppercase(),
                "debug" to value.joinToString(", ", "[", "]") { (it.toInt() and 0xff).toString() },
                "base64 standard padded" to java.util.Base64.getEncoder().encodeToString(value),
                "base64 url unpadded" to b64(value),
                "record at 1, base64 standard" to java.util.Base64.getEncoder().encodeToString(record(1)),
                "record at 2, base64 url" to b64(record(2)),
            )
            if (secret.what == "access token") written["raw"] = token
            for ((how, text) in written) {
                val leaks = SecretScan.findLeaks(secrets, mapOf("log" to "INFO keyway: value=$text done"))
                assertTrue("only ${secret.what} was planted: $leaks", leaks.all { it.startsWith(secret.what) })
                if (leaks.isEmpty()) missed += "${secret.what} written $how"
            }
        }
        assertTrue("the scan missed planted secrets: $missed", missed.isEmpty())
    }

    @Test
    fun the_ble_profile_names_the_keyway_service() {
        val profile = bleProfile()
        assertEquals("8f1d0000-5b2e-4c6a-9a57-6b6579776179", profile.serviceUuid)
        assertEquals(0xFFFF.toUShort(), profile.companyId)
    }
}
