// Every failure a person can meet reaches Kotlin as its own exception type, with the
// facts its screen needs: attempts left, the key's start time, the link's problem.
package app.keyway.test

import app.keyway.AccessState
import app.keyway.KeywayException
import app.keyway.LinkProblem
import app.keyway.AddressProblem
import app.keyway.AdapterState
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
        assertEquals(4u, e.attemptsLeft)
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
