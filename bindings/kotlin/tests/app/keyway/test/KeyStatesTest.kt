// A key screen's states through the generated Kotlin API: access suspended and restored,
// and a revocation with the administrator's words (issue 17: access_suspended, revoke_reason).
package app.keyway.test

import app.keyway.core.AccessState
import app.keyway.core.KeyStatus
import app.keyway.core.KeywayException
import app.keyway.core.RevokeReason
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.BeforeClass
import org.junit.Test

class KeyStatesTest {
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
    fun access_suspended_shows_suspended_refuses_the_door_and_returns_after_a_refresh() = runBlocking {
        val email = scene.email("dana")
        val (_, person) = scene.invite(email)
        val phone = scene.phone()
        phone.acceptInvitation(email)
        phone.keyway.unlock(scene.gate)

        scene.setAccess(person, enabled = false, message = "Rent overdue: see the front desk")
        phone.keyway.refresh()
        val status = phone.keyway.keys().single().status
        assertTrue("suspended, not revoked: $status", status is KeyStatus.Suspended)
        assertEquals("Rent overdue: see the front desk", (status as KeyStatus.Suspended).message)
        assertTrue(phone.keyway.accessState(scene.gate) is AccessState.Suspended)
        expect<KeywayException.AccessSuspended> { runBlocking { phone.keyway.unlock(scene.gate) } }

        scene.setAccess(person, enabled = true)
        phone.keyway.refresh()
        assertTrue(phone.keyway.keys().single().status is KeyStatus.Active)
        assertTrue(phone.keyway.accessState(scene.gate) is AccessState.Ready)
        phone.keyway.unlock(scene.gate)
        Unit
    }

    @Test
    fun revoke_reason_and_the_administrators_words_reach_the_key_screen() = runBlocking {
        val phone = scene.member("emil")
        val grant = phone.keyway.keys().single().grantId
        scene.backend.admin("POST", "v1/admin/grants/$grant/revoke", """{"message":"Your lease ended on 30 June"}""")
        phone.keyway.refresh()
        val status = phone.keyway.keys().single().status
        assertTrue("revoked: $status", status is KeyStatus.Revoked)
        status as KeyStatus.Revoked
        assertEquals(RevokeReason.BY_ADMINISTRATOR, status.reason)
        assertEquals("Your lease ended on 30 June", status.message)
        assertTrue(phone.keyway.accessState(scene.gate) is AccessState.Revoked)
    }
}
