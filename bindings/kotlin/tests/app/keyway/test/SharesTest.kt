// Guest shares through the generated Kotlin API, as the app's screens use them: the
// member's list of shares (after a restart, revoking by the listed id), the guest's preview
// of a share link with each dead link as its own exception, and links pasted from chat apps.
package app.keyway.test

import app.keyway.Keyway
import app.keyway.core.KeywayException
import app.keyway.core.LinkKind
import app.keyway.core.LinkProblem
import app.keyway.core.ShareStatus
import app.keyway.core.KeyStatus
import app.keyway.core.RevokeReason
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.BeforeClass
import org.junit.Test
import java.nio.file.Files
import java.time.Instant

class SharesTest {
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
    fun share_list_after_a_restart_shows_each_share_and_revokes_by_the_listed_id(): Unit = runBlocking {
        val member = scene.email("mia")
        scene.invite(member)
        val cache = Files.createTempDirectory("keyway-shares").resolve("keyway.sqlite").toString()
        val radio = ServedRadio(scene.locks.port)
        val store = MemorySecureStore()
        val first = Phone(Keyway(scene.config().copy(cachePath = cache), radio, store), radio, store, scene)
        first.acceptInvitation(member)
        val grant = first.keyway.keys().single().grantId
        val pending = scene.email("pending-guest")
        val redeemer = scene.email("redeeming-guest")
        val ends = Instant.now().plusSeconds(6 * 3600)
        first.keyway.shareKey(grant, listOf(scene.gate), ends, pending)
        first.keyway.shareKey(grant, listOf(scene.gate, scene.pool), ends, redeemer)
        first.keyway.close()
        val guest = scene.phone()
        guest.signIn(redeemer)
        guest.keyway.redeemShare(guest.keyway.parseLink(scene.backend.link(redeemer, "share")))

        // The app restarts: the list comes from the service, newest first.
        val restarted = Phone(Keyway(scene.config().copy(cachePath = cache), radio, store), radio, store, scene)
        val shares = restarted.keyway.shares()
        assertEquals(listOf(redeemer, pending), shares.map { it.guest })
        assertEquals(listOf(ShareStatus.REDEEMED, ShareStatus.PENDING), shares.map { it.status })
        assertEquals(setOf("Back gate", "Pool"), shares[0].doors.map { it.name }.toSet())
        assertEquals(scene.gate, shares[1].doors.single().door)
        assertEquals(ends.epochSecond, shares[1].endsAt.epochSecond)
        assertTrue(shares[0].redeemedAt != null)
        assertNull(shares[1].redeemedAt)

        restarted.keyway.revokeShare(shares[0].shareId)
        assertEquals(ShareStatus.REVOKED, restarted.keyway.shares()[0].status)
        guest.keyway.refresh()
        val status = guest.keyway.keys().single().status
        assertTrue("the guest's key is revoked: $status", status is KeyStatus.Revoked)
        assertEquals(RevokeReason.BY_SHARER, (status as KeyStatus.Revoked).reason)
        expect<KeywayException.ShareNotFound> { runBlocking { guest.keyway.revokeShare(shares[1].shareId) } }
        restarted.close()
    }

    @Test
    fun guest_preview_shows_the_share_and_each_dead_link_is_its_own_exception(): Unit = runBlocking {
        val member = scene.email("noor")
        scene.backend.admin("POST", "v1/admin/orgs/${scene.orgId}/people", """{"email":${quote(member)},"name":"Noor Haddad"}""")
        scene.invite(member)
        val memberPhone = scene.phone()
        memberPhone.acceptInvitation(member)
        val grant = memberPhone.keyway.keys().single().grantId
        val guest = scene.email("visitor")
        val ends = Instant.now().plusSeconds(4 * 3600)
        val share = memberPhone.keyway.shareKey(grant, listOf(scene.gate), ends, guest)

        val guestPhone = scene.phone()
        val link = guestPhone.keyway.parseLink(scene.backend.link(guest, "share"))
        val preview = guestPhone.keyway.previewShare(link)
        assertEquals("Noor Haddad", preview.sharedBy)
        assertEquals("Harbour Gym", preview.organisation)
        assertEquals(listOf("Back gate"), preview.doors)
        assertEquals(guest, preview.signInAddress)
        assertEquals(ends.epochSecond, preview.endsAt.epochSecond)

        memberPhone.keyway.revokeShare(share.shareId)
        expect<KeywayException.ShareRevoked> { runBlocking { guestPhone.keyway.previewShare(link) } }
        val madeUp = guestPhone.keyway.parseLink("https://$LINK_HOST/share/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        expect<KeywayException.ShareNotFound> { runBlocking { guestPhone.keyway.previewShare(madeUp) } }

        val second = scene.email("second-visitor")
        memberPhone.keyway.shareKey(grant, listOf(scene.gate), ends, second)
        val secondLink = scene.backend.link(second, "share")
        val redeemingPhone = scene.phone()
        redeemingPhone.signIn(second)
        redeemingPhone.keyway.redeemShare(redeemingPhone.keyway.parseLink(secondLink))
        val otherDevice = scene.phone()
        expect<KeywayException.ShareAlreadyRedeemed> {
            runBlocking { otherDevice.keyway.previewShare(otherDevice.keyway.parseLink(secondLink)) }
        }
    }

    @Test
    fun pasted_links_from_a_chat_app_open_the_share_and_anything_else_is_refused(): Unit = runBlocking {
        val member = scene.member("pia")
        val grant = member.keyway.keys().single().grantId
        val guest = scene.email("chat-guest")
        member.keyway.shareKey(grant, listOf(scene.gate), Instant.now().plusSeconds(3600), guest)
        val link = scene.backend.link(guest, "share")
        val (head, tail) = link.substring(0, link.length / 2) to link.substring(link.length / 2)
        val phone = scene.phone()
        for (pasted in listOf("<$link>.", "($link),", "“$link”", "$head\n$tail", link.replace(LINK_HOST, LINK_HOST.uppercase()))) {
            val parsed = phone.keyway.parseLink(pasted)
            assertEquals(pasted, LinkKind.SHARED_KEY, parsed.kind())
            assertEquals(listOf("Back gate"), phone.keyway.previewShare(parsed).doors)
        }
        val http = expect<KeywayException.InvalidLink> { phone.keyway.parseLink("<${link.replace("https:", "http:")}>.") }
        assertEquals(LinkProblem.NOT_HTTPS, http.problem)
    }
}
