// The member's own record through the generated Kotlin API (issue 17): an invitation
// with no key shows "no access yet" until a key is granted; the profile with names and
// the NFC card's numbers, offline from the cache; changing one's name; and deleting
// one's account, after which the phone holds nothing and the old session is refused.
package app.keyway.test

import app.keyway.core.AccountAccess
import app.keyway.core.KeywayException
import app.keyway.core.NameProblem
import app.keyway.core.PersonName
import app.keyway.core.SessionState
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.BeforeClass
import org.junit.Test

class ProfileTest {
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
    fun invitation_without_keys_shows_no_access_yet_until_a_granted_key_arrives_with_a_refresh() = runBlocking {
        val email = scene.email("ana")
        val person = scene.inviteWithoutKeys(email)
        val phone = scene.phone()
        val link = phone.keyway.parseLink(scene.backend.link(email, "invitation"))
        val preview = phone.keyway.previewInvitation(link)
        assertTrue(preview.keys.isEmpty())
        assertFalse(preview.givesAccess)
        assertTrue(preview.nameRequired)
        phone.keyway.sendInvitationCode(link)
        phone.keyway.acceptInvitationWithName(link, scene.backend.code(email), PersonName("Ana", "Ruiz"))

        val account = phone.keyway.accounts().single()
        assertEquals(AccountAccess.NO_ACCESS_YET, account.access)
        assertEquals("Maria Lopez", account.invitedBy)
        assertTrue(phone.keyway.keys().isEmpty())

        scene.backend.admin(
            "POST", "v1/admin/people/$person/grants",
            """{"key_id":${scene.membersKey},"expires_at":${Scene.now() + Scene.DAY}}""",
        )
        phone.keyway.refresh()
        assertEquals(AccountAccess.HAS_KEYS, phone.keyway.accounts().single().access)
        assertEquals("Members", phone.keyway.keys().single().name)
    }

    @Test
    fun profile_shows_names_and_the_card_number_and_update_name_refuses_a_blank_name() = runBlocking {
        val email = scene.email("cora")
        val (_, person) = scene.invite(email)
        scene.backend.admin(
            "POST", "v1/admin/people/$person/card",
            """{"card_id":"04 A2 2B B2","format":"hex","surface_id":"HG-0042"}""",
        )
        val phone = scene.phone()
        assertNull("nothing is cached before the first sign-in", phone.keyway.profile())
        phone.acceptInvitation(email)

        val profile = phone.keyway.profile()!!
        assertEquals(person, profile.personId)
        assertEquals(email, profile.email)
        assertEquals("04A22BB2", profile.card!!.hex)
        assertEquals("77736882", profile.card!!.decimal)
        assertEquals("HG-0042", profile.card!!.surfaceId)
        assertEquals("member", profile.memberships.single().role)

        val refused = expect<KeywayException.InvalidName> {
            runBlocking { phone.keyway.updateName(PersonName("Cora", "  ")) }
        }
        assertEquals(NameProblem.LAST_NAME_MISSING, refused.problem)
        val changed = phone.keyway.updateName(PersonName("Cora", "Díaz"))
        assertEquals("Díaz", changed.lastName)
        assertEquals("Díaz", phone.keyway.profile()!!.lastName)
    }

    @Test
    fun delete_account_leaves_nothing_on_the_phone_and_the_old_session_is_refused() = runBlocking {
        val phone = scene.member("eve")
        val session = String(phone.store.value("session")!!)
        val refreshToken = Regex("\"refresh_token\":\"([^\"]+)\"").find(session)!!.groupValues[1]
        assertTrue(phone.keyway.keys().isNotEmpty())

        phone.keyway.deleteAccount()

        assertEquals(emptySet<String>(), phone.store.names)
        assertEquals(SessionState.SIGNED_OUT, phone.keyway.sessionState())
        assertNull(phone.keyway.profile())
        assertTrue(phone.keyway.keys().isEmpty() && phone.keyway.accounts().isEmpty())
        val (status, _) = scene.backend.adminCall("POST", "v1/auth/refresh", """{"refresh_token":"$refreshToken"}""")
        assertEquals(401, status)
    }
}
