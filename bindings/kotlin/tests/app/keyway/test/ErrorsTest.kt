// Every failure a person can meet reaches Kotlin as its own exception type, with the
// facts its screen needs: attempts left, the key's start time, the link's problem.
package app.keyway.test

import app.keyway.core.AccessState
import app.keyway.core.KeywayException
import app.keyway.core.LinkProblem
import app.keyway.core.AddressProblem
import app.keyway.core.AdapterState
import app.keyway.core.ConfigError
import app.keyway.core.LockRefusal
import app.keyway.core.NameProblem
import app.keyway.core.UnlockPhase
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.BeforeClass
import org.junit.Test
import java.time.Instant

/** Runs `block` and returns the KeywayException of type `T` it threw; fails otherwise. */
inline fun <reified T : KeywayException> expect(block: () -> Unit): T {
    try {
        block()
    } catch (e: KeywayException) {
        if (e is T) return e
        fail("expected ${T::class.simpleName}, got ${e::class.simpleName}: ${e.message}")
    }
    fail("expected ${T::class.simpleName}, but the call succeeded")
    throw IllegalStateException("unreachable")
}

class ErrorsTest {
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

    /** A member who accepted an invitation; returns the phone and the person id. */
    private suspend fun member(name: String): Pair<Phone, Long> {
        val email = scene.email(name)
        val (_, person) = scene.invite(email)
        val phone = scene.phone()
        phone.acceptInvitation(email)
        return phone to person
    }

    @Test
    fun wrong_code_says_how_many_attempts_are_left() = runBlocking {
        val number = scene.phoneNumber()
        scene.phoneOnlyMember(number)
        val phone = scene.phone()
        val flow = phone.keyway.startSignIn(number)
        val right = scene.backend.code(number)
        val wrong = ((right.toInt() + 1) % 1_000_000).toString().padStart(6, '0')
        val e = expect<KeywayException.CodeWrong> { runBlocking { flow.verify(wrong) } }
        assertEquals(4, e.attemptsLeft)
        assertEquals("the code is not right; 4 attempts left", e.message)
        expect<KeywayException.CodeMalformed> { runBlocking { flow.verify("12ab") } }
        flow.verify(right)
    }

    @Test
    fun an_accepted_invitation_cannot_be_used_again() = runBlocking {
        val email = scene.email("hal")
        scene.invite(email)
        val phone = scene.phone()
        phone.acceptInvitation(email)
        val link = phone.keyway.parseLink(scene.backend.link(email, "invitation"))
        expect<KeywayException.InvitationAlreadyUsed> { runBlocking { scene.phone().keyway.previewInvitation(link) } }
        Unit
    }

    @Test
    fun cancelled_and_superseded_invitations_each_say_so() = runBlocking {
        val email = scene.email("ida")
        val (invitation, _) = scene.invite(email)
        val phone = scene.phone()
        val first = phone.keyway.parseLink(scene.backend.link(email, "invitation"))
        val resent = scene.backend.admin("POST", "v1/admin/invitations/$invitation/resend")["invitation_id"]
        expect<KeywayException.InvitationSuperseded> { runBlocking { phone.keyway.previewInvitation(first) } }
        val second = phone.keyway.parseLink(scene.backend.link(email, "invitation"))
        scene.backend.admin("POST", "v1/admin/invitations/$resent/cancel")
        expect<KeywayException.InvitationCancelled> { runBlocking { phone.keyway.previewInvitation(second) } }
        Unit
    }

    @Test
    fun links_and_addresses_are_refused_with_their_problem() = runBlocking {
        val phone = scene.phone()
        val http = expect<KeywayException.InvalidLink> { phone.keyway.parseLink("http://$LINK_HOST/invite/AbCdEfGhIjKlMnOpQrStUvWxYz012345") }
        assertEquals(LinkProblem.NOT_HTTPS, http.problem)
        val foreign = expect<KeywayException.InvalidLink> { phone.keyway.parseLink("https://evil.example/invite/AbCdEfGhIjKlMnOpQrStUvWxYz012345") }
        assertEquals(LinkProblem.UNTRUSTED_HOST, foreign.problem)
        val cut = expect<KeywayException.InvalidLink> { phone.keyway.parseLink("https://$LINK_HOST/invite/AbCd") }
        assertEquals(LinkProblem.INCOMPLETE, cut.problem)
        val address = expect<KeywayException.InvalidAddress> { runBlocking { phone.keyway.startSignIn("07700 900123") } }
        assertEquals(AddressProblem.INVALID_PHONE, address.problem)
        expect<KeywayException.NotSignedIn> { runBlocking { phone.keyway.refresh() } }
        Unit
    }

    @Test
    fun bluetooth_off_is_reported_before_the_radio_is_used() = runBlocking {
        val (phone, _) = member("jo")
        phone.radio.adapter = AdapterState.POWERED_OFF
        expect<KeywayException.BluetoothOff> { runBlocking { phone.keyway.unlock(scene.gate) } }
        assertFalse(phone.radio.calls.contains("startScan"))
        phone.radio.adapter = AdapterState.UNAUTHORIZED
        expect<KeywayException.BluetoothPermissionMissing> { runBlocking { phone.keyway.unlock(scene.gate) } }
        Unit
    }

    @Test
    fun a_door_out_of_range_is_reported_as_such() = runBlocking {
        val (phone, _) = member("kim")
        val peripheral = scene.locks.lock(scene.gate).peripheral
        phone.radio.setInRange(peripheral, false)
        try {
            expect<KeywayException.DoorNotInRange> { runBlocking { phone.keyway.unlock(scene.gate) } }
        } finally {
            phone.radio.setInRange(peripheral, true)
        }
        Unit
    }

    @Test
    fun a_revoked_key_is_refused() = runBlocking {
        val (phone, person) = member("lou")
        scene.revokeAll(person)
        phone.keyway.refresh()
        assertEquals(AccessState.Revoked, phone.keyway.accessState(scene.gate))
        expect<KeywayException.KeyRevoked> { runBlocking { phone.keyway.unlock(scene.gate) } }
        Unit
    }

    @Test
    fun a_key_that_starts_later_says_when() = runBlocking {
        val email = scene.email("max")
        val startsAt = Scene.now() + 2 * Scene.DAY
        scene.invite(email, startsAt = startsAt)
        val phone = scene.phone()
        phone.acceptInvitation(email)
        val e = expect<KeywayException.KeyNotYetValid> { runBlocking { phone.keyway.unlock(scene.gate) } }
        assertEquals(Instant.ofEpochSecond(startsAt), e.startsAt)
    }

    @Test
    fun a_door_id_that_is_not_one_is_an_unknown_door() = runBlocking {
        val (phone, _) = member("ned")
        expect<KeywayException.UnknownDoor> { runBlocking { phone.keyway.unlock("not-a-door") } }
        expect<KeywayException.NoKeyForDoor> { runBlocking { phone.keyway.unlock("0011223344556677") } }
        Unit
    }

    @Test
    fun a_locked_secure_store_is_its_own_error() = runBlocking {
        val (phone, _) = member("oli")
        phone.store.locked = true
        try {
            expect<KeywayException.SecureStoreLocked> { runBlocking { phone.keyway.unlock(scene.gate) } }
        } finally {
            phone.store.locked = false
        }
        Unit
    }
}

/** Every error variant, as a screen would receive it, reads as a sentence. */
class ErrorMessagesTest {
    @Test
    fun every_error_carries_a_sentence_a_person_can_read() {
        val at = Instant.ofEpochSecond(1_796_479_380)
        val all: List<KeywayException> = listOf(
            KeywayException.NotSignedIn(), KeywayException.SessionEnded(), KeywayException.Offline(),
            KeywayException.ServiceUnavailable(), KeywayException.InvalidAddress(AddressProblem.INVALID_PHONE),
            KeywayException.CodeMalformed(), KeywayException.CodeWrong(4), KeywayException.CodeExpired(),
            KeywayException.TooManyAttempts(at), KeywayException.ResendTooSoon(at),
            KeywayException.InvalidLink(LinkProblem.NOT_HTTPS), KeywayException.InvitationNotFound(),
            KeywayException.InvitationExpired(), KeywayException.InvitationSuperseded(),
            KeywayException.InvitationCancelled(), KeywayException.InvitationAlreadyUsed(),
            KeywayException.KeyNotShareable(), KeywayException.KeyRevoked(), KeywayException.AccessSuspended(), KeywayException.KeyExpired(at),
            KeywayException.KeyExpired(null), KeywayException.KeyNotYetValid(at), KeywayException.ShareNotFound(),
            KeywayException.ShareRevoked(),
            KeywayException.ShareExpired(), KeywayException.ShareAlreadyRedeemed(),
            KeywayException.ShareWrongRecipient(), KeywayException.CredentialMissing(),
            KeywayException.NoKeyForDoor(), KeywayException.UnknownDoor(), KeywayException.NoDoorcode(),
            KeywayException.DoorOnline(),
            KeywayException.DoorUpToDate(), KeywayException.BluetoothOff(),
            KeywayException.BluetoothPermissionMissing(), KeywayException.LocationServicesOff(),
            KeywayException.BluetoothUnavailable(),
            KeywayException.DoorNotInRange(), KeywayException.LockRefused(LockRefusal.UNKNOWN_ISSUER),
            KeywayException.LockTimedOut(UnlockPhase.HANDSHAKE), KeywayException.ConnectionLost(UnlockPhase.CONNECT),
            KeywayException.UntrustedLock(), KeywayException.LockClockWrong(at), KeywayException.Cancelled(),
            KeywayException.DeviceKeyUnavailable(),
            KeywayException.AuthenticationCancelled(), KeywayException.AuthenticationFailed(),
            KeywayException.DeviceLocked(), KeywayException.SecureStoreLocked(),
            KeywayException.BluetoothFailed("GATT status 133"), KeywayException.Internal("sqlite: disk I/O error"),
            KeywayException.InsecureConnection(), KeywayException.InvalidConfiguration(ConfigError.BackendNotHttps),
            KeywayException.InvalidName(NameProblem.TOO_LONG), KeywayException.PushNotUnderstood(),
        )
        // One of each variant (the Kotlin `when` below fails to compile if one is added).
        for (e in all) {
            when (e) {
                is KeywayException.NotSignedIn, is KeywayException.SessionEnded, is KeywayException.Offline,
                is KeywayException.ServiceUnavailable, is KeywayException.InvalidAddress, is KeywayException.CodeMalformed,
                is KeywayException.CodeWrong, is KeywayException.CodeExpired, is KeywayException.TooManyAttempts,
                is KeywayException.ResendTooSoon, is KeywayException.InvalidLink, is KeywayException.InvitationNotFound,
                is KeywayException.InvitationExpired, is KeywayException.InvitationSuperseded,
                is KeywayException.InvitationCancelled, is KeywayException.InvitationAlreadyUsed,
                is KeywayException.KeyNotShareable, is KeywayException.KeyRevoked, is KeywayException.AccessSuspended,
                is KeywayException.KeyExpired,
                is KeywayException.KeyNotYetValid, is KeywayException.ShareNotFound, is KeywayException.ShareRevoked, is KeywayException.ShareExpired,
                is KeywayException.ShareAlreadyRedeemed, is KeywayException.ShareWrongRecipient,
                is KeywayException.CredentialMissing, is KeywayException.NoKeyForDoor, is KeywayException.UnknownDoor,
                is KeywayException.NoDoorcode,
                is KeywayException.DoorOnline, is KeywayException.DoorUpToDate, is KeywayException.BluetoothOff,
                is KeywayException.BluetoothPermissionMissing, is KeywayException.LocationServicesOff,
                is KeywayException.BluetoothUnavailable,
                is KeywayException.DoorNotInRange, is KeywayException.LockRefused, is KeywayException.LockTimedOut,
                is KeywayException.ConnectionLost, is KeywayException.UntrustedLock, is KeywayException.LockClockWrong,
                is KeywayException.Cancelled,
                is KeywayException.DeviceKeyUnavailable, is KeywayException.AuthenticationCancelled,
                is KeywayException.AuthenticationFailed, is KeywayException.DeviceLocked,
                is KeywayException.SecureStoreLocked, is KeywayException.BluetoothFailed, is KeywayException.Internal,
                is KeywayException.InsecureConnection, is KeywayException.InvalidConfiguration,
                is KeywayException.InvalidName, is KeywayException.PushNotUnderstood -> Unit
            }
        }
        for (e in all) {
            val message = e.message
            assertTrue("${e::class.simpleName} has no message", !message.isNullOrBlank())
            assertFalse("${e::class.simpleName} reads as a field dump: $message", message!!.contains("="))
            assertFalse("${e::class.simpleName} shows support details: $message", message.contains("sqlite") || message.contains("133"))
        }
        assertEquals("this key is not valid until 2026-12-05 14:03 UTC", KeywayException.KeyNotYetValid(at).message)
        assertEquals(
            "the lock stopped answering while opening; try again closer to the door",
            KeywayException.LockTimedOut(UnlockPhase.HANDSHAKE).message,
        )
    }
}
