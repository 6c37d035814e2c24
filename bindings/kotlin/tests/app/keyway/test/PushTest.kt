// Push through the generated Kotlin API (issue 18): an Android app registers its FCM token
// and hands each received message's data to handlePush, as FirebaseMessagingService's
// onMessageReceived would (`JSONObject(message.data).toString()`). A Keyway push brings a
// key granted while the app slept; other apps' pushes are left alone; junk is a typed error.
package app.keyway.test

import app.keyway.core.KeywayException
import app.keyway.core.PushOutcome
import app.keyway.core.PushPlatform
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.BeforeClass
import org.junit.Test

class PushTest {
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

    /** What FCM delivers for a Keyway push, as the app passes it on (the data map as JSON). */
    private fun keywayData(reason: String) = """{"keyway":"1","reason":"$reason"}"""

    @Test
    fun push_a_key_granted_while_the_app_sleeps_arrives_with_the_silent_push() = runBlocking {
        val email = scene.email("ana")
        val person = scene.inviteWithoutKeys(email)
        val phone = scene.phone()
        phone.acceptInvitation(email)
        phone.keyway.registerPushToken(PushPlatform.FCM, "fcm-registration-token-" + "x".repeat(140))
        assertTrue(phone.keyway.keys().isEmpty())

        scene.backend.admin(
            "POST", "v1/admin/people/$person/grants",
            """{"key_id":${scene.membersKey},"expires_at":${Scene.now() + Scene.DAY}}""",
        )
        val outcome = phone.keyway.handlePush(keywayData("keys"))
        assertTrue("a Keyway push refreshes: $outcome", outcome is PushOutcome.Refreshed)
        assertEquals(1, (outcome as PushOutcome.Refreshed).summary.keysChanged)
        assertEquals("Members", phone.keyway.keys().single().name)
        phone.keyway.forgetPushToken()
    }

    @Test
    fun push_from_another_service_is_passed_on_and_junk_is_a_typed_error() = runBlocking {
        val phone = scene.member("ben")
        assertEquals(PushOutcome.NotKeyway, phone.keyway.handlePush("""{"promo":"20% off"}"""))
        expect<KeywayException.PushNotUnderstood> { runBlocking { phone.keyway.handlePush("{message=hello}") } }
        Unit
    }
}
